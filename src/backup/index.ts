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
