/**
 * The one base class for every error mysql-pitr raises on purpose.
 *
 * `code` is stable: scripts, the exit-code table (src/errors/exit-codes.ts) and tests match on
 * it, never on the message. The message is for the operator paged at 3 a.m.: it says what
 * happened and what to do next. `cause` carries the lower-level error through ErrorOptions.
 */
export type PitrErrorCode =
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'OBJECT_NOT_FOUND'
  | 'STORAGE_ACCESS_DENIED'
  | 'STORAGE_BUCKET_MISSING'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_NO_SPACE'
  | 'STORAGE_PRECONDITION_FAILED'
  | 'CHECKSUM_MISMATCH'
  | 'CORRUPT_DATA'
  | 'TRUNCATED_DATA'
  | 'BINLOG_GAP'
  | 'BINLOG_FORMAT'
  | 'BINLOG_ENCRYPTED'
  | 'GTID_INVALID'
  | 'MYSQL_SERVER_ERROR'
  | 'MYSQL_CONNECTION'
  | 'MYSQL_PREREQUISITE'
  | 'MYSQL_TLS'
  | 'LEASE_HELD'
  | 'TARGET_OUT_OF_RANGE'
  | 'INTERRUPTED'
  | 'JOB_DISPATCH_FAILED'
  | 'NOT_IMPLEMENTED'
  | 'DUMP_FAILED'
  | 'DUMP_TOOL_MISSING'
  | 'RESTORE_TARGET_NOT_EMPTY'
  | 'RESTORE_APPLY_FAILED'
  | 'RESTORE_TOOL_MISSING'
  | 'REPLICA_SOURCE_BINLOGS_MISSING'
  | 'REPLICA_NOT_RUNNING'
  | 'FORMAT_TOO_NEW'
  | 'EXPIRE_REFUSED'
  | 'UNDO_REFUSED'
  | 'UNDO_CONFLICT'
  | 'INTERNAL';

export class PitrError extends Error {
  /** Stable machine-readable code; see PitrErrorCode. */
  readonly code: PitrErrorCode;

  constructor(code: PitrErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is a PitrError with one of the given codes. */
export function isPitrError(err: unknown, ...codes: PitrErrorCode[]): err is PitrError {
  return err instanceof PitrError && (codes.length === 0 || codes.includes(err.code));
}

/** The message of any thrown value, for wrapping. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
