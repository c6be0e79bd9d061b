import { createHash } from 'node:crypto';

import {
  BINLOG_MAGIC,
  EventType,
  TransactionTracker,
  type BinlogEvent,
  type BinlogTransaction,
} from '../binlog/index.js';
import { MysqlGtidSet, parseMysqlGtid } from '../gtid/index.js';
import { SEGMENT_FORMAT, type DomainGtidRange, type SegmentHeader } from '../catalog/index.js';
import { CorruptDataError } from '../errors/index.js';

/** A cut segment: its header (checksum included) and its bytes, raw or already compressed. */
export interface CutSegment {
  header: SegmentHeader;
  /**
   * The uncompressed bytes, in order; their total length is `header.end - header.start`. Empty when
   * the builder's body compressed them as they arrived (`encoded`).
   */
  chunks: Buffer[];
  /** The bytes as one zstd frame (without the header frame), when the body compressed them. */
  encoded?: Buffer[];
}

/**
 * Where a segment's bytes go as soon as they certainly belong to the segment being built: the
 * builder writes them in order, then `finish`es the body when it cuts the segment, and starts a new
 * body for the next one. Only one body is in use at a time.
 */
export interface SegmentBody {
  /** Appends bytes of the segment. The body must copy what it keeps beyond the call. */
  write(chunk: Buffer): void;
  /** Ends the segment: the SHA-256 (hex) of everything written, and the bytes raw or encoded. */
  finish(): { sha256: string; chunks: Buffer[]; encoded?: Buffer[] };
  /** Drops everything written (the events will be streamed again). */
  discard(): void;
}

/** Options of SegmentBuilder. */
export interface SegmentBuilderOptions {
  /**
   * Makes the body of each new segment. Default: a body that keeps the raw chunks (`CutSegment.chunks`)
   * and hashes them at the cut.
   */
  body?: () => SegmentBody;
}

/** The default body: keeps the chunks themselves (no copy) and hashes them when finished. */
class RawSegmentBody implements SegmentBody {
  #chunks: Buffer[] = [];
  write(chunk: Buffer): void {
    this.#chunks.push(chunk);
  }
  finish(): { sha256: string; chunks: Buffer[] } {
    const hash = createHash('sha256');
    for (const c of this.#chunks) hash.update(c);
    const chunks = this.#chunks;
    this.#chunks = [];
    return { sha256: hash.digest('hex'), chunks };
  }
  discard(): void {
    this.#chunks = [];
  }
}

/** What adding an event did. */
export interface AddResult {
  /** The transaction the event completed, if any. */
  transaction: BinlogTransaction | undefined;
  /** The event was the file's ROTATE or STOP: the file is complete. */
  closesFile: boolean;
}

interface Stats {
  events: number;
  transactions: number;
  firstCommitUs: number | undefined;
  lastCommitUs: number | undefined;
  gtids: Map<string, DomainGtidRange>;
  gtidSet: MysqlGtidSet;
}

const emptyStats = (): Stats => ({
  events: 0,
  transactions: 0,
  firstCommitUs: undefined,
  lastCommitUs: undefined,
  gtids: new Map(),
  gtidSet: MysqlGtidSet.EMPTY,
});

/**
 * Collects the in-file events of a binlog stream into segments of one file each, cut only between
 * events. It remembers the last transaction boundary, so a flush can take the complete
 * transactions and leave an open one for the next segment; a transaction that alone reaches the
 * size limit is split (`cut('all')`) and both parts say `splitTransaction`.
 *
 * Bytes go to the segment's body (see {@link SegmentBody}: it may compress them at once) as soon as
 * they certainly belong to the next cut: everything up to the last transaction boundary, and the
 * events of an open transaction when nothing complete precedes it in the segment. Only the events
 * of an open transaction that follows complete ones are held raw (`heldBytes`), until its end or
 * the next cut.
 *
 * The first segment of a file starts at offset 0 with the 4-byte magic, so the segments of a file
 * concatenate into the file. Pure: no I/O, no clock.
 */
export class SegmentBuilder {
  readonly #timeline: string;
  readonly #newBody: () => SegmentBody;
  #file: string | undefined;
  #tracker: TransactionTracker | undefined;
  /** Offset of the first byte of the segment being built. */
  #start = 0;
  /** Offset of the next byte expected. */
  #position = 0;
  /** The body of the segment being built (created at its first byte). */
  #body: SegmentBody | undefined;
  /** Events of an open transaction not yet written to the body. */
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** Bytes of the segment (in the body and held). */
  #bytes = 0;
  /** Bytes of the segment up to the last transaction boundary (all in the body). */
  #boundaryBytes = 0;
  #complete: Stats = emptyStats();
  /** Events after the boundary (inside an open transaction). */
  #openEvents = 0;
  /** The buffer starts inside a transaction (the previous segment split it). */
  #startsInTransaction = false;
  #closed = false;
  #nextFile: string | undefined;

  /** @param timeline the timeline the segments belong to */
  constructor(timeline: string, opts: SegmentBuilderOptions = {}) {
    this.#timeline = timeline;
    this.#newBody = opts.body ?? (() => new RawSegmentBody());
  }

  /** The file being collected, once started. */
  get file(): string | undefined {
    return this.#file;
  }

  /** Offset of the next byte expected in the file. */
  get position(): number {
    return this.#position;
  }

  /** Bytes buffered (complete transactions and any open one). */
  get bufferedBytes(): number {
    return this.#bytes;
  }

  /**
   * Bytes of an open transaction held raw because complete transactions precede it in the segment;
   * a `cut('complete')` hands them to the next segment's body.
   */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** True when whole events up to a transaction boundary wait to be flushed. */
  get hasComplete(): boolean {
    return this.#complete.events > 0;
  }

  /** True when any event waits (complete or inside an open transaction). */
  get hasEvents(): boolean {
    return this.#complete.events + this.#openEvents > 0;
  }

  /** True when the file's ROTATE/STOP was added: the next event needs startFile. */
  get fileClosed(): boolean {
    return this.#closed;
  }

  /**
   * Starts collecting `file` at `position` (4: a new file, whose first segment starts at 0 with the
   * magic). A repeated announcement of the current file and position is ignored.
   *
   * @throws Error when events of the previous file are still buffered (flush them first)
   */
  startFile(file: string, position: number): void {
    if (this.#file === file && this.#position === position && !this.#closed) return;
    if (this.hasEvents) {
      throw new Error(
        `SegmentBuilder: ${this.#file} still has buffered events; cut them before starting ${file}`,
      );
    }
    this.#file = file;
    // the index needs boundaries, GTIDs and commit times only: no table names
    this.#tracker = new TransactionTracker(file, { tables: false });
    this.#closed = false;
    this.#nextFile = undefined;
    this.#startsInTransaction = false;
    this.#reset(position <= BINLOG_MAGIC.length ? 0 : position);
    this.#position = position;
    if (position <= BINLOG_MAGIC.length) {
      this.#write(BINLOG_MAGIC);
      this.#bytes = BINLOG_MAGIC.length;
      this.#boundaryBytes = BINLOG_MAGIC.length;
      this.#position = BINLOG_MAGIC.length;
    }
  }

  /**
   * Adds the next in-file event (`event.inFile`); events not in the file must not be added.
   *
   * @throws CorruptDataError when the event is not at the expected offset, comes after the file's
   *   ROTATE/STOP, or the transaction tracker finds the sequence damaged
   */
  add(event: BinlogEvent): AddResult {
    const file = this.#file;
    if (file === undefined || this.#closed) {
      throw new CorruptDataError(
        this.#file ?? 'binlog stream',
        event.offset,
        'an event arrived after the file ended (or before any file was announced); the stream is out of order. ' +
          'Restart the archiver: it resumes from the last stored segment',
      );
    }
    if (!event.inFile || event.offset !== this.#position) {
      throw new CorruptDataError(
        file,
        event.offset,
        `expected the event at offset ${this.#position}; the stream skipped or repeated bytes. ` +
          'Restart the archiver: it resumes from the last stored segment',
      );
    }
    const raw = event.raw;
    this.#held.push(raw);
    this.#heldBytes += raw.length;
    this.#bytes += raw.length;
    this.#position = event.endOffset;
    this.#openEvents += 1;
    const transaction = this.#tracker!.add(event);
    const type = event.typeCode;
    const closesFile = type === EventType.ROTATE || type === EventType.STOP;
    if (closesFile) {
      this.#closed = true;
      if (type === EventType.ROTATE) {
        const d = event.data;
        if (d?.kind === 'rotate') this.#nextFile = d.nextFile;
      }
    }
    if (transaction) this.#record(transaction);
    if (!this.#tracker!.inTransaction) this.#markBoundary();
    // an open transaction with nothing complete before it belongs to the next cut whatever it is
    else if (this.#complete.events === 0) this.#release();
    return { transaction, closesFile };
  }

  /**
   * Takes the buffered segment: `complete` takes everything up to the last transaction boundary
   * (undefined when that holds no event); `all` takes every buffered event, splitting an open
   * transaction. What is not taken stays buffered and starts the next segment.
   */
  cut(mode: 'complete' | 'all'): CutSegment | undefined {
    if (this.#file === undefined) return undefined;
    const all = mode === 'all';
    const events = this.#complete.events + (all ? this.#openEvents : 0);
    if (events === 0) return undefined;
    if (all) this.#release();
    const bytes = all ? this.#bytes : this.#boundaryBytes;
    const splitEnd = all && this.#openEvents > 0;
    const body = this.#body;
    this.#body = undefined;
    const { sha256, chunks, encoded } = body ? body.finish() : this.#newBody().finish();
    const s = this.#complete;
    const iso = (us: number | undefined): string | null =>
      us === undefined ? null : new Date(us / 1000).toISOString();
    const closesFile = this.#closed && bytes === this.#bytes;
    const header: SegmentHeader = {
      format: SEGMENT_FORMAT,
      timeline: this.#timeline,
      file: this.#file,
      start: this.#start,
      end: this.#start + bytes,
      sha256,
      firstCommit: iso(s.firstCommitUs),
      lastCommit: iso(s.lastCommitUs),
      gtids: Object.fromEntries(s.gtids),
      gtidSet: s.gtidSet.toString(),
      transactions: s.transactions,
      events,
      splitTransaction: this.#startsInTransaction || splitEnd,
      closesFile,
      ...(closesFile && this.#nextFile ? { nextFile: this.#nextFile } : {}),
    };
    // keep the rest: the held events of the open transaction (none after an 'all' cut)
    const held = this.#held;
    const heldBytes = this.#heldBytes;
    const restEvents = all ? 0 : this.#openEvents;
    this.#reset(this.#start + bytes);
    this.#held = held;
    this.#heldBytes = heldBytes;
    this.#bytes = heldBytes;
    this.#openEvents = restEvents;
    // what stays starts at a boundary, unless this cut split an open transaction
    this.#startsInTransaction = splitEnd;
    // nothing complete precedes the open transaction now: it belongs to the next cut
    this.#release();
    return encoded ? { header, chunks, encoded } : { header, chunks };
  }

  /** Drops everything buffered (after a stream error: the events are fetched again on reconnect). */
  discard(): void {
    this.#file = undefined;
    this.#tracker = undefined;
    this.#closed = false;
    this.#reset(0);
    this.#position = 0;
    this.#startsInTransaction = false;
  }

  #reset(start: number): void {
    this.#body?.discard();
    this.#body = undefined;
    this.#start = start;
    this.#held = [];
    this.#heldBytes = 0;
    this.#bytes = 0;
    this.#boundaryBytes = 0;
    this.#complete = emptyStats();
    this.#openEvents = 0;
    this.#pendingStats = emptyStats();
  }

  #write(chunk: Buffer): void {
    (this.#body ??= this.#newBody()).write(chunk);
  }

  /** Writes the held events to the body. */
  #release(): void {
    if (this.#heldBytes === 0) return;
    const body = (this.#body ??= this.#newBody());
    for (const c of this.#held) body.write(c);
    this.#held = [];
    this.#heldBytes = 0;
  }

  #record(trx: BinlogTransaction): void {
    // stats of the transaction go to the complete part once the boundary after it is marked
    const s = this.#pendingStats;
    s.transactions += 1;
    s.firstCommitUs ??= trx.commitTimestamp;
    s.lastCommitUs = trx.commitTimestamp;
    if (trx.gtid) {
      const m = /^(\d+)-\d+-\d+$/.exec(trx.gtid);
      if (m) {
        const seen = s.gtids.get(m[1]!);
        s.gtids.set(m[1]!, { first: seen?.first ?? trx.gtid, last: trx.gtid });
      } else {
        try {
          s.gtidSet = s.gtidSet.union(MysqlGtidSet.of(parseMysqlGtid(trx.gtid)));
        } catch {
          // an unparsable GTID only loses index detail, never data
        }
      }
    }
  }

  /** Stats of transactions completed since the last boundary (merged into #complete at the boundary). */
  #pendingStats: Stats = emptyStats();

  #markBoundary(): void {
    const p = this.#pendingStats;
    const c = this.#complete;
    c.events += this.#openEvents;
    c.transactions += p.transactions;
    c.firstCommitUs ??= p.firstCommitUs;
    if (p.lastCommitUs !== undefined) c.lastCommitUs = p.lastCommitUs;
    for (const [d, r] of p.gtids) {
      const seen = c.gtids.get(d);
      c.gtids.set(d, { first: seen?.first ?? r.first, last: r.last });
    }
    c.gtidSet = c.gtidSet.union(p.gtidSet);
    this.#pendingStats = emptyStats();
    this.#openEvents = 0;
    this.#release();
    this.#boundaryBytes = this.#bytes;
  }
}
