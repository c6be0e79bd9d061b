export {
  createZstdCompressStream,
  DEFAULT_STREAM_LEVEL,
  type ZstdCompressOptions,
} from './zstd-compress-stream.js';
export { createZstdDecompressStream, type ZstdDecompressOptions } from './zstd-decompress-stream.js';
export { zstdCompress, zstdDecompress, DEFAULT_ONE_SHOT_LEVEL } from './zstd-one-shot.js';
export { ZstdFrameEncoder, type ZstdFrameEncoderOptions } from './zstd-frame-encoder.js';
export { BufferPool } from './buffer-pool.js';
