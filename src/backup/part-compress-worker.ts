/**
 * Worker thread of {@link PartCompressor}: compresses the parts it is given (zstd, one frame per
 * part) and hashes their compressed bytes, so the main thread only reads and cuts the
 * dump. Messages in: `start {id, level}`, `data {id, bytes}` (`bytes` moved here, and moved back
 * with its `ack` so the main thread reuses the buffer), `end {id}`. Messages out: `out {id, bytes}`
 * (compressed bytes, in order, moved), `ack {id, n, bytes}` (SQL bytes consumed, and the buffer
 * they came in), `done {id, storedSha256}`, `error {id, message}`.
 *
 * Each part is compressed synchronously while its `data` message is handled (libzstd on this
 * thread, one context reused from part to part), so nothing here copies the SQL or queues it.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

import { ZstdFrameEncoder } from '../codec/index.js';

/** A message from the main thread. */
export type CompressRequest =
  | { type: 'start'; id: number; level: number }
  | { type: 'data'; id: number; bytes: Uint8Array }
  | { type: 'end'; id: number };

/** A message to the main thread. */
export type CompressReply =
  | { type: 'out'; id: number; bytes: Uint8Array }
  | { type: 'ack'; id: number; n: number; bytes: Uint8Array }
  | { type: 'done'; id: number; storedSha256: string }
  | { type: 'error'; id: number; message: string };

interface Job {
  encoder: ZstdFrameEncoder;
  level: number;
  stored: Hash;
}

const port = parentPort;
if (port) {
  const jobs = new Map<number, Job>();
  /** Encoders between frames, by level: a part reuses its libzstd context and tables. */
  const idle = new Map<number, ZstdFrameEncoder>();
  const post = (m: CompressReply, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  /** Hashes and moves compressed buffers to the main thread (each owns its backing store). */
  const send = (id: number, job: Job, parts: Buffer[]): void => {
    for (const p of parts) {
      job.stored.update(p);
      const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
      post({ type: 'out', id, bytes }, [p.buffer as ArrayBuffer]);
    }
  };
  port.on('message', (m: CompressRequest) => {
    const job = jobs.get(m.id);
    try {
      if (m.type === 'start') {
        const encoder = idle.get(m.level) ?? new ZstdFrameEncoder({ level: m.level, workers: 0 });
        idle.delete(m.level);
        jobs.set(m.id, { encoder, level: m.level, stored: createHash('sha256') });
      } else if (m.type === 'data') {
        job!.encoder.write(m.bytes);
        send(m.id, job!, job!.encoder.take());
        post({ type: 'ack', id: m.id, n: m.bytes.length, bytes: m.bytes }, [m.bytes.buffer as ArrayBuffer]);
      } else {
        send(m.id, job!, job!.encoder.end());
        jobs.delete(m.id);
        idle.set(job!.level, job!.encoder);
        post({ type: 'done', id: m.id, storedSha256: job!.stored.digest('hex') });
      }
    } catch (err) {
      if (job) {
        jobs.delete(m.id);
        job.encoder.discard();
      }
      post({ type: 'error', id: m.id, message: (err as Error).message });
    }
  });
}
