import { PitrError, isPitrError } from '../errors/index.js';
import { BinlogUnavailableError, MysqlPrerequisiteError, MysqlServerError } from '../mysql/index.js';

/**
 * Whether a session that failed with `err` is worth a reconnect: the source went away, is busy or
 * shutting down, a purge or a new timeline is to be re-planned (BinlogUnavailableError), or the
 * network damaged an event (CHECKSUM_MISMATCH). Not for credentials, privileges, a binary log that
 * is off, or any other typed error. Pure.
 */
export function isRetryableSourceError(err: unknown): boolean {
  if (err instanceof BinlogUnavailableError) return true; // re-plan: a purge or a new timeline
  if (err instanceof MysqlPrerequisiteError) return false;
  if (isPitrError(err, 'MYSQL_CONNECTION', 'CHECKSUM_MISMATCH')) return true;
  if (err instanceof MysqlServerError) {
    // 1053 shutdown in progress, 1040 too many connections, 1152/1159/1161 network, 4052 same server_id
    // still registered from a killed predecessor
    return [1040, 1053, 1152, 1153, 1158, 1159, 1160, 1161, 2013, 4052].includes(err.errno);
  }
  return !(err instanceof PitrError);
}
