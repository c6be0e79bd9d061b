/**
 * Reading `SHOW SLAVE STATUS` (MariaDB) / `SHOW REPLICA STATUS` (MySQL 8.0.22+) rows (pure).
 * https://mariadb.com/kb/en/show-replica-status/ and
 * https://dev.mysql.com/doc/refman/8.0/en/show-replica-status.html
 */
import type { ReplicaFlavor } from './replica-sql.js';

/** ER_MASTER_FATAL_ERROR_READING_BINLOG: the source cannot send what the replica asks for (purged binlogs, unknown GTID). */
export const ER_SOURCE_FATAL_ERROR_READING_BINLOG = 1236;

/** The fields of a replica's status that restore replica and replica set-delay report. */
export interface ReplicaStatus {
  ioRunning: string;
  sqlRunning: string;
  /** Null while the SQL thread is stopped or the lag is unknown. */
  secondsBehindSource: number | null;
  /** The configured delay (MASTER_DELAY / SOURCE_DELAY). */
  sqlDelay: number;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  ioState: string;
  sourceHost: string;
  sourcePort: number;
  /** The binlog file and position the IO thread has read up to on the source. */
  sourceLogFile: string;
  readSourceLogPos: number;
  /** MariaDB `Gtid_IO_Pos`, MySQL `Retrieved_Gtid_Set`; empty when unknown. */
  gtidIoPos: string;
}

/** The status query of each flavor. */
export function replicaStatusSql(flavor: ReplicaFlavor): string {
  return flavor === 'mysql' ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS';
}

type Row = Record<string, unknown>;

function field(row: Row, ...names: string[]): unknown {
  for (const n of names) if (row[n] !== undefined) return row[n];
  return undefined;
}
const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (v === undefined || v === null || v === '' ? 0 : Number(v));

/**
 * Normalises one status row (either vocabulary: `Slave_IO_Running` or `Replica_IO_Running`, ...).
 *
 * @returns undefined when there is no row (the server is not a replica)
 */
export function parseReplicaStatus(row: Row | undefined): ReplicaStatus | undefined {
  if (!row) return undefined;
  const behind = field(row, 'Seconds_Behind_Master', 'Seconds_Behind_Source');
  return {
    ioRunning: str(field(row, 'Slave_IO_Running', 'Replica_IO_Running')),
    sqlRunning: str(field(row, 'Slave_SQL_Running', 'Replica_SQL_Running')),
    secondsBehindSource: behind === null || behind === undefined || behind === '' ? null : Number(behind),
    sqlDelay: num(field(row, 'SQL_Delay')),
    lastIoErrno: num(field(row, 'Last_IO_Errno')),
    lastIoError: str(field(row, 'Last_IO_Error')),
    lastSqlErrno: num(field(row, 'Last_SQL_Errno')),
    lastSqlError: str(field(row, 'Last_SQL_Error')),
    ioState: str(field(row, 'Slave_IO_State', 'Replica_IO_State')),
    sourceHost: str(field(row, 'Master_Host', 'Source_Host')),
    sourcePort: num(field(row, 'Master_Port', 'Source_Port')),
    sourceLogFile: str(field(row, 'Master_Log_File', 'Source_Log_File')),
    readSourceLogPos: num(field(row, 'Read_Master_Log_Pos', 'Read_Source_Log_Pos')),
    gtidIoPos: str(field(row, 'Gtid_IO_Pos', 'Retrieved_Gtid_Set')),
  };
}

/** What a status says about a replica that was just started. */
export type ReplicaHealth =
  | { state: 'running' }
  | { state: 'starting' }
  | { state: 'source-binlogs-missing'; message: string }
  | { state: 'io-failed'; errno: number; message: string }
  | { state: 'sql-failed'; errno: number; message: string };

/**
 * Judges a status: both threads `Yes` with no error is running; error 1236 on the IO thread means
 * the source no longer has the binlogs (or GTIDs) the replica needs; any other error, or a thread
 * that stopped, is a failure; anything else (`Connecting`, no row yet) is still starting.
 */
export function replicaHealth(s: ReplicaStatus | undefined): ReplicaHealth {
  if (!s) return { state: 'starting' };
  if (s.lastIoErrno === ER_SOURCE_FATAL_ERROR_READING_BINLOG) {
    return { state: 'source-binlogs-missing', message: s.lastIoError };
  }
  if (s.lastSqlErrno !== 0 && s.sqlRunning !== 'Yes') {
    return { state: 'sql-failed', errno: s.lastSqlErrno, message: s.lastSqlError };
  }
  if (s.sqlRunning === 'No') {
    return {
      state: 'sql-failed',
      errno: s.lastSqlErrno,
      message: s.lastSqlError || 'the SQL thread is not running',
    };
  }
  if (s.ioRunning === 'No') {
    return {
      state: 'io-failed',
      errno: s.lastIoErrno,
      message: s.lastIoError || 'the IO thread is not running',
    };
  }
  if (s.ioRunning === 'Yes' && s.sqlRunning === 'Yes' && s.lastIoErrno === 0 && s.lastSqlErrno === 0) {
    return { state: 'running' };
  }
  return { state: 'starting' };
}
