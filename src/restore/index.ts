export {
  parseRestoreTarget,
  parseRestoreTime,
  parsePosition,
  normalizeGtid,
  describeRestoreTarget,
  RESTORE_TARGET_HELP,
  type RestoreTarget,
  type RestoreTargetFlags,
} from './restore-target.js';
export {
  planRestore,
  filesToScan,
  backupTimeline,
  ESTIMATE_RATES,
  type ArchivedTransaction,
  type ScannedFile,
  type RestoreCatalog,
  type PlanRestoreOptions,
  type RestorePlan,
  type PlanFile,
  type BinlogPoint,
  type ScanRequest,
} from './plan-restore.js';
export {
  readArchivedSegments,
  scanArchivedFile,
  type SegmentRef,
  type ScannedTransaction,
} from './archived-segments.js';
export { loadRestorePlan } from './load-restore-plan.js';
export { ClientCommand } from './client-command.js';
export { MariadbBinlogApplier, type BinlogApplier, type ApplyResult } from './binlog-applier.js';
export {
  executeRestore,
  userDatabases,
  tableRowCounts,
  type ExecuteRestoreDeps,
  type RestoreReport,
  type TargetConnection,
} from './execute-restore.js';
export { searchTimeline, type TimelineSearchQuery, type TimelineMatch } from './timeline-search.js';
