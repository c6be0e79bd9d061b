import type { PitrErrorCode } from './pitr-error.js';

/**
 * The one table mapping error codes to process exit codes. Documented in the README
 * ("Exit codes"); scripts may rely on these numbers.
 */
export const ExitCode = {
  OK: 0,
  /** Unexpected failure: a bug, or an error without a code. */
  INTERNAL: 1,
  /** Bad flags, config or arguments. */
  USAGE: 2,
  /** The MySQL/MariaDB server could not be reached, refused us, or lacks a prerequisite. */
  MYSQL: 3,
  /** The repository (file:// or s3://) failed: missing, denied, unavailable or full. */
  STORAGE: 4,
  /**
   * Data failed verification (checksum mismatch, corrupt or truncated binlog or object), or a binlog
   * this reader cannot use (unsupported format, encrypted at rest).
   */
  DATA: 5,
  /** The archive cannot serve what was asked: a gap in the binlog chain or a target outside it. */
  NOT_RECOVERABLE: 6,
  /** Another process holds the lease (a second archiver for the same source). */
  LOCKED: 7,
  /**
   * Refused to act on the repository: it holds an object this build cannot read or account for (a
   * newer format, or a damaged backup manifest expire must not delete). Nothing was changed.
   */
  REFUSED: 8,
  /** Stopped by SIGINT/SIGTERM before finishing. */
  INTERRUPTED: 130,
} as const;

const BY_CODE: Record<PitrErrorCode, number> = {
  USAGE: ExitCode.USAGE,
  CONFIG_INVALID: ExitCode.USAGE,
  MYSQL_CONNECTION: ExitCode.MYSQL,
  MYSQL_SERVER_ERROR: ExitCode.MYSQL,
  MYSQL_PREREQUISITE: ExitCode.MYSQL,
  MYSQL_TLS: ExitCode.MYSQL,
  OBJECT_NOT_FOUND: ExitCode.STORAGE,
  STORAGE_ACCESS_DENIED: ExitCode.STORAGE,
  STORAGE_BUCKET_MISSING: ExitCode.STORAGE,
  STORAGE_UNAVAILABLE: ExitCode.STORAGE,
  STORAGE_NO_SPACE: ExitCode.STORAGE,
  STORAGE_PRECONDITION_FAILED: ExitCode.STORAGE,
  CHECKSUM_MISMATCH: ExitCode.DATA,
  CORRUPT_DATA: ExitCode.DATA,
  TRUNCATED_DATA: ExitCode.DATA,
  BINLOG_FORMAT: ExitCode.DATA,
  BINLOG_ENCRYPTED: ExitCode.DATA,
  GTID_INVALID: ExitCode.USAGE,
  BINLOG_GAP: ExitCode.NOT_RECOVERABLE,
  TARGET_OUT_OF_RANGE: ExitCode.NOT_RECOVERABLE,
  LEASE_HELD: ExitCode.LOCKED,
  INTERRUPTED: ExitCode.INTERRUPTED,
  JOB_DISPATCH_FAILED: ExitCode.STORAGE,
  NOT_IMPLEMENTED: ExitCode.INTERNAL,
  DUMP_FAILED: ExitCode.MYSQL,
  DUMP_TOOL_MISSING: ExitCode.MYSQL,
  RESTORE_TARGET_NOT_EMPTY: ExitCode.MYSQL,
  RESTORE_APPLY_FAILED: ExitCode.MYSQL,
  RESTORE_TOOL_MISSING: ExitCode.MYSQL,
  REPLICA_SOURCE_BINLOGS_MISSING: ExitCode.NOT_RECOVERABLE,
  REPLICA_NOT_RUNNING: ExitCode.MYSQL,
  FORMAT_TOO_NEW: ExitCode.REFUSED,
  EXPIRE_REFUSED: ExitCode.REFUSED,
  UNDO_REFUSED: ExitCode.NOT_RECOVERABLE,
  UNDO_CONFLICT: ExitCode.MYSQL,
  INTERNAL: ExitCode.INTERNAL,
};

/** Exit code for an error code; unknown codes are INTERNAL. */
export function exitCodeFor(code: string | undefined): number {
  return (code && BY_CODE[code as PitrErrorCode]) || ExitCode.INTERNAL;
}
