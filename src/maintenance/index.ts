export {
  fetchArchivedBinlogs,
  chooseTimeline,
  type FetchBinlogsOptions,
  type FetchedBinlog,
} from './archive-fetch.js';
export { readArchiveStatus, type ArchiveStatus } from './archive-status.js';
export { expireRepository, type ExpireOptions, type ExpireResult } from './expire-repository.js';
export { ExpireRefusedError } from './expire-refused-error.js';
export { verifyRepository, type VerifyOptions, type VerifyReport } from './verify-repository.js';
export { newestCommitRestorable } from './newest-commit-restorable.js';
export {
  checkChain,
  type VerifyProblem,
  type CheckedSegment,
  type CheckedBackup,
  type ChainPoint,
  type ChainRun,
  type SourceRestart,
  type ExpireLeftover,
  type ChainReport,
  type RestorableWindow,
} from './verify-chain.js';
export { compactBinlogFile, type CompactFileOptions, type CompactedFile } from './compact-binlog-file.js';
export {
  compactRepository,
  COMPACT_LEASE_KEY,
  type CompactRepositoryOptions,
  type CompactRepositoryResult,
} from './compact-repository.js';
export {
  closedBinlogFiles,
  planFileCompaction,
  DEFAULT_COMPACT_MAX_OBJECT_BYTES,
  type ClosedBinlogFile,
  type CompactionGroup,
} from './compact-plan.js';
export {
  CompactAfterClose,
  DEFAULT_COMPACT_AFTER_MS,
  type CompactAfterCloseOptions,
} from './compact-after-close.js';
