import { createHash, type Hash } from 'node:crypto';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';

import { createZstdCompressStream } from '../codec/index.js';
import type { CompressReply, CompressRequest } from './part-compress-worker.js';

/** SQL bytes batched on the main thread before one message to a worker. */
const BATCH_BYTES = 1024 * 1024;
/** Batch buffers kept for reuse per worker (more than are ever in flight at once). */
const MAX_FREE_BATCHES = 8;
/** SQL bytes sent to a worker and not yet compressed before the producer is held back. */
const MAX_OUTSTANDING_BYTES = 4 * 1024 * 1024;
/** Compressed bytes buffered for the repository before the producer is held back. */
const STORED_HIGH_WATER_MARK = 1024 * 1024;

/** One part being compressed: SQL in, zstd out (`stored`), the stored bytes' SHA-256 at the end. */
export interface CompressedPart {
  /** The compressed bytes: hand this stream to the repository. */
  readonly stored: Readable;
  /** SQL of the part; `bytes` is the caller's again once this returns (copied where kept). */
  write(bytes: Buffer): void;
  end(): void;
  /** True while the producer should wait (`drained()`) before writing more. */
  readonly needsDrain: boolean;
  drained(): Promise<void>;
  /**
   * Hex SHA-256 of the compressed bytes, once the part is compressed. (The SQL is not hashed: no
   * reader checks it; the zstd frame's content checksum covers it.)
   */
  readonly checksums: Promise<{ storedSha256: string }>;
  destroy(err: Error): void;
}

/**
 * Compresses parts on worker threads (zstd and the stored bytes' SHA-256 off the main thread, which then only
 * reads and cuts the dump: the division of work of `mariadb-dump | zstd`), or, with `workers: 0`
 * or where a worker cannot start, on the main thread. Parts are given to the workers in turn, so
 * with two workers one part can finish compressing while the next is written.
 */
export class PartCompressor {
  readonly #workers: WorkerChannel[] = [];
  #next = 0;

  /**
   * @param workers worker threads (0: compress on the calling thread)
   * @param level zstd level
   */
  constructor(
    workers: number,
    private readonly level: number,
  ) {
    for (let i = 0; i < workers; i++) {
      const channel = WorkerChannel.start();
      if (!channel) break;
      this.#workers.push(channel);
    }
  }

  /** Worker threads in use (0 when compressing on the calling thread). */
  get workerCount(): number {
    return this.#workers.length;
  }

  startPart(): CompressedPart {
    if (this.#workers.length === 0) return new InThreadPart(this.level);
    const w = this.#workers[this.#next++ % this.#workers.length]!;
    return w.startPart(this.level);
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.close()));
  }
}

/** Starts the worker thread: the compiled .js, or, from the sources, the .ts through tsx. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./part-compress-worker.js', import.meta.url));
  // Running from the sources (tsx registered in-process, or by --import, which a worker's own
  // --import does not reliably apply before its main module loads): register tsx, then import.
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./part-compress-worker.ts', import.meta.url).href;
  return new Worker(
    `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true },
  );
}

class WorkerChannel {
  readonly #parts = new Map<number, WorkerPart>();
  /** SQL buffers back from the worker, for the next batches (never more than are in flight). */
  readonly #free: Buffer[] = [];
  #ids = 0;
  #dead: Error | undefined;

  private constructor(readonly worker: Worker) {
    worker.on('message', (m: CompressReply) => {
      if (m.type === 'ack' && this.#free.length < MAX_FREE_BATCHES) {
        this.#free.push(Buffer.from(m.bytes.buffer)); // the whole buffer, whatever the batch held
      }
      this.#parts.get(m.id)?.onReply(m, () => this.#parts.delete(m.id));
    });
    const fail = (err: Error): void => {
      this.#dead ??= err;
      for (const p of this.#parts.values()) p.destroy(err);
      this.#parts.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the compression worker thread exited (code ${code})`)));
  }

  static start(): WorkerChannel | undefined {
    try {
      return new WorkerChannel(startWorker());
    } catch {
      return undefined; // no worker here: the caller compresses on its own thread
    }
  }

  startPart(level: number): CompressedPart {
    const id = this.#ids++;
    const part = new WorkerPart(
      id,
      (m, transfer) => this.worker.postMessage(m, transfer),
      () => this.#batch(),
    );
    if (this.#dead) {
      part.destroy(this.#dead);
      return part;
    }
    this.#parts.set(id, part);
    this.worker.postMessage({ type: 'start', id, level } satisfies CompressRequest);
    return part;
  }

  /** A buffer for one batch of SQL: one the worker gave back, or a new one that owns its memory. */
  #batch(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  async close(): Promise<void> {
    this.#dead ??= new Error('the compressor was closed');
    await this.worker.terminate();
  }
}

class WorkerPart implements CompressedPart {
  readonly stored = new PassThrough({ highWaterMark: STORED_HIGH_WATER_MARK });
  readonly checksums: Promise<{ storedSha256: string }>;
  #resolve!: (v: { storedSha256: string }) => void;
  #reject!: (err: Error) => void;
  /** The batch being filled (moved to the worker once full), and how much of it is filled. */
  #batch: Buffer | undefined;
  #batchBytes = 0;
  #outstanding = 0;
  #waiters: (() => void)[] = [];
  #failed = false;

  constructor(
    readonly id: number,
    private readonly send: (m: CompressRequest, transfer?: ArrayBuffer[]) => void,
    private readonly newBatch: () => Buffer,
  ) {
    this.checksums = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.checksums.catch(() => undefined);
    this.stored.on('drain', () => this.#wake());
    this.stored.on('close', () => this.#wake());
  }

  get needsDrain(): boolean {
    return !this.#failed && (this.#outstanding > MAX_OUTSTANDING_BYTES || this.stored.writableNeedDrain);
  }

  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  write(bytes: Buffer): void {
    if (this.#failed) return;
    // copied into the batch buffer (the caller's chunk is the pipe's, and only views of it come here)
    let at = 0;
    while (at < bytes.length) {
      const batch = (this.#batch ??= this.newBatch());
      const n = Math.min(bytes.length - at, batch.length - this.#batchBytes);
      bytes.copy(batch, this.#batchBytes, at, at + n);
      this.#batchBytes += n;
      at += n;
      if (this.#batchBytes === batch.length) this.#flush();
    }
  }

  end(): void {
    if (this.#failed) return;
    this.#flush();
    this.send({ type: 'end', id: this.id });
  }

  destroy(err: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.stored.destroy(err);
    this.#reject(err);
    this.#wake();
  }

  /** A reply from the worker; `forget` drops this part from the worker's table once it is done. */
  onReply(m: CompressReply, forget: () => void): void {
    if (this.#failed) return;
    switch (m.type) {
      case 'out':
        this.stored.write(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
        return;
      case 'ack':
        this.#outstanding -= m.n;
        if (!this.needsDrain) this.#wake();
        return;
      case 'done':
        forget();
        this.stored.end();
        this.#resolve({ storedSha256: m.storedSha256 });
        return;
      case 'error':
        forget();
        this.destroy(new Error(`compressing a backup part failed: ${m.message}`));
        return;
    }
  }

  #flush(): void {
    const batch = this.#batch;
    if (!batch || this.#batchBytes === 0) return;
    this.#outstanding += this.#batchBytes;
    const bytes = new Uint8Array(batch.buffer, batch.byteOffset, this.#batchBytes);
    this.#batch = undefined;
    this.#batchBytes = 0;
    // moved, not copied: the worker sends the buffer back with its ack
    this.send({ type: 'data', id: this.id, bytes }, [batch.buffer as ArrayBuffer]);
  }

  #wake(): void {
    if (this.needsDrain) return;
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}

/** Counts nothing, hashes what passes. */
class HashTap extends Transform {
  readonly hash: Hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

/** The fallback: zstd and hashing on the calling thread. */
class InThreadPart implements CompressedPart {
  readonly stored: Readable;
  readonly checksums: Promise<{ storedSha256: string }>;
  readonly #compress: Transform;
  readonly #tap = new HashTap();

  constructor(level: number) {
    this.#compress = createZstdCompressStream({ level });
    this.#compress.on('error', (err: Error) => this.#tap.destroy(err));
    this.#compress.pipe(this.#tap);
    this.stored = this.#tap;
    this.checksums = new Promise((resolve, reject) => {
      this.#tap.on('end', () => resolve({ storedSha256: this.#tap.hash.digest('hex') }));
      this.#tap.on('error', reject);
    });
    this.checksums.catch(() => undefined);
  }

  get needsDrain(): boolean {
    return this.#compress.writableNeedDrain;
  }

  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#compress.off('drain', done);
        this.#compress.off('close', done);
        resolve();
      };
      this.#compress.on('drain', done);
      this.#compress.on('close', done);
    });
  }

  write(bytes: Buffer): void {
    // copied: the stream may hold it, and the caller's chunk may be a reused buffer
    this.#compress.write(Buffer.from(bytes));
  }

  end(): void {
    this.#compress.end();
  }

  destroy(err: Error): void {
    this.#compress.destroy(err);
    this.#tap.destroy(err);
  }
}
