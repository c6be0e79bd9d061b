export {
  FlushPolicy,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_SEGMENT_SIZE,
  type FlushReason,
  type FlushPolicyOptions,
} from './flush-policy.js';
export { SegmentBuilder, type CutSegment, type AddResult } from './segment-builder.js';
export {
  ArchiveCore,
  isCaughtUp,
  type ArchiveCoreOptions,
  type CatchUpState,
  type SegmentCut,
} from './archive-core.js';
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
export {
  archiveBinlogs,
  type ArchiveOptions,
  type ArchiveResult,
  type StoredSegmentListener,
} from './binlog-archiver.js';
export type {
  SourcePort,
  SourceDump,
  SourceItems,
  SourceItem,
  SourceSnapshot,
  GtidStarts,
} from './source-port.js';
export { MysqlSourcePort, type MysqlSourcePortOptions, type SourceCandidate } from './mysql-source-port.js';
export { identityOf, sourceStateOf } from './source-state.js';
export { readRepositoryState, timelineIdsUnder } from './read-repository-state.js';
export { recordArchiveStart, type RecordArchiveStartDeps } from './record-archive-start.js';
export { archiveDump, type ArchiveDumpOptions } from './archive-dump.js';
export {
  dumpTuning,
  CATCH_UP_SEGMENT_SIZE,
  CATCH_UP_ZSTD_JOB_SIZE,
  CATCH_UP_ZSTD_WORKERS,
  type DumpTuning,
} from './dump-tuning.js';
export { ArchiveProgress, type ArchiveProgressOptions, type DurablePosition } from './archive-progress.js';
export { SourcePurger } from './source-purger.js';
export { SourceRotator } from './source-rotator.js';
export {
  isRetryableSourceError,
  judgeSourceError,
  type SourceErrorVerdict,
} from './retryable-source-error.js';
export { YoungGenerationSizer } from './young-generation-sizer.js';
export { formatArchiveMetrics, METRICS_NAMESPACE, type ArchiveFlushMetrics } from './archive-metrics.js';
