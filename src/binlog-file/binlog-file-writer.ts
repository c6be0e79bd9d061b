// Writes a binlog file as MySQL/MariaDB lay it out on disk: the 4-byte magic `\xfebin`, then the
// events back to back, each exactly as the source sent it (header, body, CRC32 trailer).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
// https://mariadb.com/kb/en/overview-of-the-binary-log/
import { open, type FileHandle } from 'node:fs/promises';
import { BINLOG_MAGIC, EVENT_HEADER_SIZE, peekEventSize } from '../binlog/event-header.js';
import { CorruptDataError, PitrError, messageOf } from '../errors/index.js';

/** Options of BinlogFileWriter.open. */
export interface BinlogFileWriterOptions {
  /**
   * Resume an existing file at this offset (the end of the last complete event a previous run
   * recorded): the magic is checked, anything beyond the offset (a torn event after a crash) is
   * cut off, and appends continue there. Undefined: create a new file (an existing one is an error
   * unless `overwrite`).
   */
  resumeAt?: number;
  /** With no `resumeAt`, replace an existing file instead of failing (default false). */
  overwrite?: boolean;
  /**
   * Size of the one write buffer (default 1 MiB): appended events are copied into it and written
   * with one write() call when it is full; an event at least this big is written directly. This is
   * all the memory the writer holds. flush()/sync()/close() write what is collected.
   */
  bufferBytes?: number;
  /**
   * Check each event's header: event_size must equal the buffer length and a non-zero log_pos must
   * be the event's end offset in the file (mod 2^32). Catches a skipped or duplicated event before
   * it is written. Default true.
   */
  checkPositions?: boolean;
}

const DEFAULT_BUFFER_BYTES = 1024 * 1024;
const RESOLVED: Promise<void> = Promise.resolve();
const UINT32 = 2 ** 32;
/** Offset of log_pos in the 19-byte event header. */
const OFFSET_LOG_POS = 13;

/**
 * Appends raw binlog events to one binlog file. Not safe for concurrent use: await each call
 * before the next. Nothing is durable until sync() (or close({ sync: true })) resolves.
 *
 * Errors: file system failures are PitrError('INTERNAL', or 'STORAGE_NO_SPACE' when the disk is
 * full) naming the file and the operation (the cause attached); a header that does not fit the
 * position is CorruptDataError; resuming past the end of the file or into a file without the
 * magic is CorruptDataError ('TRUNCATED_DATA' or 'CORRUPT_DATA').
 */
export class BinlogFileWriter {
  /** Collects small appends; allocated on first use. */
  private buffer: Buffer | undefined;
  /** Bytes of `buffer` in use: appended, not yet written. */
  private used = 0;
  private written: number;
  private closed = false;

  private constructor(
    /** The file being written. */
    readonly path: string,
    private readonly handle: FileHandle,
    start: number,
    private readonly bufferBytes: number,
    private readonly checkPositions: boolean,
  ) {
    this.written = start;
  }

  /**
   * Creates `path` (writing the magic) or, with `resumeAt`, reopens it for appending at that offset.
   *
   * @throws PitrError('INTERNAL') when the file cannot be created or opened (exists without
   *   `overwrite`, missing directory, permissions); CorruptDataError when resuming a file that does
   *   not start with the binlog magic or is shorter than `resumeAt`.
   */
  static async open(path: string, options: BinlogFileWriterOptions = {}): Promise<BinlogFileWriter> {
    const bufferBytes = Math.max(1, options.bufferBytes ?? DEFAULT_BUFFER_BYTES);
    const checkPositions = options.checkPositions ?? true;
    const resumeAt = options.resumeAt;
    if (resumeAt === undefined) {
      const handle = await fsCall(path, 'create', () => open(path, options.overwrite ? 'w' : 'wx'));
      const writer = new BinlogFileWriter(path, handle, 0, bufferBytes, checkPositions);
      try {
        await writer.appendRaw(BINLOG_MAGIC);
      } catch (err) {
        await handle.close().catch(() => undefined);
        throw err;
      }
      return writer;
    }
    if (!Number.isSafeInteger(resumeAt) || resumeAt < BINLOG_MAGIC.length) {
      throw new RangeError(
        `cannot resume ${path} at ${resumeAt}: the first event starts at ${BINLOG_MAGIC.length}`,
      );
    }
    const handle = await fsCall(path, 'open for resuming', () => open(path, 'r+'));
    try {
      const { size } = await fsCall(path, 'stat', () => handle.stat());
      if (size < resumeAt) {
        throw new CorruptDataError(
          path,
          size,
          `cannot resume at offset ${resumeAt}: the file has only ${size} bytes. The local copy lost data ` +
            `(a failed disk or a copy from elsewhere); delete it and fetch the file again from position 4.`,
          { truncated: true },
        );
      }
      const magic = Buffer.alloc(BINLOG_MAGIC.length);
      await fsCall(path, 'read the magic', () => handle.read(magic, 0, magic.length, 0));
      if (!magic.equals(BINLOG_MAGIC)) {
        throw new CorruptDataError(
          path,
          0,
          `the file does not start with the binlog magic (fe 62 69 6e) but ${magic.toString('hex')}; it is not a ` +
            `binlog file. Move it away and fetch the binlog again from position 4.`,
        );
      }
      // Anything past the resume point is a torn write from a run that died mid-event.
      if (size > resumeAt) await fsCall(path, `truncate to ${resumeAt}`, () => handle.truncate(resumeAt));
      return new BinlogFileWriter(path, handle, resumeAt, bufferBytes, checkPositions);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /** The file offset the next appended event will have (magic and all appended events counted). */
  get position(): number {
    return this.written + this.used;
  }

  /** Bytes appended but not yet handed to the file system. */
  get bufferedBytes(): number {
    return this.used;
  }

  /**
   * Appends one event (header, body and checksum, as the source sent it). Small events are copied
   * into the write buffer (so the caller's buffer can be released at once), large ones written
   * directly. Await each call before the next; most resolve without touching the file system.
   *
   * @throws CorruptDataError when `checkPositions` finds the event does not belong at `position`;
   *   PitrError('INTERNAL') on a write failure or after close().
   */
  append(event: Buffer): Promise<void> {
    try {
      this.assertOpen('append to');
      if (this.checkPositions) this.checkEvent(event);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.appendRaw(event);
  }

  /** Not async: most appends only copy, and a shared resolved promise costs no allocation. */
  private appendRaw(bytes: Buffer): Promise<void> {
    if (this.used + bytes.length > this.bufferBytes) return this.flushThenAppend(bytes);
    this.copyIn(bytes);
    return this.used >= this.bufferBytes ? this.flush() : RESOLVED;
  }

  private async flushThenAppend(bytes: Buffer): Promise<void> {
    await this.flush();
    if (bytes.length < this.bufferBytes) {
      this.copyIn(bytes);
      return;
    }
    await this.writeAt(bytes, this.written);
    this.written += bytes.length;
  }

  private copyIn(bytes: Buffer): void {
    this.buffer ??= Buffer.allocUnsafe(this.bufferBytes);
    bytes.copy(this.buffer, this.used);
    this.used += bytes.length;
  }

  private async writeAt(data: Buffer, at: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await fsCall(this.path, `write ${data.length} bytes at ${at + done}`, () =>
        this.handle.write(data, done, data.length - done, at + done),
      );
      done += bytesWritten;
    }
  }

  /** Hands collected bytes to the file system (no fsync). */
  async flush(): Promise<void> {
    if (this.used === 0 || !this.buffer) return;
    const bytes = this.used;
    // on failure nothing moves: a retry rewrites the same bytes at the same offset
    await this.writeAt(this.buffer.subarray(0, bytes), this.written);
    this.used = 0;
    this.written += bytes;
  }

  /** flush(), then fsync: once this resolves, everything appended so far survives a crash. */
  async sync(): Promise<void> {
    this.assertOpen('sync');
    await this.flush();
    await fsCall(this.path, 'fsync', () => this.handle.sync());
  }

  /** Flushes (and with `sync`, fsyncs) and closes the file. Safe to call twice. */
  async close(options: { sync?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    try {
      if (options.sync) await this.sync();
      else await this.flush();
    } finally {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
  }

  private checkEvent(event: Buffer): void {
    const at = this.position;
    if (event.length < EVENT_HEADER_SIZE) {
      throw new CorruptDataError(
        this.path,
        at,
        `refusing to append ${event.length} bytes: shorter than an event header`,
      );
    }
    // only the two fields needed, without decoding the whole header (this runs for every event)
    const eventSize = peekEventSize(event);
    if (eventSize !== event.length) {
      throw new CorruptDataError(
        this.path,
        at,
        `refusing to append an event whose header says ${eventSize} bytes but which has ${event.length}`,
      );
    }
    const end = (at + event.length) % UINT32;
    const logPos = event.readUInt32LE(OFFSET_LOG_POS);
    if (logPos !== 0 && logPos !== end) {
      throw new CorruptDataError(
        this.path,
        at,
        `refusing to append an event that ends at log_pos ${logPos} at offset ${at} (it would end at ` +
          `${end}): an event is missing or repeated before it. Restart the stream from the last position written ` +
          `(${at}).`,
      );
    }
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new PitrError('INTERNAL', `cannot ${what} ${this.path}: the writer is closed`);
  }
}

async function fsCall<T>(path: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const advice =
      code === 'ENOSPC'
        ? ' The disk is full: free space and restart.'
        : code === 'EEXIST'
          ? ' The file already exists: resume it at its recorded position or move it away.'
          : code === 'EACCES' || code === 'EPERM'
            ? ' Check the permissions of the directory.'
            : code === 'ENOENT'
              ? ' Check that the directory exists.'
              : '';
    throw new PitrError(
      code === 'ENOSPC' ? 'STORAGE_NO_SPACE' : 'INTERNAL',
      `binlog file ${path}: ${what} failed: ${messageOf(err)}.${advice}`,
      {
        cause: err,
      },
    );
  }
}
