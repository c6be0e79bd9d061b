export { BinlogFileWriter, type BinlogFileWriterOptions } from './binlog-file-writer.js';
export {
  BinlogFileReader,
  type BinlogFileEvent,
  type BinlogFileReaderOptions,
} from './binlog-file-reader.js';
export {
  checksumAlgorithmOf,
  BINLOG_CHECKSUM_ALG_OFF,
  BINLOG_CHECKSUM_ALG_CRC32,
} from './checksum-algorithm.js';
export {
  copyBinlogStream,
  type CopyableStreamItem,
  type CopyBinlogStreamOptions,
  type CopiedBinlogFile,
} from './copy-binlog-stream.js';
