import { PitrError, isPitrError, messageOf } from '../errors/index.js';
import {
  BinlogUnavailableError,
  MysqlConnectionError,
  MysqlPrerequisiteError,
  MysqlServerError,
  isServerErrorInfo,
} from '../mysql/index.js';

/**
 * Codes of a connection that broke or could not be made, as Node's net/dns and mysql2 3.x set them
 * on `err.code`: the source restarted, failed over, or the network dropped us. Worth a reconnect.
 */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT', // also mysql2's connectTimeout
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN', // DNS lookup failed for now (a failover moving the name)
  'PROTOCOL_CONNECTION_LOST', // mysql2: the server closed the connection
  'PROTOCOL_SEQUENCE_TIMEOUT', // mysql2: no answer to a command within its timeout
]);

/**
 * Server errors worth a reconnect: 1053 shutdown in progress, 1040 too many connections,
 * 1152/1153/1158-1161 network, 2013 lost connection, 4052 same server_id still registered from a
 * killed predecessor.
 */
const TRANSIENT_ERRNOS: ReadonlySet<number> = new Set([
  1040, 1053, 1152, 1153, 1158, 1159, 1160, 1161, 2013, 4052,
]);

/** JavaScript's own error classes: thrown by a bug in this program, never by the network. */
const PROGRAMMING_ERRORS: readonly (new (...args: never[]) => Error)[] = [
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
];

/** What a failed source session calls for: a reconnect, or the end of the archive with `error`. */
export type SourceErrorVerdict = { reconnect: true } | { reconnect: false; error: unknown };

/**
 * Judges a session that failed with `err`. Reconnect when the source went away, is busy or shutting
 * down (MysqlConnectionError, a raw Node/mysql2 network error, a transient server error number,
 * typed or raw), a purge or a new timeline is to be re-planned (BinlogUnavailableError), or the
 * network damaged an event (CHECKSUM_MISMATCH). End with `err` itself for credentials, privileges, a
 * binary log that is off, or any other typed error. End with a PitrError INTERNAL for anything else
 * (a TypeError, a RangeError, an error without a known network code, also when it is the cause of a
 * MysqlConnectionError): a bug, which must end the archive loudly, with a message that says to
 * report it, instead of reconnecting forever. Pure.
 */
export function judgeSourceError(err: unknown): SourceErrorVerdict {
  const end = (error: unknown): SourceErrorVerdict => ({ reconnect: false, error });
  if (err instanceof BinlogUnavailableError) return { reconnect: true }; // re-plan: a purge or a new timeline
  if (err instanceof MysqlPrerequisiteError) return end(err);
  if (err instanceof MysqlConnectionError) {
    // the mysql layer turns whatever breaks a session into MysqlConnectionError (an idle timeout has
    // no code); only a bug of ours underneath is not worth a reconnect
    return isProgrammingError(err.cause) ? end(unexpectedError(err.cause)) : { reconnect: true };
  }
  if (isPitrError(err, 'CHECKSUM_MISMATCH')) return { reconnect: true };
  // a server error packet, typed or as mysql2 raised it: the server spoke, so it is no bug of ours
  if (err instanceof MysqlServerError || isServerErrorInfo(err)) {
    return TRANSIENT_ERRNOS.has(err.errno) ? { reconnect: true } : end(err);
  }
  if (err instanceof PitrError) return end(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code) && !isProgrammingError(err)) {
    return { reconnect: true };
  }
  return end(unexpectedError(err));
}

/** Whether a session that failed with `err` is worth a reconnect (judgeSourceError). Pure. */
export function isRetryableSourceError(err: unknown): boolean {
  return judgeSourceError(err).reconnect;
}

function isProgrammingError(err: unknown): boolean {
  return PROGRAMMING_ERRORS.some((c) => err instanceof c);
}

function unexpectedError(err: unknown): PitrError {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : messageOf(err);
  return new PitrError(
    'INTERNAL',
    `the binlog stream failed with an unexpected error (${what}). This is a bug in mysql-pitr, not a ` +
      'network or source problem, so the archiver stopped instead of reconnecting. Report it with this log ' +
      '(the cause has the stack trace). The archive is intact up to the last stored segment; starting the ' +
      'archiver again resumes from there.',
    { cause: err },
  );
}
