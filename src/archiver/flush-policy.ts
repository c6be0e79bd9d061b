/** Why a segment is flushed. */
export type FlushReason =
  /** The flush interval passed since the first unflushed transaction ended. */
  | 'interval'
  /**
   * Nothing more is waiting in the stream, complete transactions are pending, and the last flush
   * was at least one flush interval ago: the end of a busy period, or the first transaction after
   * a quiet one, is stored at once instead of waiting for the timer.
   */
  | 'idle'
  /** The buffer reached the segment size. */
  | 'size'
  /** The file ended (ROTATE or STOP): its last segment is cut. */
  | 'rotate'
  /** The stream ended or the archiver is stopping. */
  | 'end';

/** Options of FlushPolicy. */
export interface FlushPolicyOptions {
  /** Flush at most this long (ms) after the first unflushed transaction ended. Default 1000. */
  flushIntervalMs?: number;
  /** Flush when this many bytes are buffered. Default 64 MiB. */
  segmentSize?: number;
}

/**
 * Default flush interval. With the idle flush, p99 commit-to-durable stays under 0.5 s at 1,000
 * trx/s (bench/README.md) and the archiver stores at most one segment per interval (2.5 PUT/s)
 * however the transactions arrive.
 */
export const DEFAULT_FLUSH_INTERVAL_MS = 400;
/** Default segment size limit. */
export const DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024;

/**
 * When to flush the segment buffer. Pure: the caller passes the time, so tests use a fake clock.
 *
 * - `interval`: `flushIntervalMs` after the first transaction that ended since the last flush. Only
 *   transactions start the clock: an idle source (heartbeats, nothing else) never causes a write.
 * - `size`: as soon as `segmentSize` bytes are buffered, complete or not (the caller cuts at the last
 *   transaction boundary, or splits a transaction that alone is larger than the limit).
 * - `rotate`: when the file's ROTATE or STOP event is buffered.
 * - `idle` (see {@link FlushPolicy.idleDue}): when the stream has nothing more waiting and the last
 *   flush was at least `flushIntervalMs` ago. Bounded the same way as `interval`: at most one
 *   flush per interval, so the storage request rate never exceeds 1 / flushIntervalMs.
 *
 * @example
 * const policy = new FlushPolicy({ flushIntervalMs: 1000 });
 * policy.transactionEnded(now);
 * policy.decide(now + 1000, { bufferedBytes }); // 'interval'
 * policy.flushed();
 */
export class FlushPolicy {
  /** The interval in ms. */
  readonly flushIntervalMs: number;
  /** The size limit in bytes. */
  readonly segmentSize: number;
  #firstEndedAt: number | undefined;
  #lastFlushAt = Number.NEGATIVE_INFINITY;

  /** @throws RangeError for an interval below 0 or a segment size below 1 KiB */
  constructor(opts: FlushPolicyOptions = {}) {
    this.flushIntervalMs = opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    this.segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    if (!Number.isFinite(this.flushIntervalMs) || this.flushIntervalMs < 0) {
      throw new RangeError(`flush interval ${this.flushIntervalMs} ms is not a duration >= 0`);
    }
    if (!Number.isSafeInteger(this.segmentSize) || this.segmentSize < 1024) {
      throw new RangeError(`segment size ${this.segmentSize} is below 1 KiB`);
    }
  }

  /** A transaction ended at `now` (ms): starts the interval clock unless it is already running. */
  transactionEnded(now: number): void {
    this.#firstEndedAt ??= now;
  }

  /** When the interval flush is due (ms since the epoch), or undefined when no transaction waits. */
  get dueAt(): number | undefined {
    return this.#firstEndedAt === undefined ? undefined : this.#firstEndedAt + this.flushIntervalMs;
  }

  /**
   * What to flush now, if anything. `rotated`: the buffer ends with the file's ROTATE/STOP.
   * Size wins over rotation and the interval (it may need a split).
   */
  decide(now: number, state: { bufferedBytes: number; rotated?: boolean }): FlushReason | undefined {
    if (state.bufferedBytes >= this.segmentSize) return 'size';
    if (state.rotated) return 'rotate';
    const due = this.dueAt;
    if (due !== undefined && now >= due) return 'interval';
    return undefined;
  }

  /**
   * Whether to flush now because the stream went idle: a transaction is pending and the last flush
   * was at least one interval before `now`. The caller asks when no received event is waiting.
   */
  idleDue(now: number): boolean {
    return this.#firstEndedAt !== undefined && now - this.#lastFlushAt >= this.flushIntervalMs;
  }

  /** The complete transactions were flushed (at `now`, default Date.now()): stops the interval clock. */
  flushed(now: number = Date.now()): void {
    this.#firstEndedAt = undefined;
    this.#lastFlushAt = now;
  }
}
