export {
  DumpSplitter,
  DumpSplitError,
  DEFAULT_CHUNK_BYTES,
  quoteIdentifier,
  type DumpSplitterOptions,
  type SplitPartInfo,
  type SplitSink,
} from './dump-splitter.js';
export { SplitBackupWriter, type SplitBackupWriterOptions } from './split-backup-writer.js';
export { backupPartKey, PARTS_FOLDER } from './backup-part-key.js';
