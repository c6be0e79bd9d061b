/**
 * Worker thread of {@link PartCompressor}: compresses the parts it is given (zstd, one frame per
 * part) and hashes their SQL and compressed bytes, so the main thread only reads and cuts the
 * dump. Messages in: `start {id, level}`, `data {id, bytes}`, `end {id}`. Messages out:
 * `out {id, bytes}` (compressed bytes, in order), `ack {id, n}` (SQL bytes consumed), `done {id,
 * sqlSha256, storedSha256}`, `error {id, message}`.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { Transform } from 'node:stream';

import { createZstdCompressStream } from '../codec/index.js';

/** A message from the main thread. */
export type CompressRequest =
  | { type: 'start'; id: number; level: number }
  | { type: 'data'; id: number; bytes: Uint8Array }
  | { type: 'end'; id: number };

/** A message to the main thread. */
export type CompressReply =
  | { type: 'out'; id: number; bytes: Uint8Array }
  | { type: 'ack'; id: number; n: number }
  | { type: 'done'; id: number; sqlSha256: string; storedSha256: string }
  | { type: 'error'; id: number; message: string };

interface Job {
  compress: Transform;
  sql: Hash;
  stored: Hash;
}

const port = parentPort;
if (port) {
  const jobs = new Map<number, Job>();
  const post = (m: CompressReply, transfer?: ArrayBuffer[]): void => port.postMessage(m, transfer);
  port.on('message', (m: CompressRequest) => {
    try {
      if (m.type === 'start') {
        const compress = createZstdCompressStream({ level: m.level });
        const job: Job = { compress, sql: createHash('sha256'), stored: createHash('sha256') };
        jobs.set(m.id, job);
        compress.on('data', (c: Buffer) => {
          job.stored.update(c);
          // a copy that owns its memory, so it can be transferred
          const own = new Uint8Array(c.length);
          own.set(c);
          post({ type: 'out', id: m.id, bytes: own }, [own.buffer]);
        });
        compress.on('end', () => {
          jobs.delete(m.id);
          post({
            type: 'done',
            id: m.id,
            sqlSha256: job.sql.digest('hex'),
            storedSha256: job.stored.digest('hex'),
          });
        });
        compress.on('error', (err: Error) => post({ type: 'error', id: m.id, message: err.message }));
      } else if (m.type === 'data') {
        const job = jobs.get(m.id)!;
        job.sql.update(m.bytes);
        job.compress.write(m.bytes);
        post({ type: 'ack', id: m.id, n: m.bytes.length });
      } else {
        jobs.get(m.id)!.compress.end();
      }
    } catch (err) {
      post({ type: 'error', id: m.id, message: (err as Error).message });
    }
  });
}
