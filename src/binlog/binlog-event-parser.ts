// Push parser: byte chunks of a binlog file (or a replication stream) in, whole events out.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
// https://mariadb.com/kb/en/2-binlog-event-header/
//
// A file is the 4-byte magic `\xfebin`, then events back to back, each announcing its own size in
// its common header. The parser keeps a partial trailing event until the next chunk completes it, so
// chunks may be split anywhere. Offsets are counted here from the file start (64-bit safe up to 2^53),
// never taken from the header's 32-bit log_pos, which wraps past 4 GiB and is 0 in some events.

import { BinlogEncryptedError, ChecksumMismatchError, CorruptDataError } from '../errors/index.js';
import type { ChecksumAlgorithm } from './binlog-checksum.js';
import { eventCrc32Matches } from './binlog-checksum.js';
import { BinlogEvent, type EventContext, type PayloadDecompressor } from './binlog-event.js';
import { BinlogFormatError } from './binlog-format-error.js';
import type { FormatDescriptionEventData } from './decode-event-data.js';
import {
  BINLOG_MAGIC,
  CHECKSUM_SIZE,
  ENCRYPTED_BINLOG_MAGIC,
  EVENT_HEADER_SIZE,
  LOG_EVENT_ARTIFICIAL_F,
  OFFSET_FLAGS,
  peekEventSize,
  peekEventType,
} from './event-header.js';
import { EventType, eventTypeName } from './event-type.js';
import { decodeFormatDescriptionEvent, type FormatDescription } from './format-description-event.js';

/** Offset of the first event of every binlog file (just after the magic). */
export const FIRST_EVENT_OFFSET = BINLOG_MAGIC.length;

/** Offset of log_pos in the common header. */
const OFFSET_LOG_POS = 13;

/** Largest event accepted (the server's max_allowed_packet ceiling is 1 GiB; rows events stay below). */
const MAX_EVENT_SIZE = 1024 * 1024 * 1024;

/**
 * - `file`: a binlog file from its first byte (the magic is checked, the first event must be the
 *   FORMAT_DESCRIPTION_EVENT).
 * - `stream`: events as a source sends them to a replica (no magic): artificial ROTATEs, the FDE
 *   re-sent when a dump starts past offset 4, and heartbeats are emitted with `inFile` false and do
 *   not advance the offset.
 * - `payload`: the events inside a TRANSACTION_PAYLOAD (no magic, no checksums, `fde` required).
 */
export type BinlogParserMode = 'file' | 'stream' | 'payload';

/** Options of BinlogEventParser. */
export interface BinlogEventParserOptions {
  /** File or stream name used in error messages, e.g. `mysql-bin.000042` or `s3://.../mysql-bin.000042.zst`. */
  object: string;
  /** Default `file`. */
  mode?: BinlogParserMode;
  /**
   * Offset of the first byte pushed: 0 for a whole file (default in `file` mode), 4 for a stream from
   * the start of a file (default in `stream` mode), or wherever a dump or a ranged read starts.
   * In `file` mode a start above 0 means no magic is expected.
   */
  startOffset?: number;
  /** Verify the CRC32 of every event when the FDE says CRC32 (default true). */
  verifyChecksums?: boolean;
  /** The FDE in force when the input starts past it (a ranged read, a payload). */
  formatDescription?: FormatDescription;
  /**
   * Checksum algorithm of events that arrive before any FDE (`stream` mode: the source's
   * @@binlog_checksum, which decides whether the first artificial ROTATE has a trailer).
   */
  checksumAlgorithm?: ChecksumAlgorithm;
  /** Expands TRANSACTION_PAYLOAD bodies for `transactionPayloadEvents`; optional. */
  decompress?: PayloadDecompressor;
}

/**
 * Turns byte chunks into whole `BinlogEvent`s.
 *
 * ```ts
 * const parser = new BinlogEventParser({ object: 'mysql-bin.000001' });
 * for await (const chunk of stream) for (const event of parser.pushEach(chunk)) handle(event);
 * parser.end(); // throws TRUNCATED_DATA if the input stopped inside an event
 * ```
 *
 * `pushEach` yields every whole event before a damaged one, then throws: a reader that prints or
 * keeps events (`binlog inspect`) shows all the valid data before the damage. `push` returns a
 * chunk's events only when the whole chunk parsed, which is enough for callers that stop at the
 * first error anyway.
 *
 * Errors (all PitrError, each naming the object and the event's offset):
 * - ChecksumMismatchError (CHECKSUM_MISMATCH): an event's CRC32 does not match its bytes;
 * - CorruptDataError (CORRUPT_DATA): bad magic, an impossible event size; (TRUNCATED_DATA) from end();
 * - BinlogFormatError (BINLOG_FORMAT): not a v4 binlog, an unknown checksum algorithm;
 * - BinlogEncryptedError (BINLOG_ENCRYPTED): a MySQL encrypted file (magic `\xfdbin`) or a
 *   MariaDB START_ENCRYPTION_EVENT, after which every event is encrypted.
 * After an error the parser is unusable: the position of the next event is unknown.
 */
export class BinlogEventParser {
  private readonly object: string;
  private readonly mode: BinlogParserMode;
  private readonly verify: boolean;
  private readonly decompress: PayloadDecompressor | undefined;
  /** Chunks (or their tails) not yet forming a whole event. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes needed in `pending` before parsing can go on (magic, header, or the whole event). */
  private needed = 0;
  /** File offset of the first pending byte. */
  private offsetValue: number;
  private magicPending: boolean;
  private context: EventContext;
  private eventsSeen = 0;
  private failed: unknown;
  /** The current file name in `stream` mode (from artificial ROTATEs). */
  private currentFile: string | undefined;

  constructor(options: BinlogEventParserOptions) {
    this.object = options.object;
    this.mode = options.mode ?? 'file';
    this.verify = options.verifyChecksums ?? true;
    this.decompress = options.decompress;
    const defaultStart = this.mode === 'file' ? 0 : FIRST_EVENT_OFFSET;
    this.offsetValue = options.startOffset ?? defaultStart;
    this.magicPending = this.mode === 'file' && this.offsetValue === 0;
    const fde = options.formatDescription;
    if (this.mode === 'payload' && !fde) {
      throw new TypeError(
        'BinlogEventParser: payload mode needs the formatDescription of the enclosing file',
      );
    }
    this.context = this.makeContext(
      fde,
      this.mode === 'payload' ? 'OFF' : (fde?.checksumAlgorithm ?? options.checksumAlgorithm),
    );
  }

  /** File offset of the next byte the parser expects (the end of the last whole event, plus pending bytes). */
  get offset(): number {
    return this.offsetValue;
  }

  /** Bytes held back as a partial event. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** The FORMAT_DESCRIPTION_EVENT in force, once seen (or as given). */
  get formatDescription(): FormatDescription | undefined {
    return this.context.fde;
  }

  /** The checksum algorithm of the events (from the FDE), or undefined before it / for old servers. */
  get checksumAlgorithm(): ChecksumAlgorithm | undefined {
    return this.context.fde?.checksumAlgorithm ?? (this.context.checksumSize ? 'CRC32' : undefined);
  }

  /** In `stream` mode, the file named by the last artificial ROTATE. */
  get file(): string | undefined {
    return this.currentFile;
  }

  /**
   * Feeds the next chunk; returns the events it completed, in order. The events' `raw` buffers
   * share memory with the chunks (see BinlogEvent), so do not reuse a chunk's memory.
   *
   * @throws see the class comment
   */
  push(chunk: Buffer): BinlogEvent[] {
    const out: BinlogEvent[] = [];
    this.pushInto(chunk, out);
    return out;
  }

  /**
   * Feeds the next chunk and yields the events it completed one by one. When the chunk holds a
   * damaged event (bad CRC32, impossible size, encryption), every whole event before it is yielded
   * first, then the error is thrown (and thrown again by any later call).
   *
   * @throws see the class comment
   */
  *pushEach(chunk: Buffer): Generator<BinlogEvent, void, undefined> {
    const out: BinlogEvent[] = [];
    let failure: { error: unknown } | undefined;
    try {
      this.pushInto(chunk, out);
    } catch (error) {
      failure = { error };
    }
    yield* out;
    if (failure) throw failure.error;
  }

  private pushInto(chunk: Buffer, out: BinlogEvent[]): void {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return;
    let buf: Buffer;
    const pendingStart = this.offsetValue;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes < this.needed) return;
      buf = Buffer.concat(this.pending, this.pendingBytes);
    } else {
      buf = chunk;
    }
    this.pending = [];
    this.pendingBytes = 0;
    try {
      this.parse(buf, pendingStart, out);
    } catch (err) {
      this.failed = err;
      throw err;
    }
  }

  /**
   * Declares the end of the input.
   *
   * @throws CorruptDataError (TRUNCATED_DATA) when the input stopped inside an event (or before
   *   the magic), naming the offset where the partial event starts
   */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.pendingBytes === 0) {
      if (this.magicPending) {
        throw new CorruptDataError(
          this.object,
          0,
          'the input is empty: a binlog file has at least its 4-byte magic',
          {
            truncated: true,
          },
        );
      }
      return;
    }
    const head = Buffer.concat(this.pending, this.pendingBytes);
    let detail: string;
    if (this.magicPending) detail = `only ${head.length} bytes, shorter than the 4-byte binlog magic`;
    else if (head.length < EVENT_HEADER_SIZE)
      detail = `the last event has only ${head.length} of its 19 header bytes`;
    else {
      const size = peekEventSize(head);
      detail = `the last event (${eventTypeName(peekEventType(head))}) is ${size} bytes but only ${head.length} are there`;
    }
    throw new CorruptDataError(
      this.object,
      this.offsetValue,
      `${detail}. The file was cut short (a copy interrupted, or the active file read while being written); ` +
        'use the data before this offset only, and fetch the file again',
      { truncated: true },
    );
  }

  private makeContext(fde: FormatDescription | undefined, alg: ChecksumAlgorithm | undefined): EventContext {
    return {
      object: this.object,
      fde,
      checksumSize: alg === 'CRC32' ? CHECKSUM_SIZE : 0,
      decompress: this.decompress,
    };
  }

  private keep(buf: Buffer, pos: number, needed: number): void {
    const rest = buf.subarray(pos);
    this.pending = [rest];
    this.pendingBytes = rest.length;
    this.needed = needed;
  }

  private parse(buf: Buffer, startOffset: number, out: BinlogEvent[]): void {
    let pos = 0;
    this.offsetValue = startOffset;
    this.needed = 0;
    if (this.magicPending) {
      if (buf.length < BINLOG_MAGIC.length) {
        this.keep(buf, 0, BINLOG_MAGIC.length);
        return;
      }
      if (buf.compare(ENCRYPTED_BINLOG_MAGIC, 0, 4, 0, 4) === 0) {
        throw new BinlogEncryptedError(this.object, 0, 'mysql');
      }
      if (buf.compare(BINLOG_MAGIC, 0, BINLOG_MAGIC.length, 0, BINLOG_MAGIC.length) !== 0) {
        throw new CorruptDataError(
          this.object,
          0,
          `the file starts with 0x${buf.subarray(0, 4).toString('hex')}, not the binlog magic 0xfe62696e: it is not a binary log (or it is still compressed or encrypted)`,
        );
      }
      this.magicPending = false;
      pos = BINLOG_MAGIC.length;
      this.offsetValue += BINLOG_MAGIC.length;
    }
    while (pos < buf.length) {
      if (buf.length - pos < EVENT_HEADER_SIZE) {
        this.keep(buf, pos, EVENT_HEADER_SIZE);
        return;
      }
      const size = peekEventSize(buf, pos);
      this.checkSize(size, peekEventType(buf, pos));
      if (buf.length - pos < size) {
        this.keep(buf, pos, size);
        return;
      }
      out.push(this.emit(buf.subarray(pos, pos + size)));
      pos += size;
    }
    this.needed = 0;
  }

  private checkSize(size: number, typeCode: number): void {
    const min =
      EVENT_HEADER_SIZE + (typeCode === EventType.FORMAT_DESCRIPTION ? 0 : this.context.checksumSize);
    if (size < min || size > MAX_EVENT_SIZE) {
      throw new CorruptDataError(
        this.object,
        this.offsetValue,
        `event header declares a size of ${size} bytes (type ${eventTypeName(typeCode)}), outside ${min}..${MAX_EVENT_SIZE}. ` +
          'The file is damaged here (or this is not the start of an event); use the data before this offset only',
      );
    }
  }

  private emit(raw: Buffer): BinlogEvent {
    const offset = this.offsetValue;
    const typeCode = peekEventType(raw);
    let inFile = true;
    let data: FormatDescriptionEventData | undefined;
    const flags = raw.readUInt16LE(OFFSET_FLAGS);
    const logPos = raw.readUInt32LE(OFFSET_LOG_POS);
    if (this.mode === 'stream') {
      if (typeCode === EventType.HEARTBEAT || typeCode === EventType.HEARTBEAT_V2) inFile = false;
      else if (flags & LOG_EVENT_ARTIFICIAL_F) inFile = false;
      else if (typeCode === EventType.ROTATE && logPos === 0) inFile = false;
      else if (typeCode === EventType.FORMAT_DESCRIPTION && (logPos === 0 || offset !== FIRST_EVENT_OFFSET))
        inFile = false;
    }
    if (typeCode === EventType.FORMAT_DESCRIPTION) {
      // decodeFormatDescriptionEvent verifies the FDE's own CRC32 (masking the in-use flag).
      data = { kind: 'format-description', ...decodeFormatDescriptionEvent(raw, this.object, offset) };
      this.context = this.makeContext(data, data.checksumAlgorithm);
    } else {
      if (this.mode === 'file' && this.eventsSeen === 0 && offset === FIRST_EVENT_OFFSET) {
        throw new BinlogFormatError(
          this.object,
          offset,
          `the first event is ${eventTypeName(typeCode)}, not a FORMAT_DESCRIPTION_EVENT (binlog v4); a v1/v3 binlog (MySQL < 5.0) or a damaged file`,
        );
      }
      if (this.verify && this.context.checksumSize && !eventCrc32Matches(raw, false)) {
        throw new ChecksumMismatchError(
          this.object,
          offset,
          `${eventTypeName(typeCode)} event of ${raw.length} bytes: stored CRC32 0x${raw
            .readUInt32LE(raw.length - CHECKSUM_SIZE)
            .toString(16)
            .padStart(8, '0')} does not match its contents`,
        );
      }
      // Every event after this one is encrypted: its CRC32 would not match and its body is noise.
      if (typeCode === EventType.START_ENCRYPTION)
        throw new BinlogEncryptedError(this.object, offset, 'mariadb');
    }
    this.eventsSeen += 1;
    const event = new BinlogEvent(
      offset,
      inFile ? offset + raw.length : offset,
      raw,
      typeCode,
      inFile,
      this.context,
      data,
    );
    if (inFile) this.offsetValue += raw.length;
    if (this.mode === 'stream' && typeCode === EventType.ROTATE && !inFile) {
      const rotate = event.data;
      if (rotate?.kind === 'rotate') {
        this.currentFile = rotate.nextFile;
        this.offsetValue = rotate.position;
      }
    }
    return event;
  }
}
