import { createRequire } from 'node:module';

// The native binding is CommonJS whose exports Node cannot list for an ESM named import.
const binding = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');
const { DCtx, dStreamOutSize } = binding;

import { CorruptDataError } from '../errors/index.js';

/** Size of one output buffer: zstd's recommended streaming output size (one block, 128 KiB). */
const OUT_SIZE = dStreamOutSize();

/** What one {@link ZstdDecoder.step} did. */
export interface DecodeStep {
  /** Decompressed bytes produced by this step (possibly empty). */
  output: Buffer;
  /** True when the current input is used up and nothing more can come out of it. */
  inputDone: boolean;
}

/**
 * The zstd frame decoder shared by the streaming and one-shot decompressors: input in, one
 * bounded output buffer per step, so the caller can stop between steps when its reader is slow.
 * Decodes any number of concatenated frames (and skips skippable frames), verifies each frame's
 * content checksum when it has one, and reports corruption and truncation as `CorruptDataError`
 * naming the object and the compressed offset.
 */
export class ZstdDecoder {
  readonly #dctx = new DCtx();
  readonly #object: string;
  #input: Buffer = Buffer.alloc(0);
  /** Compressed bytes consumed so far, for error offsets. */
  #consumed = 0;
  /** True between the first byte of a frame and its end. */
  #inFrame = false;

  constructor(object: string) {
    this.#object = object;
  }

  /** Compressed bytes consumed so far. */
  get consumed(): number {
    return this.#consumed;
  }

  /** Hands the decoder the next piece of compressed input; call only once `step` reported `inputDone`. */
  feed(chunk: Buffer): void {
    this.#input = chunk;
  }

  /**
   * Decompresses at most one output buffer from the fed input.
   *
   * @throws CorruptDataError CORRUPT_DATA when the input is not zstd or fails its checksum.
   */
  step(): DecodeStep {
    const out = Buffer.allocUnsafe(OUT_SIZE);
    let ret: number;
    let produced: number;
    let used: number;
    try {
      [ret, produced, used] = this.#dctx.decompressStream(out, this.#input);
    } catch (err) {
      throw new CorruptDataError(
        this.#object,
        this.#consumed,
        `zstd could not decode it (${err instanceof Error ? err.message : String(err)}). ` +
          'The stored object is damaged or is not zstd-compressed; restore it from another copy or re-archive it from the source',
        { cause: err },
      );
    }
    if (used > 0 || produced > 0) this.#inFrame = ret !== 0;
    this.#input = this.#input.subarray(used);
    this.#consumed += used;
    // Done with this input once it is consumed and the decoder holds no more output for it: it
    // filled less than the buffer, or a frame ended exactly here.
    const inputDone = this.#input.length === 0 && (produced < out.length || ret === 0);
    return { output: out.subarray(0, produced), inputDone };
  }

  /**
   * Checks that the input ended on a frame boundary.
   *
   * @throws CorruptDataError TRUNCATED_DATA when the input stopped inside a frame.
   */
  finish(): void {
    if (this.#inFrame) {
      throw new CorruptDataError(
        this.#object,
        this.#consumed,
        'the zstd stream ends in the middle of a frame. The object was cut short (an interrupted upload or copy); ' +
          'restore it from another copy or re-archive it from the source',
        { truncated: true },
      );
    }
  }
}
