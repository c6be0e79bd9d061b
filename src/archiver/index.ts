export {
  createBackup,
  findNonTransactionalTables,
  type CreateBackupOptions,
  type BackupProgress,
} from '../backup/create-backup.js';
export {
  buildDumpCommand,
  type DumpCommand,
  type DumpCommandOptions,
  type DumpEndpoint,
  type DumpSourceFlavor,
} from '../backup/dump-command.js';
export { DumpCoordinatesScanner, type DumpCoordinates } from '../backup/dump-coordinates-scanner.js';
export { DumpError } from '../backup/dump-error.js';
export {
  FlushPolicy,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_SEGMENT_SIZE,
  type FlushReason,
  type FlushPolicyOptions,
} from './flush-policy.js';
export { SegmentBuilder, type CutSegment, type AddResult } from './segment-builder.js';
export { encodeSegment, encodeSegmentParts } from './segment-encoder.js';
export { SegmentUploader, type SegmentUploaderOptions } from './segment-uploader.js';
export {
  planArchiveStart,
  type ArchiveStartPlan,
  type RepositoryState,
  type SourceState,
  type PlannedGap,
} from './archive-start-plan.js';
export {
  Lease,
  LeaseHeldError,
  readLease,
  parseLeaseRecord,
  DEFAULT_LEASE_TTL_MS,
  type LeaseRecord,
  type LeaseOptions,
} from './lease.js';
export { archiveBinlogs, identityOf, type ArchiveOptions, type ArchiveResult } from './binlog-archiver.js';
export {
  fetchArchivedBinlogs,
  chooseTimeline,
  type FetchBinlogsOptions,
  type FetchedBinlog,
} from '../maintenance/archive-fetch.js';
export { readArchiveStatus, type ArchiveStatus } from '../maintenance/archive-status.js';
export { formatArchiveMetrics, METRICS_NAMESPACE, type ArchiveFlushMetrics } from './archive-metrics.js';
export { expireRepository, type ExpireOptions, type ExpireResult } from '../maintenance/expire-repository.js';
export { ExpireRefusedError } from '../maintenance/expire-refused-error.js';
export { verifyRepository, type VerifyOptions, type VerifyReport } from '../maintenance/verify-repository.js';
export { newestCommitRestorable } from '../maintenance/newest-commit-restorable.js';
export {
  checkChain,
  type VerifyProblem,
  type CheckedSegment,
  type CheckedBackup,
  type ChainPoint,
  type ChainRun,
  type SourceRestart,
  type ChainReport,
  type RestorableWindow,
} from '../maintenance/verify-chain.js';
export {
  compactBinlogFile,
  type CompactFileOptions,
  type CompactedFile,
} from '../maintenance/compact-binlog-file.js';
export {
  CompactAfterClose,
  DEFAULT_COMPACT_AFTER_MS,
  type CompactAfterCloseOptions,
} from './compact-after-close.js';
export {
  compactRepository,
  COMPACT_LEASE_KEY,
  type CompactRepositoryOptions,
  type CompactRepositoryResult,
} from '../maintenance/compact-repository.js';
export {
  closedBinlogFiles,
  planFileCompaction,
  DEFAULT_COMPACT_MAX_OBJECT_BYTES,
  type ClosedBinlogFile,
  type CompactionGroup,
} from '../maintenance/compact-plan.js';
