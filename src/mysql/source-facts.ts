import type { Connection } from 'mysql2/promise';
import { isServerErrorInfo, toMysqlError } from './to-mysql-error.js';

/** MariaDB or Oracle MySQL (Percona Server and Aurora MySQL count as 'mysql'). */
export type MysqlFlavor = 'mariadb' | 'mysql';

/** major.minor.patch of the server. */
export interface ServerVersion {
  major: number;
  minor: number;
  patch: number;
}

/** One line of SHOW BINARY LOGS. */
export interface BinaryLogFile {
  /** File name, e.g. 'mysql-bin.000042'. */
  name: string;
  /** Size in bytes when the list was taken (the last file grows). */
  size: number;
}

/** A binlog file and a byte offset in it. */
export interface BinlogCoordinates {
  file: string;
  position: number;
}

/** What the source says about itself; read by readSourceFacts. */
export interface SourceFacts {
  flavor: MysqlFlavor;
  /** VERSION(), e.g. '10.11.19-MariaDB-0+deb12u1-log'. */
  version: string;
  versionNumber: ServerVersion;
  /** @@log_bin. */
  logBin: boolean;
  /** @@binlog_format: ROW, MIXED or STATEMENT. */
  binlogFormat: string;
  /** @@binlog_checksum: CRC32 or NONE. */
  binlogChecksum: string;
  /** @@server_id. */
  serverId: number;
  /** @@log_bin_basename when the server has it (null otherwise). */
  logBinBasename: string | undefined;
  /** MySQL: @@server_uuid. */
  serverUuid?: string;
  /** MySQL: @@gtid_mode (OFF, OFF_PERMISSIVE, ON_PERMISSIVE, ON). */
  gtidMode?: string;
  /** MySQL: @@gtid_executed. */
  gtidExecuted?: string;
  /** MariaDB: @@gtid_domain_id. */
  gtidDomainId?: number;
  /** MariaDB: @@gtid_binlog_pos (last GTID per domain written to the binlog). */
  gtidBinlogPos?: string;
  /** MariaDB: @@gtid_current_pos. */
  gtidCurrentPos?: string;
  /**
   * SHOW BINARY LOGS, oldest first; undefined when the user may not run it (needs BINLOG MONITOR on
   * MariaDB, REPLICATION CLIENT on MySQL) or the binlog is off.
   */
  binaryLogs: BinaryLogFile[] | undefined;
  /** SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL 8.2+); undefined when not allowed or binlog off. */
  current: BinlogCoordinates | undefined;
  /**
   * Whether SHOW GRANTS shows REPLICATION SLAVE (or ALL PRIVILEGES) on *.*; undefined when grants come
   * through roles and cannot be told from here.
   */
  hasReplicationSlave: boolean | undefined;
  /** SHOW GRANTS lines for the current user. */
  grants: string[];
}

/** The smallest part of a mysql2/promise connection this module uses. */
export type SqlConnection = Pick<Connection, 'query'>;

type Row = Record<string, unknown>;

/** Parses the leading `major.minor.patch` of a version string (0.0.0 when it has none). */
export function parseServerVersion(version: string): ServerVersion {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return { major: Number(m?.[1] ?? 0), minor: Number(m?.[2] ?? 0), patch: Number(m?.[3] ?? 0) };
}

/** a >= b */
export function versionAtLeast(v: ServerVersion, major: number, minor: number, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

/** Whether SHOW GRANTS lines give REPLICATION SLAVE on *.*; undefined when roles make it unknowable. */
export function grantsHaveReplicationSlave(grants: string[]): boolean | undefined {
  for (const g of grants) {
    const global = /\bON\s+\*\.\*\s+TO\b/i.test(g);
    if (global && /\b(ALL PRIVILEGES|REPLICATION SLAVE)\b/i.test(g)) return true;
  }
  // MySQL role grants look like "GRANT `r`@`%` TO `u`@`%`"; MariaDB's like "GRANT r TO u".
  const roles = grants.some((g) => /^GRANT\s+(?!.*\bON\b)/i.test(g.trim()));
  return roles ? undefined : false;
}

async function rows(conn: SqlConnection, sql: string): Promise<Row[]> {
  const [result] = await conn.query(sql);
  return result as Row[];
}

/** Runs `sql`, or returns undefined when the server refuses it for lack of privilege or binlog. */
async function optionalRows(conn: SqlConnection, sql: string): Promise<Row[] | undefined> {
  try {
    return await rows(conn, sql);
  } catch (err) {
    // 1227: missing privilege; 1381 (ER_NO_BINARY_LOGGING): binlog off; 1142/1044: denied
    if (isServerErrorInfo(err)) return undefined;
    throw err;
  }
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const bool = (v: unknown): boolean => v === 1 || v === '1' || v === 'ON' || v === true;

/**
 * Reads the source facts over `conn` (any user; what needs privileges is left undefined when denied).
 *
 * @param target for error messages, e.g. 'mysql://repl@db1:3306'
 * @throws MysqlServerError / MysqlConnectionError when a query that needs no privilege fails
 */
export async function readSourceFacts(conn: SqlConnection, target = 'the source'): Promise<SourceFacts> {
  try {
    const [v] = await rows(conn, 'SELECT VERSION() AS version, @@version_comment AS comment');
    const version = str(v?.version);
    const flavor: MysqlFlavor = /mariadb/i.test(`${version} ${str(v?.comment)}`) ? 'mariadb' : 'mysql';
    const versionNumber = parseServerVersion(version);
    const common =
      '@@global.log_bin AS log_bin, @@global.binlog_format AS binlog_format, ' +
      '@@global.binlog_checksum AS binlog_checksum, @@global.server_id AS server_id, ' +
      '@@global.log_bin_basename AS log_bin_basename';
    const specific =
      flavor === 'mariadb'
        ? '@@global.gtid_domain_id AS gtid_domain_id, @@global.gtid_binlog_pos AS gtid_binlog_pos, ' +
          '@@global.gtid_current_pos AS gtid_current_pos'
        : '@@global.server_uuid AS server_uuid, @@global.gtid_mode AS gtid_mode, ' +
          '@@global.gtid_executed AS gtid_executed';
    const [g] = await rows(conn, `SELECT ${common}, ${specific}`);
    const facts: SourceFacts = {
      flavor,
      version,
      versionNumber,
      logBin: bool(g?.log_bin),
      binlogFormat: str(g?.binlog_format).toUpperCase(),
      binlogChecksum: str(g?.binlog_checksum).toUpperCase(),
      serverId: Number(g?.server_id ?? 0),
      logBinBasename: g?.log_bin_basename === null ? undefined : str(g?.log_bin_basename),
      binaryLogs: undefined,
      current: undefined,
      hasReplicationSlave: undefined,
      grants: [],
    };
    if (flavor === 'mariadb') {
      facts.gtidDomainId = Number(g?.gtid_domain_id ?? 0);
      facts.gtidBinlogPos = str(g?.gtid_binlog_pos);
      facts.gtidCurrentPos = str(g?.gtid_current_pos);
    } else {
      facts.serverUuid = str(g?.server_uuid);
      facts.gtidMode = str(g?.gtid_mode);
      facts.gtidExecuted = str(g?.gtid_executed).replace(/\s+/g, '');
    }
    if (facts.logBin) {
      const logs = await optionalRows(conn, 'SHOW BINARY LOGS');
      facts.binaryLogs = logs?.map((r) => ({ name: str(r.Log_name), size: Number(r.File_size ?? 0) }));
      // MySQL 8.2 added SHOW BINARY LOG STATUS and 8.4 removed SHOW MASTER STATUS.
      const statusSql =
        flavor === 'mysql' && versionAtLeast(versionNumber, 8, 2)
          ? 'SHOW BINARY LOG STATUS'
          : 'SHOW MASTER STATUS';
      const [status] = (await optionalRows(conn, statusSql)) ?? [];
      if (status) facts.current = { file: str(status.File), position: Number(status.Position ?? 0) };
    }
    const grants = (await optionalRows(conn, 'SHOW GRANTS')) ?? [];
    facts.grants = grants.map((r) => str(Object.values(r)[0]));
    facts.hasReplicationSlave = grantsHaveReplicationSlave(facts.grants);
    return facts;
  } catch (err) {
    throw toMysqlError(err, { attempted: `read the source settings of ${target}`, target });
  }
}
