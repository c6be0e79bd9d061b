import { setTimeout as sleep } from 'node:timers/promises';

import { encodeSegmentHeader, readSegmentHeader, segmentKey } from '../catalog/index.js';
import { isPitrError, messageOf } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { PreconditionFailedError, type ObjectStore, type PutBody } from '../storage/index.js';
import type { FlushReason } from './flush-policy.js';
import type { CutSegment } from './segment-builder.js';
import { encodeSegmentParts } from './segment-encoder.js';
import { SegmentConflictError } from './segment-conflict-error.js';

/** Options of SegmentUploader. */
export interface SegmentUploaderOptions {
  store: ObjectStore;
  /** zstd level. */
  level?: number;
  /** Segments compressed or uploading at once before room() waits. */
  maxPending: number;
  /**
   * Stored-form bytes of the pending segments before room() waits, even below `maxPending`
   * (default: no limit). Keeps memory near one large segment uploading while the stream waits.
   */
  maxPendingBytes?: number;
  /** Receives a segment's encoded parts once it is stored, for reuse (see BufferPool). */
  recycle?: (parts: Buffer[]) => void;
  logger: Logger;
  /** Called in order, once per segment, when it is stored (durable). */
  onStored(segment: CutSegment, storedBytes: number): void;
  /** Returns true when retrying must stop (the lease was lost). */
  abandon?: () => boolean;
  /**
   * Called before every attempt to store a segment; throws to stop (the lease fence: an archiver
   * whose lease expired writes nothing more). Its error fails the uploader permanently.
   */
  fence?: () => void;
  /** Recorded in every segment header as `leaseEpoch`. */
  leaseEpoch?: number;
  /** First and largest retry delay, ms (default 500 and 30 000). */
  retryDelayMs?: { initial: number; max: number };
}

/** Objects up to this size are uploaded from one buffer (S3: one PutObject, below its 8 MiB part size). */
const SINGLE_BUFFER_MAX = 4 * 1024 * 1024;

/** Storage failures that retrying cannot fix. */
const PERMANENT = ['STORAGE_ACCESS_DENIED', 'STORAGE_BUCKET_MISSING', 'USAGE', 'CONFIG_INVALID'] as const;

/**
 * Compresses segments as soon as they are cut (unless the builder's body already did) and stores them strictly in order, one at a time, so
 * the repository never holds a segment whose predecessor is missing: the last stored segment is
 * always the durable end (the resume point). Compression of the next segments overlaps the upload
 * of the current one. Transient storage failures are retried with backoff, forever; meanwhile at
 * most `maxPending` segments are held in memory and `room()` makes the stream wait.
 */
export class SegmentUploader {
  readonly #o: SegmentUploaderOptions;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;
  #pendingBytes = 0;
  #failure: unknown;
  #hasFailed = false;
  #waiters: (() => void)[] = [];

  constructor(opts: SegmentUploaderOptions) {
    this.#o = opts;
  }

  /** True once a segment failed permanently: nothing after it is stored. */
  get failed(): boolean {
    return this.#hasFailed;
  }

  /** Segments cut and not yet stored. */
  get pending(): number {
    return this.#pending;
  }

  /** Rethrows a permanent failure, if one happened. */
  throwIfFailed(): void {
    if (this.#hasFailed) throw this.#failure;
  }

  /** Starts compressing `segment` and queues its upload after the ones before it. */
  enqueue(segment: CutSegment, reason: FlushReason): void {
    if (this.#hasFailed) return;
    const sizeOf = (parts: readonly Buffer[]): number => parts.reduce((a, p) => a + p.length, 0);
    if (this.#o.leaseEpoch !== undefined) segment.header.leaseEpoch = this.#o.leaseEpoch;
    const bytes = segment.encoded ? sizeOf(segment.encoded) : sizeOf(segment.chunks);
    this.#pending += 1;
    this.#pendingBytes += bytes;
    // compressed by the builder's body as the events arrived, or compress the raw bytes now
    const encoded = segment.encoded
      ? Promise.resolve([encodeSegmentHeader(segment.header), ...segment.encoded])
      : encodeSegmentParts(segment.header, segment.chunks, this.#o.level);
    encoded.catch(() => undefined); // handled in the chain
    // release the bytes: only the encoded parts are needed from here on
    segment.chunks = [];
    delete segment.encoded;
    this.#chain = this.#chain.then(async () => {
      if (this.#hasFailed) return;
      try {
        const parts = await encoded;
        const size = parts.reduce((a, p) => a + p.length, 0);
        const attempts = await this.#put(segment, parts, size, reason);
        // the store is done with the parts: their buffers can hold the next segments. Not after a
        // retry: a failed attempt's request might, in theory, still be reading them.
        if (attempts === 1) this.#o.recycle?.(parts);
        this.#o.onStored(segment, size);
      } catch (err) {
        this.#failure = err;
        this.#hasFailed = true;
      } finally {
        this.#pending -= 1;
        this.#pendingBytes -= bytes;
        const w = this.#waiters;
        this.#waiters = [];
        for (const f of w) f();
      }
    });
  }

  /** True when maxPending segments (or maxPendingBytes) are pending: the stream should wait for room(). */
  get full(): boolean {
    return this.#pending >= this.#o.maxPending || this.#pendingBytes >= (this.#o.maxPendingBytes ?? Infinity);
  }

  /** Resolves when fewer than maxPending segments (and maxPendingBytes) are pending (back-pressure for the stream). */
  async room(): Promise<void> {
    while (this.full && !this.#hasFailed) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.throwIfFailed();
  }

  /** Waits until every queued segment is stored; rethrows a permanent failure. */
  async drain(): Promise<void> {
    await this.#chain;
    this.throwIfFailed();
  }

  /** Stores the segment, retrying; returns the number of attempts it took. */
  async #put(segment: CutSegment, parts: Buffer[], size: number, reason: FlushReason): Promise<number> {
    // small objects go as one buffer (one PUT); large ones as a stream of their parts, so that the
    // object is not copied once more in memory (a fresh iterable per attempt: a body is read once)
    const whole = size <= SINGLE_BUFFER_MAX ? Buffer.concat(parts, size) : undefined;
    const body = (): PutBody =>
      whole ??
      (async function* () {
        yield* parts;
      })();
    const h = segment.header;
    const key = segmentKey(h.timeline, h.file, h.start);
    const initial = this.#o.retryDelayMs?.initial ?? 500;
    const max = this.#o.retryDelayMs?.max ?? 30_000;
    let delay = initial;
    for (let attempt = 1; ; attempt++) {
      this.#o.fence?.();
      try {
        // put-if-absent: a segment key is never replaced. An object already there with the same
        // bytes is an earlier attempt of this very segment (its answer was lost): done.
        try {
          await this.#o.store.put(key, body(), { ifAbsent: true, contentType: 'application/zstd' });
        } catch (err) {
          if (!(err instanceof PreconditionFailedError)) throw err;
          const stored = (await readSegmentHeader(this.#o.store, key)).header;
          const same =
            stored.timeline === h.timeline &&
            stored.file === h.file &&
            stored.start === h.start &&
            stored.end === h.end &&
            stored.sha256 === h.sha256;
          if (!same) {
            throw new SegmentConflictError(
              key,
              `bytes ${h.start}..${h.end}, sha256 ${h.sha256.slice(0, 12)}`,
              `bytes ${stored.start}..${stored.end}, sha256 ${stored.sha256.slice(0, 12)}`,
              { cause: err },
            );
          }
          this.#o.logger.debug('segment already stored by an earlier attempt', { key });
        }
        this.#o.logger.debug('segment stored', {
          key,
          start: h.start,
          end: h.end,
          bytes: size,
          reason,
        });
        return attempt;
      } catch (err) {
        if (err instanceof SegmentConflictError || isPitrError(err, ...PERMANENT) || this.#o.abandon?.())
          throw err;
        this.#o.logger.warn(
          `could not store segment ${h.file} @ ${h.start}-${h.end} to ${this.#o.store.describe()}; retrying in ${delay} ms ` +
            '(the archiver holds the stream back meanwhile)',
          { key, attempt, error: messageOf(err) },
        );
        await sleep(delay);
        delay = Math.min(max, delay * 2);
      }
    }
  }
}
