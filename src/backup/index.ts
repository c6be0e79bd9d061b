export {
  createBackup,
  findNonTransactionalTables,
  type CreateBackupOptions,
  type BackupProgress,
} from './create-backup.js';
export {
  buildDumpCommand,
  type DumpCommand,
  type DumpCommandOptions,
  type DumpEndpoint,
  type DumpSourceFlavor,
} from './dump-command.js';
export { DumpCoordinatesScanner, type DumpCoordinates } from './dump-coordinates-scanner.js';
export { DumpError } from './dump-error.js';
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
