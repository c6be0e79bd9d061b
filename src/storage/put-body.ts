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

/** Yields `body` as Buffers, counting bytes into `counter.bytes`. */
export async function* countedChunks(
  body: Readable | AsyncIterable<Uint8Array | string>,
  counter: { bytes: number },
): AsyncGenerator<Buffer> {
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    const buf = toBuffer(chunk);
    counter.bytes += buf.byteLength;
    yield buf;
  }
}
