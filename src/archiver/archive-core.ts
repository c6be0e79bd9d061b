import { FramedEventReader, type ChecksumAlgorithm } from '../binlog/index.js';
import { compareBinlogFiles } from '../catalog/index.js';
import { FlushPolicy, type FlushReason } from './flush-policy.js';
import { SegmentBuilder, type CutSegment, type SegmentBody } from './segment-builder.js';

/** A segment the core decided to store, and why. */
export interface SegmentCut {
  segment: CutSegment;
  reason: FlushReason;
}

/** Options of {@link ArchiveCore}. */
export interface ArchiveCoreOptions {
  /** The timeline the segments belong to. */
  timeline: string;
  /** Where the dump starts (until an announced file says otherwise). */
  file: string;
  position: number;
  /** Checksum algorithm of the source's events (until a FORMAT_DESCRIPTION_EVENT says otherwise). */
  checksumAlgorithm: ChecksumAlgorithm;
  /** Names the stream in errors (`binlog stream from mysql://...`). */
  object: string;
  /** Makes each segment's body (hash + compression as the bytes arrive). Default: raw chunks. */
  body?: () => SegmentBody;
  /** See FlushPolicy. */
  flushIntervalMs?: number;
  segmentSize?: number;
  /**
   * Raw bytes of an open transaction held behind complete ones before those are cut, so that a
   * large transaction is compressed as it arrives (default 4 MiB, at most the segment size).
   */
  heldMax?: number;
}

/** Returned when nothing is to be stored: no array per event on the hot path. */
const NO_CUTS: readonly SegmentCut[] = Object.freeze([]);

/**
 * The archiver's pure decision core: it takes the items of a binlog dump (in-file events, re-sent
 * FORMAT_DESCRIPTION_EVENTs, announced files) and the time, and decides where segments end and
 * when they are stored (size, file rotation, the flush interval, the idle flush, the end of the
 * stream). It does no I/O and reads no clock: the caller passes `now`, stores the returned
 * segments in order, and arms a timer for {@link dueAt}. Unit-tested over the binlog fixtures
 * (`test/unit/archive-core.test.ts`); `BinlogArchiver` is the effects around it (connection,
 * lease, uploads, metrics).
 */
export class ArchiveCore {
  readonly #builder: SegmentBuilder;
  readonly #policy: FlushPolicy;
  readonly #reader: FramedEventReader;
  readonly #heldMax: number;
  readonly #file: string;
  readonly #position: number;

  /** @throws RangeError for a bad flush interval or segment size */
  constructor(opts: ArchiveCoreOptions) {
    this.#builder = new SegmentBuilder(opts.timeline, opts.body ? { body: opts.body } : {});
    this.#policy = new FlushPolicy({ flushIntervalMs: opts.flushIntervalMs, segmentSize: opts.segmentSize });
    this.#reader = new FramedEventReader({ object: opts.object, checksumAlgorithm: opts.checksumAlgorithm });
    this.#heldMax = Math.min(opts.heldMax ?? 4 * 1024 * 1024, this.#policy.segmentSize);
    this.#file = opts.file;
    this.#position = opts.position;
  }

  /** Bytes received and not yet in a stored segment's cut. */
  get bufferedBytes(): number {
    return this.#builder.bufferedBytes;
  }

  /** True when any event waits (complete or inside an open transaction). */
  get hasEvents(): boolean {
    return this.#builder.hasEvents;
  }

  /** When the interval flush is due (ms since the epoch): call {@link timer} then. */
  get dueAt(): number | undefined {
    return this.#policy.dueAt;
  }

  /**
   * An event of the file (`buffer` exactly as stored, CRC32 already verified by the stream) at
   * `position`, received at `now`.
   *
   * @throws CorruptDataError when the event is not where the file's next event must be
   */
  event(buffer: Buffer, position: number, now: number): readonly SegmentCut[] {
    const builder = this.#builder;
    if (builder.file === undefined) builder.startFile(this.#file, this.#position);
    const { transaction, closesFile } = builder.add(this.#reader.read(buffer, position, true));
    if (transaction) this.#policy.transactionEnded(now);
    const reason = this.#policy.decide(now, { bufferedBytes: builder.bufferedBytes, rotated: closesFile });
    if (reason) return this.#flush(reason, now);
    // an open transaction held behind complete ones: cut those, so it is compressed as it arrives
    if (builder.heldBytes >= this.#heldMax && builder.hasComplete) return this.#flush('size', now);
    return NO_CUTS;
  }

  /** The file's FORMAT_DESCRIPTION_EVENT re-sent (not in the file): it says how events decode. */
  formatDescriptionResend(buffer: Buffer, position: number): void {
    this.#reader.read(buffer, position, false);
  }

  /**
   * The source announced `file` from `position` (an artificial ROTATE) at `now`. A file that
   * ended without ROTATE (the source crashed) is stored as it is.
   */
  fileAnnounced(file: string, position: number, now: number): readonly SegmentCut[] {
    const builder = this.#builder;
    if (builder.file === file && !builder.fileClosed) return NO_CUTS;
    const cuts = builder.hasEvents ? this.#flush('rotate', now) : NO_CUTS;
    builder.startFile(file, position);
    return cuts;
  }

  /** Nothing more is waiting in the stream: store what is complete if one interval has passed. */
  idle(now: number): readonly SegmentCut[] {
    if (!this.#builder.hasComplete || !this.#policy.idleDue(now)) return NO_CUTS;
    return this.#flush('idle', now);
  }

  /** The timer armed for {@link dueAt} fired. */
  timer(now: number): readonly SegmentCut[] {
    if (this.#policy.decide(now, { bufferedBytes: this.#builder.bufferedBytes }) !== 'interval')
      return NO_CUTS;
    return this.#flush('interval', now);
  }

  /** The stream ended: what is complete is stored, an open transaction is streamed again next time. */
  end(): readonly SegmentCut[] {
    const segment = this.#builder.cut('complete');
    return segment ? [{ segment, reason: 'end' }] : NO_CUTS;
  }

  #flush(reason: FlushReason, now: number): SegmentCut[] {
    const builder = this.#builder;
    const cuts: SegmentCut[] = [];
    if (reason === 'size') {
      // complete transactions first; then split a transaction that alone fills a segment
      if (builder.hasComplete) cuts.push({ segment: builder.cut('complete')!, reason });
      while (builder.bufferedBytes >= this.#policy.segmentSize) {
        const segment = builder.cut('all');
        if (!segment) break;
        cuts.push({ segment, reason });
      }
    } else {
      const segment = builder.cut(reason === 'rotate' ? 'all' : 'complete');
      if (segment) cuts.push({ segment, reason });
    }
    this.#policy.flushed(now);
    return cuts;
  }
}

/** What the source had when the catch-up started, and what is durable now. */
export interface CatchUpState {
  target: { file: string; position: number } | undefined;
  durable: { file: string; end: number; closesFile: boolean; nextFile: string | undefined } | undefined;
}

/** True when the durable end has reached the catch-up target. Pure. */
export function isCaughtUp({ target, durable }: CatchUpState): boolean {
  if (!target || !durable) return false;
  const cmp = compareBinlogFiles(durable.file, target.file);
  if (cmp > 0) return true;
  if (cmp === 0) return durable.end >= target.position;
  // the durable file closed, and the target is the file after it at its first event
  return durable.closesFile && durable.nextFile === target.file && target.position <= 4;
}
