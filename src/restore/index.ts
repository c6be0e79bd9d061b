export {
  parseRestoreTarget,
  parseRestoreTime,
  parsePosition,
  normalizeGtid,
  describeRestoreTarget,
  RESTORE_TARGET_HELP,
  type RestoreTarget,
  type RestoreTargetFlags,
} from './plan/restore-target.js';
export {
  planRestore,
  filesToScan,
  ESTIMATE_RATES,
  type ArchivedTransaction,
  type ScannedFile,
  type RestoreCatalog,
  type PlanRestoreOptions,
  type RestorePlan,
  type PlanFile,
  type BinlogPoint,
  type ScanRequest,
} from './plan/plan-restore.js';
export {
  readArchivedSegments,
  scanArchivedFile,
  type SegmentRef,
  type ScannedTransaction,
} from './apply/archived-segments.js';
export { loadRestorePlan } from './plan/load-restore-plan.js';
export { ClientCommand } from './apply/client-command.js';
export {
  MariadbBinlogApplier,
  planApplyBytes,
  type BinlogApplier,
  type ApplyResult,
} from './apply/binlog-applier.js';
export {
  executeRestore,
  userDatabases,
  tableRowCounts,
  checkTargetEmpty,
  serverGtidState,
  setGtidSlavePos,
  type ServerGtidState,
  type ExecuteRestoreDeps,
  type RestoreReport,
  type TargetConnection,
} from './execute-restore.js';
export { searchTimeline, type TimelineSearchQuery, type TimelineMatch } from './timeline-search.js';
export { loadBackupDump, DEFAULT_LOAD_THREADS, type LoadBackupDumpDeps } from './load/load-backup-dump.js';
export {
  DumpStatementSplitter,
  splitDumpStatements,
  classifyStatement,
  type DumpStatement,
  type DumpStatementKind,
} from './load/dump-statement-splitter.js';
export { ParallelDumpLoader, type ParallelLoadStats } from './load/parallel-dump-loader.js';
export {
  openMysqlLoadSession,
  type ParallelLoadSession,
  type OpenLoadSession,
} from './load/parallel-load-session.js';
export {
  restoreBackup,
  selectBackup,
  type RestoreBackupDeps,
  type RestoreBackupReport,
} from './load/restore-backup.js';
export {
  replicaSourceSql,
  replicaTlsOptions,
  replicaSetDelaySql,
  replicaStopSql,
  checkReplicaDelay,
  sqlString,
  REPLICA_SESSION_SQL,
  MAX_REPLICA_DELAY,
  type ReplicaFlavor,
  type ReplicaStart,
  type ReplicaSourceOptions,
} from './replica/replica-sql.js';
export {
  parseReplicaStatus,
  replicaHealth,
  replicaStatusSql,
  ER_SOURCE_FATAL_ERROR_READING_BINLOG,
  type ReplicaStatus,
  type ReplicaHealth,
} from './replica/replica-status.js';
export {
  restoreReplica,
  replicaStartOf,
  readReplicaStatus,
  serverIdentity,
  waitForReplica,
  type ReplicaPrimary,
  type RestoreReplicaDeps,
  type RestoreReplicaReport,
} from './replica/restore-replica.js';
export { setReplicaDelay } from './replica/replica-set-delay.js';
export type { RestoreProgress, RestoreProgressListener } from './restore-progress.js';
export { BatchSqlSplitter, type BinlogSqlItem } from './apply/batch-sql-splitter.js';
export { BatchBinlogApplier, type BatchApplierOptions, type ConnectTarget } from './apply/batch-applier.js';
export {
  planApplyFrom,
  applyScanRequests,
  applyTimeline,
  loadApplyPlan,
  locateAfterGtid,
  locateAfterGtids,
  APPLY_FROM_BACKUP_ID,
} from './apply/batch-apply-plan.js';
export {
  rollForward,
  appliedGtids,
  targetGtids,
  type RollForwardDeps,
  type RollForwardReport,
} from './apply/batch-roll-forward.js';
export {
  restorePreflight,
  checkPrograms,
  checkPrivileges,
  missingPrivileges,
  planRangeHoles,
  RestorePreflightError,
  RESTORE_PRIVILEGES,
  type RequiredProgram,
  type RestorePreflightOptions,
  type PreflightCheck,
} from './restore-preflight.js';
export {
  EventBinlogApplier,
  type EventApplierOptions,
  type ConnectEventTarget,
} from './apply/event-applier.js';
export { EventApplyError, type EventApplyFailure } from './apply/event-apply-error.js';
export {
  TableEventFilter,
  rewriteTableMapDatabase,
  type EventFilter,
  type QueryDecision,
  type TableFilterOptions,
} from './apply/event-filter.js';
export { SessionContext, type SessionContextOptions, type TargetCollation } from './apply/session-context.js';
export {
  binlogStatement,
  rowGroupStatements,
  isBinlogStatement,
  base64Length,
  BinlogEventTooBigError,
  BINLOG_FRAGMENTS_SQL,
  BINLOG_FRAGMENTS_FREE_SQL,
} from './apply/binlog-statement-builder.js';
export {
  restoreTables,
  parseTableList,
  foreignKeyTargets,
  type TableName,
  type TableRestoreDeps,
  type TableRestoreReport,
} from './tables/table-restore.js';
