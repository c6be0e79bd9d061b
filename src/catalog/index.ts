export { newBackupId, isBackupId, backupIdTime } from './backup-id.js';
export {
  BACKUPS_PREFIX,
  MANIFEST_NAME,
  DUMP_NAME,
  backupPrefix,
  backupDumpKey,
  backupManifestKey,
  parseBackupKey,
} from './backup-keys.js';
export {
  BACKUP_MANIFEST_FORMAT,
  serializeBackupManifest,
  parseBackupManifest,
  backupObjects,
  backupSize,
  singleDumpObject,
  type ManifestPart,
  type BackupManifest,
  type ManifestBinlogCoordinates,
  type ManifestSource,
  type ManifestTakenFrom,
  type ManifestObject,
  type NonTransactionalTable,
} from './backup-manifest.js';
export {
  readBackupCatalog,
  readBackupManifest,
  groupBackupObjects,
  type BackupCatalog,
  type IncompleteBackup,
} from './backup-catalog.js';
export {
  BINLOGS_PREFIX,
  TIMELINES_PREFIX,
  GAPS_PREFIX,
  ARCHIVER_LEASE_KEY,
  isTimelineId,
  formatTimelineId,
  nextTimelineId,
  isBinlogFileName,
  parseBinlogFileName,
  binlogFileAfter,
  compareBinlogFiles,
  timelineSegmentsPrefix,
  fileSegmentsPrefix,
  segmentKey,
  parseSegmentKey,
  timelineKey,
  parseTimelineKey,
  gapKey,
  parseGapKey,
  type SegmentKeyParts,
} from './binlog-keys.js';
export {
  SEGMENT_FORMAT,
  SEGMENT_HEADER_MAGIC,
  SEGMENT_HEADER_PROBE_BYTES,
  encodeSegmentHeader,
  decodeSegmentHeader,
  segmentHeaderFrameLength,
  mergeSegmentHeaders,
  type SegmentHeader,
  type DomainGtidRange,
} from './segment-header.js';
export {
  TIMELINE_FORMAT,
  sameSourceIdentity,
  describeSourceIdentity,
  serializeTimelineRecord,
  parseTimelineRecord,
  parentTimelineId,
  type SourceIdentity,
  type TimelineFork,
  type TimelineRecord,
} from './timeline-record.js';
export { BINLOG_GAP_FORMAT, serializeBinlogGap, parseBinlogGap, type BinlogGap } from './binlog-gap.js';
export {
  compactedSegmentKey,
  parseCompactedSegmentKey,
  type CompactedSegmentKeyParts,
} from './compacted-segment-key.js';
export { SegmentOverlapError } from './segment-overlap-error.js';
export {
  readVerifiedSegment,
  verifySegmentBody,
  type VerifiedSegmentRead,
  type VerifySegmentOptions,
} from './read-verified-segment.js';
export {
  readBinlogCatalog,
  readSegmentHeader,
  compareSegments,
  resolveCoveredSegments,
  type BinlogCatalog,
  type CatalogSegment,
  type CatalogTimeline,
  type CatalogFileIndex,
  type ReadBinlogCatalogOptions,
} from './binlog-catalog.js';
export {
  BINLOG_FILE_INDEX_FORMAT,
  BINLOG_FILE_INDEX_NAME,
  binlogFileIndexKey,
  parseBinlogFileIndexKey,
  encodeBinlogFileIndex,
  decodeBinlogFileIndex,
  type BinlogFileIndex,
  type FileIndexEntry,
} from './binlog-file-index.js';
export { checkFileIndexes, type FileIndexFinding } from './check-file-indexes.js';
export {
  writeBinlogFileIndex,
  type WriteBinlogFileIndexOptions,
  type WriteBinlogFileIndexResult,
} from './write-binlog-file-index.js';
export {
  summarizeTimeline,
  type BinlogFileSummary,
  type TimelineSummary,
  type SegmentHole,
} from './binlog-file-summary.js';
export {
  findBackupGtidCandidates,
  locateBackupByGtidHeaders,
  locateBackupTimeline,
  type BackupGtidCandidates,
  type GtidCandidate,
} from './backup-timeline.js';
export { timelineChain, timelineLink, type TimelineBreak, type TimelineLink } from './timeline-chain.js';
export { findDivergedHistories, type DivergedHistory } from './diverged-history.js';
export { judgeUnclosedFileEnd, type UnclosedFileEnd, type UnclosedFileVerdict } from './unclosed-file-end.js';
export {
  planRetention,
  DEFAULT_INCOMPLETE_GRACE_MS,
  type RetentionPolicy,
  type RetentionCatalog,
  type RetentionPlan,
  type RetainedBackup,
  type ExpiredBackup,
  type ExpiredIncompleteBackup,
  type ExpiredSegment,
  type ExpiredBinlogs,
  type RestorableStart,
  type RefusedObject,
} from './retention-policy.js';
export { mapLimit } from './map-limit.js';
export { checkFormatVersion } from './format-version.js';
