import { compress } from 'zstd-napi';

import { checkLevel } from './zstd-compress-stream.js';
import { ZstdDecoder } from './zstd-decoder.js';

/** Default level for one-shot compression of small objects (manifests, indexes): size over speed. */
export const DEFAULT_ONE_SHOT_LEVEL = 3;

/**
 * Compresses `data` into one zstd frame with a content checksum.
 *
 * @throws RangeError when `level` is not an integer in [-7, 22].
 */
export function zstdCompress(data: Uint8Array, level = DEFAULT_ONE_SHOT_LEVEL): Buffer {
  checkLevel(level);
  return compress(data, { compressionLevel: level, checksumFlag: true });
}

/**
 * Decompresses a whole zstd stream (any number of concatenated frames) held in memory.
 *
 * @throws CorruptDataError CORRUPT_DATA (not zstd, checksum mismatch) or TRUNCATED_DATA (ends
 *   inside a frame), naming `opts.object`.
 */
export function zstdDecompress(data: Uint8Array, opts: { object?: string } = {}): Buffer {
  const decoder = new ZstdDecoder(opts.object ?? 'zstd data');
  decoder.feed(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const out: Buffer[] = [];
  for (;;) {
    const { output, inputDone } = decoder.step();
    if (output.length > 0) out.push(output);
    if (inputDone) break;
  }
  decoder.finish();
  return Buffer.concat(out);
}
