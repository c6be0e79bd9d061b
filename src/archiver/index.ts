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
  identityOf,
  type ArchiveOptions,
  type ArchiveResult,
  type StoredSegmentListener,
} from './binlog-archiver.js';
export { formatArchiveMetrics, METRICS_NAMESPACE, type ArchiveFlushMetrics } from './archive-metrics.js';
