import { Transform, type TransformCallback } from 'node:stream';

import { ZstdDecoder } from './zstd-decoder.js';

/** Options of {@link createZstdDecompressStream}. */
export interface ZstdDecompressOptions {
  /** What is being decompressed (an object key or file name), named in errors. Default "zstd stream". */
  object?: string;
}

/**
 * A Transform that decompresses zstd: any number of concatenated frames, as `zstd -d` does.
 *
 * Memory stays bounded whatever the compression ratio: each input chunk is decoded one 128 KiB
 * output buffer at a time, and decoding pauses while the reader is behind (zstd-napi's own
 * DecompressStream pushes a chunk's whole output at once, which for a run of zeros can be
 * gigabytes).
 *
 * Errors (emitted on the stream): `CorruptDataError` with code CORRUPT_DATA when the input is not
 * zstd or a frame checksum fails, TRUNCATED_DATA when the input ends inside a frame; both name
 * `object` and the compressed offset.
 */
export function createZstdDecompressStream(opts: ZstdDecompressOptions = {}): Transform {
  return new ZstdDecompressStream(opts.object ?? 'zstd stream');
}

class ZstdDecompressStream extends Transform {
  readonly #decoder: ZstdDecoder;
  /** The write callback of the chunk being decoded, while it is not fully decoded yet. */
  #pending: TransformCallback | undefined;

  constructor(object: string) {
    super();
    this.#decoder = new ZstdDecoder(object);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#decoder.feed(chunk);
    this.#pending = done;
    this.#pump();
  }

  override _read(size: number): void {
    // The reader wants more: continue the chunk we paused on...
    if (this.#pending !== undefined) this.#pump();
    // ...and if that finished it, let Transform release the write it may have held back because
    // the readable buffer was full when we finished (Readable calls _read once per push, so
    // skipping this would stall: found by the 7-byte-chunk test).
    if (this.#pending === undefined) super._read(size);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.#decoder.finish();
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  }

  #pump(): void {
    while (this.#pending !== undefined) {
      let step;
      try {
        step = this.#decoder.step();
      } catch (err) {
        const done = this.#pending;
        this.#pending = undefined;
        done(err as Error);
        return;
      }
      const wantsMore = step.output.length === 0 || this.push(step.output);
      if (step.inputDone) {
        const done = this.#pending;
        this.#pending = undefined;
        done();
        return;
      }
      if (!wantsMore) return; // resumed by _read
    }
  }
}
