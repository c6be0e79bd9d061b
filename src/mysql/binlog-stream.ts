// The raw event stream of a binlog dump, as an AsyncIterable with back-pressure.
// Event framing: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
import {
  EVENT_HEADER_SIZE,
  LOG_EVENT_ARTIFICIAL_F,
  OFFSET_EVENT_SIZE,
  OFFSET_FLAGS,
  OFFSET_LOG_POS,
  OFFSET_TYPE,
  readEventHeader,
  type EventHeader,
} from '../binlog/event-header.js';
import { eventCrc32Matches } from '../binlog/binlog-checksum.js';
import { EventType } from '../binlog/event-type.js';
import { fdeSaysEventsChecksummed } from '../binlog/format-description-event.js';
import { ChecksumMismatchError, CorruptDataError, type PitrError } from '../errors/index.js';
import type { BinlogDumpSink } from './binlog-dump-command.js';
import type { ServerError } from './err-packet.js';
import { readRotateEvent } from '../binlog/rotate-event.js';

/** Offset of the first event in every binlog file (after the 4-byte magic). */
export const FIRST_EVENT_POSITION = 4;

/**
 * What an item of the stream is:
 * - 'rotate-artificial': the source's announcement of the file that follows (first item of a dump and
 *   again whenever the source moves to the next file). Not in any file. timestamp 0, log_pos 0,
 *   LOG_EVENT_ARTIFICIAL_F.
 * - 'format-description-resend': the file's FORMAT_DESCRIPTION_EVENT sent again because the dump started
 *   past position 4 (log_pos 0). Already in the file; never write it again.
 * - 'heartbeat': sent by the source when idle (HEARTBEAT_LOG_EVENT, HEARTBEAT_LOG_EVENT_V2). Not in any file.
 * - 'event': an event of the file, at `position`.
 */
export type BinlogStreamEventKind = 'rotate-artificial' | 'format-description-resend' | 'heartbeat' | 'event';

/** One item of the binlog stream. */
export interface BinlogStreamEvent {
  /**
   * The event exactly as stored in the binlog file: header, body and checksum. A view of the
   * received bytes that nothing else writes to: keep it as long as needed, do not modify it. (It
   * keeps its socket read, up to 64 KiB, alive: copy small events you hold for long.)
   */
  buffer: Buffer;
  /** The decoded 19-byte common header. */
  readonly header: EventHeader;
  /** The event type (header byte 4), see EventType. */
  readonly typeCode: number;
  kind: BinlogStreamEventKind;
  /** The binlog file: for 'rotate-artificial' the file that starts now, otherwise the current file. */
  file: string;
  /**
   * For 'event': the offset of the event's first byte in `file`. For 'rotate-artificial': where the
   * stream continues in `file`. Otherwise: the offset the next event will have.
   */
  position: number;
}

/** A stream item; its header is decoded only when asked for (most consumers need the type only). */
class StreamItem implements BinlogStreamEvent {
  #header: EventHeader | undefined;

  constructor(
    readonly buffer: Buffer,
    readonly typeCode: number,
    readonly kind: BinlogStreamEventKind,
    readonly file: string,
    readonly position: number,
  ) {}

  get header(): EventHeader {
    return (this.#header ??= readEventHeader(this.buffer));
  }
}

/** Counters of a stream, for tests and monitoring. */
export interface BinlogStreamStats {
  /** Items received (all kinds). */
  events: number;
  /** Bytes of items received. */
  bytes: number;
  heartbeats: number;
  /** Bytes received but not yet taken by the consumer. */
  bufferedBytes: number;
  /** The largest bufferedBytes seen. Stays below highWaterMark + the largest single event. */
  peakBufferedBytes: number;
  /** Times the socket was paused because the consumer was slow. */
  pauses: number;
  /** The largest single event received. */
  largestEvent: number;
  /** Times the connection was declared dead because nothing arrived (idleTimeoutMs). */
  idleTimeouts: number;
}

/** The connection controls the stream needs (a mysql2 core connection fits). */
export interface StreamControl {
  pause(): void;
  resume(): void;
  /** Ends the connection now; resolves when the socket is closed. */
  destroy(): Promise<void>;
  /** Bytes read from the socket so far (liveness: a large event arriving slowly is progress). */
  bytesRead?(): number;
}

/** What the source said about itself when the dump was opened. */
export interface DumpSourceInfo {
  flavor: 'mariadb' | 'mysql';
  /** VERSION() of the source. */
  version: string;
  /** @@global.binlog_checksum at connect time (CRC32 or NONE). */
  binlogChecksum: string;
  /** The source's @@server_id. */
  serverId: number;
}

/** Options of BinlogStream. */
export interface BinlogStreamOptions {
  /** File and position the dump was asked for (until the first artificial ROTATE says otherwise). */
  file: string;
  position: number;
  /**
   * Pause the socket when this many bytes wait for the consumer (default 4 MiB: more only keeps
   * more small buffers alive long enough to be promoted out of the young GC generation).
   */
  highWaterMarkBytes?: number;
  /** Resume when the consumer has brought the buffer down to this (default highWaterMark / 2). */
  lowWaterMarkBytes?: number;
  /**
   * Verify the CRC32 of every in-file event (and re-sent FDE) when the file's
   * FORMAT_DESCRIPTION_EVENT says binlog_checksum=CRC32 (default true). A mismatch ends the stream
   * with ChecksumMismatchError.
   */
  verifyChecksums?: boolean;
  /**
   * Declare the connection dead when nothing at all (no event, no heartbeat, no byte) arrived for
   * this many ms while the consumer kept up (default 0: never). Set it to twice the heartbeat
   * period: a network path that stops forwarding without closing the connection (a lost NAT or
   * VIP state, a stalled VM) is otherwise never noticed, because the replica only reads. The
   * stream then ends with the connection error; time the socket was paused for back-pressure does
   * not count. Measured on the monotonic clock.
   */
  idleTimeoutMs?: number;
  /** Turns a server error packet or a connection failure into the error to throw. */
  toError(err: Error, where: { file: string; position: number }): PitrError;
}

interface Waiter {
  resolve(result: IteratorResult<BinlogStreamEvent>): void;
  reject(err: unknown): void;
}

/**
 * The events of one binlog dump, in order. Iterate it once (`for await`); breaking out of the loop
 * or calling close() ends the dump. Ends by itself on EOF (non-blocking dumps); throws the typed
 * error (MysqlServerError, BinlogUnavailableError, MysqlConnectionError, CorruptDataError) after
 * the events received before it.
 *
 * Back-pressure: when `highWaterMarkBytes` of events wait for the consumer, the socket is paused
 * (TCP flow control then stops the source); it resumes at `lowWaterMarkBytes`. Memory held is
 * at most highWaterMark + one event + one socket read.
 */
export class BinlogStream implements AsyncIterable<BinlogStreamEvent>, BinlogDumpSink {
  private control: StreamControl | undefined;
  private readonly queue: BinlogStreamEvent[] = [];
  private head = 0;
  private waiter: Waiter | undefined;
  private error: PitrError | undefined;
  private ended = false;
  private closed = false;
  private paused = false;
  private currentFile: string;
  private currentPosition: number;
  private readonly highWaterMark: number;
  private readonly lowWaterMark: number;
  private readonly stat: BinlogStreamStats = {
    events: 0,
    bytes: 0,
    heartbeats: 0,
    bufferedBytes: 0,
    peakBufferedBytes: 0,
    pauses: 0,
    largestEvent: 0,
    idleTimeouts: 0,
  };
  /** Whether the current file's events carry a CRC32 (from its FORMAT_DESCRIPTION_EVENT). */
  private crc32 = false;
  private firstSettled = false;
  private firstResolve!: () => void;
  private firstReject!: (err: unknown) => void;
  /** Settles when the first packet arrived: resolves on an event or EOF, rejects on an error. */
  readonly started: Promise<void>;

  constructor(private readonly options: BinlogStreamOptions) {
    this.currentFile = options.file;
    this.currentPosition = options.position;
    this.highWaterMark = Math.max(1, options.highWaterMarkBytes ?? 4 * 1024 * 1024);
    this.lowWaterMark = Math.min(this.highWaterMark, options.lowWaterMarkBytes ?? this.highWaterMark / 2);
    this.started = new Promise<void>((resolve, reject) => {
      this.firstResolve = resolve;
      this.firstReject = reject;
    });
    // the caller awaits `started` or iterates; never let it be an unhandled rejection
    this.started.catch(() => undefined);
  }

  private sourceInfo: DumpSourceInfo | undefined;

  /** Connects the stream to its connection (before the dump command is sent). */
  attach(control: StreamControl, source: DumpSourceInfo): void {
    this.control = control;
    this.sourceInfo = source;
    const idle = this.options.idleTimeoutMs ?? 0;
    if (idle > 0) this.watch(idle);
  }

  private watchdog: NodeJS.Timeout | undefined;

  /**
   * Checks every idle/8 ms that bytes still arrive (or the socket is paused by back-pressure);
   * fails the stream once none did for `idle` ms.
   */
  private watch(idle: number): void {
    let lastRead = -1;
    let lastProgress = performance.now();
    this.watchdog = setInterval(
      () => {
        if (this.closed || this.ended || this.error) {
          this.stopWatchdog();
          return;
        }
        const read = this.control?.bytesRead?.() ?? this.stat.bytes;
        const now = performance.now();
        if (read !== lastRead || this.paused) {
          lastRead = read;
          lastProgress = now;
          return;
        }
        if (now - lastProgress < idle) return;
        this.stopWatchdog();
        this.stat.idleTimeouts += 1;
        this.onFailure(
          new Error(
            `no event and no heartbeat for ${Math.round(now - lastProgress)} ms (the limit is ${idle} ms, twice the ` +
              'heartbeat period): the connection is dead although it was not closed (a network path that stopped ' +
              'forwarding, a moved address, a stalled source host); dropping it',
          ),
        );
      },
      Math.max(10, Math.floor(idle / 8)),
    );
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /** What the source said about itself when the dump was opened. */
  get source(): DumpSourceInfo {
    if (!this.sourceInfo) throw new Error('BinlogStream is not attached to a connection');
    return this.sourceInfo;
  }

  /** The binlog file the next event belongs to. */
  get file(): string {
    return this.currentFile;
  }

  /** The offset in `file` the next in-file event will have (as received, not as consumed). */
  get position(): number {
    return this.currentPosition;
  }

  /** Bytes received and not yet taken by the consumer. */
  get bufferedBytes(): number {
    return this.stat.bufferedBytes;
  }

  /** A snapshot of the counters. */
  get stats(): BinlogStreamStats {
    return { ...this.stat };
  }

  private settleFirst(err?: unknown): void {
    if (this.firstSettled) return;
    this.firstSettled = true;
    if (err === undefined) this.firstResolve();
    else this.firstReject(err);
  }

  // ---- BinlogDumpSink (called by the dump command, in arrival order) ----

  onEvent(view: Buffer): void {
    if (this.closed || this.error) return;
    if (view.length < EVENT_HEADER_SIZE) {
      this.fail(
        new CorruptDataError(
          `binlog stream ${this.currentFile}`,
          this.currentPosition,
          `event packet of ${view.length} bytes is shorter than the 19-byte event header`,
        ),
      );
      return;
    }
    // No copy: mysql2 hands over a view of the socket read (or of a reassembled multi-packet
    // payload), and Node allocates a fresh buffer for every socket read, so the bytes never change
    // under us. Queued events keep their reads alive, which is what bufferedBytes counts anyway.
    const buffer = view;
    const eventSize = buffer.readUInt32LE(OFFSET_EVENT_SIZE);
    if (eventSize !== buffer.length) {
      this.fail(
        new CorruptDataError(
          `binlog stream ${this.currentFile}`,
          this.currentPosition,
          `event header says ${eventSize} bytes but the packet carries ${buffer.length}`,
        ),
      );
      return;
    }
    let item: BinlogStreamEvent;
    try {
      item = this.classify(buffer);
      if (item.kind === 'event' || item.kind === 'format-description-resend') this.verify(item);
    } catch (err) {
      this.fail(err as PitrError);
      return;
    }
    this.stat.events += 1;
    this.stat.bytes += buffer.length;
    if (buffer.length > this.stat.largestEvent) this.stat.largestEvent = buffer.length;
    if (item.kind === 'heartbeat') this.stat.heartbeats += 1;
    this.settleFirst();
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.queue.push(item);
    this.stat.bufferedBytes += buffer.length;
    if (this.stat.bufferedBytes > this.stat.peakBufferedBytes)
      this.stat.peakBufferedBytes = this.stat.bufferedBytes;
    if (!this.paused && this.stat.bufferedBytes >= this.highWaterMark) {
      this.paused = true;
      this.stat.pauses += 1;
      this.control?.pause();
    }
  }

  onEnd(): void {
    if (this.closed || this.error) return;
    this.ended = true;
    this.settleFirst();
    const waiter = this.waiter;
    if (waiter && this.head >= this.queue.length) {
      this.waiter = undefined;
      waiter.resolve({ value: undefined, done: true });
    }
    // the dump is over: release the connection
    this.stopWatchdog();
    void this.control?.destroy();
  }

  onServerError(err: ServerError): void {
    this.fail(this.options.toError(err, { file: this.currentFile, position: this.currentPosition }));
  }

  onFailure(err: Error): void {
    if (this.closed || this.ended) return;
    this.fail(this.options.toError(err, { file: this.currentFile, position: this.currentPosition }));
  }

  private fail(err: PitrError): void {
    if (this.closed || this.error) return;
    this.error = err;
    this.stopWatchdog();
    this.settleFirst(err);
    const waiter = this.waiter;
    if (waiter && this.head >= this.queue.length) {
      this.waiter = undefined;
      this.error = undefined;
      this.ended = true;
      waiter.reject(err);
    }
    void this.control?.destroy();
  }

  private verify(item: BinlogStreamEvent): void {
    const isFde = item.typeCode === EventType.FORMAT_DESCRIPTION;
    if (isFde) {
      this.crc32 = (this.options.verifyChecksums ?? true) && fdeSaysEventsChecksummed(item.buffer);
    }
    if (!this.crc32) return;
    // the FDE of the source's active file may carry LOG_EVENT_BINLOG_IN_USE_F, which its CRC32 excludes
    if (!eventCrc32Matches(item.buffer, isFde)) {
      throw new ChecksumMismatchError(
        `binlog stream ${item.file}`,
        item.position,
        `the CRC32 of the ${item.buffer.length}-byte event (type ${item.typeCode}) received from the ` +
          'source does not match its trailer: the network or the source corrupted it. Restart the stream from ' +
          'the last position written',
      );
    }
  }

  private classify(buffer: Buffer): BinlogStreamEvent {
    const typeCode = buffer[OFFSET_TYPE]!;
    switch (typeCode) {
      case EventType.HEARTBEAT:
      case EventType.HEARTBEAT_V2:
        return new StreamItem(buffer, typeCode, 'heartbeat', this.currentFile, this.currentPosition);
      case EventType.ROTATE: {
        const artificial = (buffer.readUInt16LE(OFFSET_FLAGS) & LOG_EVENT_ARTIFICIAL_F) !== 0;
        if (artificial || buffer.readUInt32LE(OFFSET_LOG_POS) === 0) {
          const rotate = readRotateEvent(buffer);
          this.currentFile = rotate.file;
          this.currentPosition = rotate.position;
          return new StreamItem(buffer, typeCode, 'rotate-artificial', rotate.file, rotate.position);
        }
        break;
      }
      case EventType.FORMAT_DESCRIPTION:
        // In a file the FDE is always at 4; one that arrives elsewhere is the resend that opens a
        // dump started past 4 (the source also zeroes its log_pos).
        if (buffer.readUInt32LE(OFFSET_LOG_POS) === 0 || this.currentPosition !== FIRST_EVENT_POSITION) {
          return new StreamItem(
            buffer,
            typeCode,
            'format-description-resend',
            this.currentFile,
            this.currentPosition,
          );
        }
        break;
    }
    const item = new StreamItem(buffer, typeCode, 'event', this.currentFile, this.currentPosition);
    this.currentPosition += buffer.length;
    return item;
  }

  // ---- consumer side ----

  private take(): BinlogStreamEvent | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head];
    this.queue[this.head] = undefined as unknown as BinlogStreamEvent;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (item) this.stat.bufferedBytes -= item.buffer.length;
    if (this.paused && this.stat.bufferedBytes <= this.lowWaterMark && !this.closed) {
      this.paused = false;
      // may synchronously deliver packets mysql2 held back, and pause again
      this.control?.resume();
    }
    return item;
  }

  /**
   * The next event if one is already received, else undefined (then await next(), which also
   * reports the end and errors). Lets a consumer take a burst of events without a promise each.
   */
  poll(): BinlogStreamEvent | undefined {
    return this.take();
  }

  /** The next event; `done` after EOF or close(); rejects with the stream's error. */
  async next(): Promise<IteratorResult<BinlogStreamEvent>> {
    const item = this.take();
    if (item) return { value: item, done: false };
    if (this.error) {
      const err = this.error;
      this.error = undefined;
      this.ended = true;
      throw err;
    }
    if (this.ended || this.closed) return { value: undefined, done: true };
    if (this.waiter) throw new Error('BinlogStream.next() called again before the previous call settled');
    return await new Promise<IteratorResult<BinlogStreamEvent>>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /**
   * Ends the dump: closes the connection (the source notices when it next writes), drops buffered
   * events, and makes the iteration finish. Safe to call more than once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWatchdog();
    this.queue.length = 0;
    this.head = 0;
    this.stat.bufferedBytes = 0;
    this.settleFirst();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
    await this.control?.destroy();
  }

  [Symbol.asyncIterator](): AsyncIterator<BinlogStreamEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }
}
