export { PitrError, isPitrError, messageOf, type PitrErrorCode } from './pitr-error.js';
export { ChecksumMismatchError } from './checksum-mismatch-error.js';
export { CorruptDataError } from './corrupt-data-error.js';
export { BinlogEncryptedError } from './binlog-encrypted-error.js';
export { ExitCode, exitCodeFor } from './exit-codes.js';
export { FormatTooNewError } from './format-too-new-error.js';
export {
  TargetOutOfRangeError,
  type OutOfRangeReason,
  type OutOfRangeSubject,
} from './target-out-of-range-error.js';
export { BinlogGapError, type MissingBinlogRange } from './binlog-gap-error.js';
export { TransactionBoundaryError, type EnclosingTransaction } from './transaction-boundary-error.js';
