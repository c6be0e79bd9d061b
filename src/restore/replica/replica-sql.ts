/**
 * The SQL that makes a server a replica, for MariaDB and MySQL (pure).
 *
 * - MariaDB: https://mariadb.com/kb/en/change-master-to/ and
 *   https://mariadb.com/kb/en/gtid/#using-current_pos-vs-slave_pos
 * - MySQL 8.0.23+: https://dev.mysql.com/doc/refman/8.0/en/change-replication-source-to.html and
 *   https://dev.mysql.com/doc/refman/8.0/en/replication-gtids-howto.html
 */
import { CorruptDataError, PitrError } from '../../errors/index.js';
import { GtidError } from '../../gtid/index.js';
import type { TlsSettings } from '../../mysql/index.js';

/** Which dialect to speak. */
export type ReplicaFlavor = 'mariadb' | 'mysql';

/** Where the replica starts reading the source: a GTID position, or a binlog file and position. */
export type ReplicaStart =
  | {
      kind: 'gtid';
      /** MariaDB `gtid_slave_pos` (`0-1-42,1-2-7`) or MySQL `GTID_PURGED` set (`uuid:1-42`). */
      gtid: string;
    }
  | { kind: 'position'; file: string; position: number };

/** What replicaSourceSql needs. */
export interface ReplicaSourceOptions {
  flavor: ReplicaFlavor;
  /** The source (primary) to replicate from. */
  host: string;
  port: number;
  user: string;
  password?: string | undefined;
  start: ReplicaStart;
  /** MASTER_DELAY / SOURCE_DELAY in seconds; omitted means the server's default (0). */
  delaySeconds?: number | undefined;
  /** Print `'***'` instead of the password (for logs and --dry-run). */
  redactPassword?: boolean;
  /**
   * TLS of the replica's connection to the primary (`MASTER_SSL*` / `SOURCE_SSL*`); its file paths
   * are read by the replica server, on its host. Undefined or `preferred`: the server's default.
   */
  tls?: TlsSettings | undefined;
}

/**
 * The `MASTER_SSL*` (MariaDB) or `SOURCE_SSL*` (MySQL) options for `tls`:
 * disabled `SSL=0`; preferred nothing (the server's default); required `SSL=1`; verify-ca adds
 * `SSL_CA`; verify-identity adds `SSL_VERIFY_SERVER_CERT=1` (MariaDB checks the chain and the host
 * name only with it, so verify-ca on MariaDB checks the chain through the CA alone).
 */
export function replicaTlsOptions(flavor: ReplicaFlavor, tls: TlsSettings | undefined): string[] {
  if (!tls || tls.mode === 'preferred') return [];
  const k = flavor === 'mysql' ? 'SOURCE' : 'MASTER';
  if (tls.mode === 'disabled') return [`${k}_SSL=0`];
  const verify = tls.mode === 'verify-ca' || tls.mode === 'verify-identity';
  return [
    `${k}_SSL=1`,
    ...(verify && tls.caFile !== undefined ? [`${k}_SSL_CA=${sqlString(tls.caFile)}`] : []),
    ...(tls.certFile !== undefined ? [`${k}_SSL_CERT=${sqlString(tls.certFile)}`] : []),
    ...(tls.keyFile !== undefined ? [`${k}_SSL_KEY=${sqlString(tls.keyFile)}`] : []),
    `${k}_SSL_VERIFY_SERVER_CERT=${tls.mode === 'verify-identity' ? 1 : 0}`,
  ];
}

/** Largest delay both servers accept (2^31 - 1 seconds). */
export const MAX_REPLICA_DELAY = 2147483647;

const MARIADB_GTID_POS_RE = /^\s*(\d+-\d+-\d+\s*(,\s*\d+-\d+-\d+\s*)*)?$/;
const MYSQL_GTID_SET_RE = /^[\s0-9a-fA-F:,\-a-zA-Z_]*$/;

/** Characters that cannot appear as themselves in a quoted literal, and how they are written. */
const SQL_ESCAPES = new Map<string, string>([
  ['\0', '\\0'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  [String.fromCharCode(26), '\\Z'], // Ctrl-Z: end of file on Windows clients
  ['\\', '\\\\'],
  ["'", "''"],
]);

/**
 * A SQL string literal: quotes doubled, backslashes and control characters escaped. The backslash
 * escapes need NO_BACKSLASH_ESCAPES off in the session that runs it (REPLICA_SESSION_SQL does that).
 */
export function sqlString(s: string): string {
  let escaped = '';
  for (const c of s) escaped += SQL_ESCAPES.get(c) ?? c;
  return `'${escaped}'`;
}

/** Run first on the session that sends the other statements, so sqlString's escapes mean what they say. */
export const REPLICA_SESSION_SQL =
  "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')";

/**
 * Checks a delay in seconds.
 *
 * @throws PitrError USAGE unless it is a whole number from 0 to 2147483647
 */
export function checkReplicaDelay(delay: number): number {
  if (!Number.isSafeInteger(delay) || delay < 0 || delay > MAX_REPLICA_DELAY) {
    throw new PitrError(
      'USAGE',
      `--delay ${delay} is not a number of seconds from 0 to ${MAX_REPLICA_DELAY} (e.g. --delay 3600 for one hour)`,
    );
  }
  return delay;
}

function checkStart(flavor: ReplicaFlavor, start: ReplicaStart): void {
  if (start.kind === 'gtid') {
    const ok =
      flavor === 'mariadb' ? MARIADB_GTID_POS_RE.test(start.gtid) : MYSQL_GTID_SET_RE.test(start.gtid);
    if (!ok) {
      throw new GtidError(
        start.gtid,
        `the backup's GTID position is not a ${flavor === 'mariadb' ? 'MariaDB GTID position' : 'MySQL GTID set'}; ` +
          'the manifest may be damaged: use another backup (--backup ID)',
      );
    }
  } else if (!/^[^'\\\0]+$/.test(start.file) || !Number.isSafeInteger(start.position) || start.position < 4) {
    throw new CorruptDataError(
      'the backup manifest',
      undefined,
      `the backup's binlog coordinates ${start.file}:${start.position} are not a binlog file and position; ` +
        'the manifest may be damaged: use another backup (--backup ID)',
    );
  }
}

/**
 * Stops replication and forgets the current source, if any (harmless on a server that is not a
 * replica): run before a dump is loaded over a server that may be replicating.
 */
export function replicaStopSql(flavor: ReplicaFlavor): string[] {
  return flavor === 'mysql' ? ['STOP REPLICA', 'RESET REPLICA ALL'] : ['STOP SLAVE', 'RESET SLAVE ALL'];
}

/**
 * The statements that point a stopped (or fresh) server at a source and start replication, in order:
 *
 * - MariaDB: `STOP SLAVE`, `RESET SLAVE ALL`, `SET GLOBAL gtid_slave_pos = ...` then `CHANGE MASTER TO ...,
 *   MASTER_USE_GTID=slave_pos` (or `MASTER_LOG_FILE`/`MASTER_LOG_POS` without a GTID position),
 *   `MASTER_DELAY` when given, `START SLAVE`.
 * - MySQL 8.0.23+: `STOP REPLICA`, `RESET REPLICA ALL`, `RESET MASTER; SET GLOBAL GTID_PURGED = ...` then
 *   `CHANGE REPLICATION SOURCE TO ..., SOURCE_AUTO_POSITION=1` (or `SOURCE_LOG_FILE`/`SOURCE_LOG_POS`),
 *   `SOURCE_DELAY` when given, `START REPLICA`.
 *
 * Run REPLICA_SESSION_SQL first on the same session.
 *
 * @throws PitrError USAGE for a bad delay, GtidError (GTID_INVALID) / CorruptDataError (CORRUPT_DATA) for bad
 *   coordinates
 */
export function replicaSourceSql(o: ReplicaSourceOptions): string[] {
  checkStart(o.flavor, o.start);
  if (o.delaySeconds !== undefined) checkReplicaDelay(o.delaySeconds);
  if (!Number.isSafeInteger(o.port) || o.port < 1 || o.port > 65535) {
    throw new PitrError('USAGE', `--primary port ${o.port} is not a TCP port`);
  }
  const pw = o.password === undefined ? undefined : o.redactPassword ? "'***'" : sqlString(o.password);
  const my = o.flavor === 'mysql';
  const k = (mariadb: string, mysql: string): string => (my ? mysql : mariadb);
  const opts = [
    `${k('MASTER_HOST', 'SOURCE_HOST')}=${sqlString(o.host)}`,
    `${k('MASTER_PORT', 'SOURCE_PORT')}=${o.port}`,
    `${k('MASTER_USER', 'SOURCE_USER')}=${sqlString(o.user)}`,
    ...(pw !== undefined ? [`${k('MASTER_PASSWORD', 'SOURCE_PASSWORD')}=${pw}`] : []),
    ...replicaTlsOptions(o.flavor, o.tls),
  ];
  // RESET ... ALL forgets an earlier source, its relay logs and delay: a rebuilt replica starts clean.
  const before: string[] = [...replicaStopSql(o.flavor)];
  if (o.start.kind === 'gtid') {
    if (my) {
      // GTID_PURGED can only be set on a server whose gtid_executed is empty: the dump was loaded
      // with the binary log off, so RESET MASTER loses nothing of the backup's data.
      before.push('RESET MASTER', `SET GLOBAL GTID_PURGED = ${sqlString(o.start.gtid.trim())}`);
      opts.push('SOURCE_AUTO_POSITION=1');
    } else {
      before.push(`SET GLOBAL gtid_slave_pos = ${sqlString(o.start.gtid.replace(/\s+/g, ''))}`);
      opts.push('MASTER_USE_GTID=slave_pos');
    }
  } else {
    opts.push(
      `${k('MASTER_LOG_FILE', 'SOURCE_LOG_FILE')}=${sqlString(o.start.file)}`,
      `${k('MASTER_LOG_POS', 'SOURCE_LOG_POS')}=${o.start.position}`,
    );
    if (my) opts.push('SOURCE_AUTO_POSITION=0');
    else opts.push('MASTER_USE_GTID=no');
  }
  if (o.delaySeconds !== undefined) opts.push(`${k('MASTER_DELAY', 'SOURCE_DELAY')}=${o.delaySeconds}`);
  return [
    ...before,
    `${k('CHANGE MASTER TO', 'CHANGE REPLICATION SOURCE TO')} ${opts.join(', ')}`,
    my ? 'START REPLICA' : 'START SLAVE',
  ];
}

/**
 * The statements that change the delay of a running replica. MySQL accepts SOURCE_DELAY with only
 * the applier (SQL) thread stopped, so the receiver keeps fetching meanwhile. MariaDB (10.11)
 * refuses any CHANGE MASTER while the IO thread runs ("run STOP SLAVE first"), so both threads are
 * stopped; nothing is lost: the relay log is kept (file/position) or refetched from gtid_slave_pos.
 *
 * @throws PitrError USAGE for a bad delay
 */
export function replicaSetDelaySql(flavor: ReplicaFlavor, delaySeconds: number): string[] {
  checkReplicaDelay(delaySeconds);
  return flavor === 'mysql'
    ? [
        'STOP REPLICA SQL_THREAD',
        `CHANGE REPLICATION SOURCE TO SOURCE_DELAY=${delaySeconds}`,
        'START REPLICA SQL_THREAD',
      ]
    : ['STOP SLAVE', `CHANGE MASTER TO MASTER_DELAY=${delaySeconds}`, 'START SLAVE'];
}
