// Reads a binlog file as raw events: the 4-byte magic `\xfebin`, then events back to back, each
// framed by the event_size field of its 19-byte header.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
// https://mariadb.com/kb/en/overview-of-the-binary-log/
import { open, type FileHandle } from 'node:fs/promises';
import { eventCrc32Matches } from '../binlog/binlog-checksum.js';
import {
  BINLOG_MAGIC,
  CHECKSUM_SIZE,
  ENCRYPTED_BINLOG_MAGIC,
  EVENT_HEADER_SIZE,
  readEventHeader,
  type EventHeader,
} from '../binlog/event-header.js';
import { EventType } from '../binlog/event-type.js';
import {
  BinlogEncryptedError,
  ChecksumMismatchError,
  CorruptDataError,
  PitrError,
  messageOf,
} from '../errors/index.js';
import { fdeSaysEventsChecksummed } from '../binlog/format-description-event.js';

/** One event read from a binlog file. */
export interface BinlogFileEvent {
  /** The event's bytes (header, body, checksum): a private copy. */
  buffer: Buffer;
  /** The decoded common header. */
  header: EventHeader;
  /** Offset of the event's first byte in the file. */
  position: number;
}

/** Options of BinlogFileReader.open. */
export interface BinlogFileReaderOptions {
  /** Offset of the first event to read (default 4, the first event). Must be an event boundary. */
  from?: number;
  /** Bytes read per read() call (default 1 MiB). An event larger than this is read whole. */
  chunkBytes?: number;
  /**
   * Verify each event's CRC32 when the file's FORMAT_DESCRIPTION_EVENT says binlog_checksum=CRC32
   * (default true). The FDE at offset 4 is read even when `from` is later.
   */
  verifyChecksums?: boolean;
  /**
   * An incomplete event at the end of the file (a file still being written, or cut by a crash):
   * false (default) throws CorruptDataError('TRUNCATED_DATA'); true ends the iteration before it,
   * and `position` then tells where the complete events end.
   */
  allowPartialTail?: boolean;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/**
 * Streams the events of one binlog file from an offset, holding at most one chunk plus the
 * largest event in memory. Iterate once with `for await`; breaking out closes the file.
 *
 * Errors (thrown by open() or during iteration): CorruptDataError when the magic is missing, a
 * header is impossible (event_size < 19) or the file ends inside an event (TRUNCATED_DATA unless
 * `allowPartialTail`); ChecksumMismatchError when an event's CRC32 does not match;
 * BinlogEncryptedError when the file is encrypted at rest (MySQL's `\xfdbin` magic, or MariaDB's
 * START_ENCRYPTION_EVENT: every event before it is yielded first);
 * PitrError('INTERNAL') when the file cannot be read.
 */
export class BinlogFileReader implements AsyncIterable<BinlogFileEvent> {
  private offset: number;
  private done = false;
  private checksummed = false;

  private constructor(
    /** The file being read. */
    readonly path: string,
    private readonly handle: FileHandle,
    from: number,
    private readonly options: BinlogFileReaderOptions,
  ) {
    this.offset = from;
  }

  /**
   * Opens `path`, checks the magic and (when verifying checksums) reads the FORMAT_DESCRIPTION_EVENT.
   *
   * @throws PitrError('INTERNAL') when the file cannot be opened; CorruptDataError when it is not a
   *   binlog file.
   */
  static async open(path: string, options: BinlogFileReaderOptions = {}): Promise<BinlogFileReader> {
    const from = options.from ?? BINLOG_MAGIC.length;
    if (!Number.isSafeInteger(from) || from < BINLOG_MAGIC.length) {
      throw new RangeError(
        `cannot read ${path} from ${from}: the first event starts at ${BINLOG_MAGIC.length}`,
      );
    }
    const handle = await fsCall(path, 'open', () => open(path, 'r'));
    const reader = new BinlogFileReader(path, handle, from, options);
    try {
      await reader.readPreamble();
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    return reader;
  }

  /** Offset just past the last event returned (or `from` before the first). */
  get position(): number {
    return this.offset;
  }

  /** Whether events are CRC32-verified (the FDE says CRC32 and verifyChecksums is on). */
  get verifiesChecksums(): boolean {
    return this.checksummed;
  }

  /** Closes the file; iteration ends. Safe to call twice. */
  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.handle.close().catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<BinlogFileEvent> {
    const chunkBytes = Math.max(EVENT_HEADER_SIZE, this.options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    let buf = Buffer.alloc(0); // unread bytes; buf[0] is at file offset `this.offset`
    let eof = false;
    try {
      while (!this.done) {
        // Make sure a whole header, then a whole event, is in `buf`.
        let need = EVENT_HEADER_SIZE;
        if (buf.length >= EVENT_HEADER_SIZE) {
          const size = buf.readUInt32LE(9);
          if (size < EVENT_HEADER_SIZE) {
            throw new CorruptDataError(
              this.path,
              this.offset,
              `event_size ${size} is smaller than the 19-byte header: the file is damaged or ${this.offset} is not ` +
                'the start of an event',
            );
          }
          need = size;
        }
        if (buf.length < need) {
          if (eof) {
            if (buf.length === 0) return;
            if (this.options.allowPartialTail) return;
            throw new CorruptDataError(
              this.path,
              this.offset,
              `the file ends ${buf.length} bytes into an event of ${need >= EVENT_HEADER_SIZE && buf.length >= EVENT_HEADER_SIZE ? need : 'unknown size'}` +
                ' bytes. The last event is incomplete (the copy was cut short): fetch the file again from this offset.',
              { truncated: true },
            );
          }
          const chunk = Buffer.allocUnsafe(Math.max(chunkBytes, need - buf.length));
          const at = this.offset + buf.length;
          const { bytesRead } = await fsCall(this.path, `read at ${at}`, () =>
            this.handle.read(chunk, 0, chunk.length, at),
          );
          if (bytesRead === 0) eof = true;
          else
            buf =
              buf.length === 0
                ? chunk.subarray(0, bytesRead)
                : Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
          continue;
        }
        // A private copy, so the chunk can be released once its events are consumed.
        const event = Buffer.from(buf.subarray(0, need));
        buf = buf.subarray(need);
        const position = this.offset;
        if (this.checksummed) this.verify(event, position);
        // The events after a START_ENCRYPTION_EVENT are encrypted (MariaDB encrypt_binlog=ON).
        if (event[4] === EventType.START_ENCRYPTION)
          throw new BinlogEncryptedError(this.path, position, 'mariadb');
        this.offset += need;
        yield { buffer: event, header: readEventHeader(event), position };
      }
    } finally {
      await this.close();
    }
  }

  private verify(event: Buffer, position: number): void {
    if (event.length < EVENT_HEADER_SIZE + CHECKSUM_SIZE) {
      throw new CorruptDataError(
        this.path,
        position,
        `event of ${event.length} bytes has no room for its CRC32`,
      );
    }
    const isFde = event[4] === EventType.FORMAT_DESCRIPTION;
    if (!eventCrc32Matches(event, isFde)) {
      throw new ChecksumMismatchError(
        this.path,
        position,
        `the CRC32 of the ${event.length}-byte event does not match its trailer`,
      );
    }
  }

  private async readPreamble(): Promise<void> {
    const head = Buffer.alloc(BINLOG_MAGIC.length + EVENT_HEADER_SIZE);
    const { bytesRead } = await fsCall(this.path, 'read the magic', () =>
      this.handle.read(head, 0, head.length, 0),
    );
    if (bytesRead >= ENCRYPTED_BINLOG_MAGIC.length && head.subarray(0, 4).equals(ENCRYPTED_BINLOG_MAGIC)) {
      throw new BinlogEncryptedError(this.path, 0, 'mysql');
    }
    if (bytesRead < BINLOG_MAGIC.length || !head.subarray(0, BINLOG_MAGIC.length).equals(BINLOG_MAGIC)) {
      throw new CorruptDataError(
        this.path,
        0,
        `the file does not start with the binlog magic (fe 62 69 6e) but ${head.subarray(0, bytesRead).toString('hex').slice(0, 8) || 'is empty'}; it is not a binlog file`,
      );
    }
    if (!(this.options.verifyChecksums ?? true) || bytesRead < head.length) return;
    const header = readEventHeader(head, BINLOG_MAGIC.length);
    if (header.typeCode !== EventType.FORMAT_DESCRIPTION || header.eventSize < EVENT_HEADER_SIZE) return;
    const fde = Buffer.alloc(header.eventSize);
    const r = await fsCall(this.path, 'read the format description event', () =>
      this.handle.read(fde, 0, fde.length, BINLOG_MAGIC.length),
    );
    if (r.bytesRead < fde.length) return; // a truncated first event is reported by the iteration
    this.checksummed = fdeSaysEventsChecksummed(fde);
  }
}

async function fsCall<T>(path: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const advice = code === 'ENOENT' ? ' The file does not exist; check the path.' : '';
    throw new PitrError('INTERNAL', `binlog file ${path}: ${what} failed: ${messageOf(err)}.${advice}`, {
      cause: err,
    });
  }
}
