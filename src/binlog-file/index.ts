export { BinlogFileWriter, type BinlogFileWriterOptions } from './binlog-file-writer.js';
export {
  BinlogFileReader,
  type BinlogFileEvent,
  type BinlogFileReaderOptions,
} from './binlog-file-reader.js';
export {
  copyBinlogStream,
  type CopyableStreamItem,
  type CopyBinlogStreamOptions,
  type CopiedBinlogFile,
} from './copy-binlog-stream.js';
