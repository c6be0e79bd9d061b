import { createRequire } from 'node:module';

import type { BufferPool } from './buffer-pool.js';
import { checkLevel, DEFAULT_STREAM_LEVEL } from './zstd-compress-stream.js';

// The native binding is CommonJS whose exports Node cannot list for an ESM named import.
const binding = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');
const { CCtx, CParameter, EndDirective, ResetDirective } = binding;

/** Size of each output buffer: compressed bytes are appended to it until it is full. */
const OUT_SIZE = 256 * 1024;

/** Options of {@link ZstdFrameEncoder}. */
export interface ZstdFrameEncoderOptions {
  /** zstd level, -7 to 22. Default {@link DEFAULT_STREAM_LEVEL}. */
  level?: number;
  /**
   * libzstd worker threads. With 1 or more, `write` only copies its input into libzstd's job
   * buffers and compression runs on those threads, overlapping the caller's own work (the binlog
   * stream). 0 compresses on the calling thread. Default 1.
   */
  workers?: number;
  /**
   * Bytes of input per libzstd job when `workers` > 0 (libzstd's minimum is 512 KiB; it rounds
   * up). Default: libzstd's own (4 windows, 2 MiB at level 1). libzstd holds a few jobs' input
   * and output at once, so halving it halves those buffers.
   */
  jobSize?: number | undefined;
  /**
   * Where output buffers come from: give a frame's parts back to it once they are stored, and the
   * next frames reuse them. Default: fresh 256 KiB buffers.
   */
  pool?: BufferPool;
}

/**
 * Compresses data written piece by piece into zstd frames (content checksum on), one frame at a
 * time, holding only compressed output: `write` what you have, `end` returns the frame. The same
 * encoder (and its libzstd context and threads) is reused for the next frame.
 *
 * Memory: the compressed bytes of the frame in progress, plus libzstd's buffers (with workers, a
 * few jobs of about 2 MiB at level 1), whatever the frame's length.
 */
export class ZstdFrameEncoder {
  readonly #cctx: InstanceType<typeof CCtx>;
  readonly #pool: BufferPool | undefined;
  #out: Buffer;
  #outUsed = 0;
  #parts: Buffer[] = [];
  #inFrame = false;

  /** @throws RangeError when `level` is not an integer in [-7, 22], or `jobSize` not a whole number */
  constructor(opts: ZstdFrameEncoderOptions = {}) {
    const level = opts.level ?? DEFAULT_STREAM_LEVEL;
    checkLevel(level);
    this.#pool = opts.pool;
    this.#out = this.#alloc();
    this.#cctx = new CCtx();
    this.#cctx.setParameter(CParameter.compressionLevel, level);
    this.#cctx.setParameter(CParameter.checksumFlag, 1);
    const workers = opts.workers ?? 1;
    const jobSize = opts.jobSize;
    if (jobSize !== undefined && !(Number.isSafeInteger(jobSize) && jobSize >= 0))
      throw new RangeError(`zstd job size ${jobSize} is not a whole number of bytes`);
    // a libzstd built without threads rejects the parameter: compress on this thread then
    let threaded = false;
    if (workers > 0) {
      try {
        this.#cctx.setParameter(CParameter.nbWorkers, workers);
        threaded = true;
      } catch {
        // single-threaded build
      }
    }
    if (threaded && jobSize !== undefined) this.#cctx.setParameter(CParameter.jobSize, jobSize);
  }

  /** True between the first `write` of a frame and its `end`. */
  get inFrame(): boolean {
    return this.#inFrame;
  }

  /**
   * Compresses `data` into the current frame (starting one if needed). `data` is consumed (copied
   * or compressed) before this returns, so the caller may reuse its buffer.
   */
  write(data: Uint8Array): void {
    if (data.length === 0) return;
    this.#inFrame = true;
    let input = data;
    while (input.length > 0) {
      const [, produced, consumed] = this.#cctx.compressStream2(
        this.#out.subarray(this.#outUsed),
        input,
        EndDirective.continue,
      );
      this.#advance(produced);
      input = input.subarray(consumed);
    }
  }

  /**
   * Takes the output buffers filled so far in the current frame (the frame goes on): lets a caller
   * pass compressed bytes on while a long frame is still being written. `end` returns the rest.
   */
  take(): Buffer[] {
    const parts = this.#parts;
    this.#parts = [];
    return parts;
  }

  /** Ends the current frame and returns it (an empty frame when nothing was written). */
  end(): Buffer[] {
    const empty = new Uint8Array(0);
    for (;;) {
      const [remaining, produced] = this.#cctx.compressStream2(
        this.#out.subarray(this.#outUsed),
        empty,
        EndDirective.end,
      );
      this.#advance(produced);
      if (remaining === 0) break;
      if (this.#outUsed === this.#out.length) this.#rollOut();
    }
    if (this.#outUsed > 0) {
      this.#parts.push(this.#out.subarray(0, this.#outUsed));
      this.#out = this.#alloc();
      this.#outUsed = 0;
    }
    const parts = this.#parts;
    this.#parts = [];
    this.#inFrame = false;
    return parts;
  }

  /** Abandons the current frame, dropping what it produced; the encoder is ready for a new frame. */
  discard(): void {
    this.#cctx.reset(ResetDirective.sessionOnly);
    this.#pool?.give(this.#parts);
    this.#parts = [];
    this.#outUsed = 0;
    this.#inFrame = false;
  }

  #advance(produced: number): void {
    this.#outUsed += produced;
    if (this.#outUsed === this.#out.length) this.#rollOut();
  }

  #rollOut(): void {
    this.#parts.push(this.#out);
    this.#out = this.#alloc();
    this.#outUsed = 0;
  }

  #alloc(): Buffer {
    return this.#pool ? this.#pool.take() : Buffer.allocUnsafe(OUT_SIZE);
  }
}
