import { Readable } from 'node:stream';

import type { PutBody } from './object-store.js';
import { StorageError } from './storage-error.js';

/** True for a body held in memory (Buffer or Uint8Array), false for a stream or async iterable. */
export function isBytes(body: PutBody): body is Buffer | Uint8Array {
  return body instanceof Uint8Array;
}

/** A Buffer view of `chunk` (no copy for a Uint8Array). */
export function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Throws (code USAGE) when `body` is a Readable that was already read from, ended or destroyed:
 * uploading what is left of it would silently store a partial object. This is how a caller that
 * retries a failed put with the same stream finds out.
 */
export function assertFreshBody(store: string, key: string, body: PutBody): void {
  if (!(body instanceof Readable)) return;
  if (body.readableDidRead || body.readableEnded || body.destroyed) {
    throw new StorageError(
      'USAGE',
      `cannot put ${key} to ${store}: the body stream was already read from, so what is left of it ` +
        'would be a partial object. Retry a failed put with a fresh stream (open the source again).',
      { store, key },
    );
  }
}

/**
 * The caller's stream or iterable, read once by a put. It listens for the stream's `error` from the
 * moment the put starts, so a source that fails while the put is still preparing (mkdir, a HEAD)
 * does not become an uncaught exception, and it remembers that failure so the put can hand the
 * caller its own error back instead of a storage error: the store did nothing wrong.
 */
export class BodySource {
  /** Bytes yielded so far. */
  bytes = 0;
  #failed = false;
  #error: unknown;
  /** Set when we close the source ourselves: Node then destroys a Readable with an AbortError. */
  #closedByUs = false;
  readonly #body: Readable | AsyncIterable<Uint8Array | string>;

  constructor(body: Readable | AsyncIterable<Uint8Array | string>) {
    this.#body = body;
    if (body instanceof Readable) {
      body.on('error', (err) => {
        if (!this.#closedByUs) this.#fail(err);
      });
    }
  }

  /** The error the source failed with, if it did; `undefined` when it did not (or has not yet). */
  get error(): { error: unknown } | undefined {
    return this.#failed ? { error: this.#error } : undefined;
  }

  /**
   * The body as Buffers, counting bytes. Rethrows (and records) the source's own failure. An error
   * thrown into this generator by its consumer (an aborted upload destroys its input) is not the
   * source's: it is passed on without being recorded, and the source is closed.
   */
  async *chunks(): AsyncGenerator<Buffer> {
    const iterator = (this.#body as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        let step: IteratorResult<Uint8Array | string>;
        try {
          step = await iterator.next();
        } catch (err) {
          finished = true;
          this.#fail(err);
          throw err;
        }
        if (step.done === true) {
          finished = true;
          return;
        }
        const buf = toBuffer(step.value);
        this.bytes += buf.byteLength;
        yield buf;
      }
    } finally {
      // Stopped early by the consumer: close the source (destroys a Readable, ends a generator).
      if (!finished) {
        this.#closedByUs = true;
        await iterator.return?.();
      }
    }
  }

  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = err;
  }
}
