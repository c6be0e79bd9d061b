import { CorruptDataError, PitrError } from '../errors/index.js';
import { checkFormatVersion } from './format-version.js';

/**
 * Current manifest format; a reader refuses manifests of a newer format rather than misread them.
 * Format 1: one `dump` object. Format 2 adds split backups: `parts` instead of `dump`.
 */
export const BACKUP_MANIFEST_FORMAT = 2;

/** A binlog file and byte offset: where replaying the binlog must start to continue from the dump. */
export interface ManifestBinlogCoordinates {
  /** Binlog file name, e.g. `mysql-bin.000042`. */
  file: string;
  /** Byte offset in `file` of the first event not contained in the dump. */
  position: number;
}

/** Who was dumped. */
export interface ManifestSource {
  /** `host:port` (or the socket path) the dump connected to. */
  address: string;
  /** `@@server_id`. */
  serverId: number;
  /** MySQL: `@@server_uuid`. */
  serverUuid?: string;
  /** MariaDB: `@@gtid_domain_id`. */
  gtidDomainId?: number;
  flavor: 'mariadb' | 'mysql';
  /** `VERSION()`, e.g. `10.11.19-MariaDB-0+deb12u1-log`. */
  version: string;
}

/**
 * The server the dump was taken from. For a backup taken on a replica, `source` names the primary
 * whose binlog the coordinates belong to, and this the replica.
 */
export interface ManifestTakenFrom {
  /** `host:port` (or the socket path) the dump connected to. */
  address: string;
  /** `@@server_id` of that server. */
  serverId: number;
  /** MySQL: its `@@server_uuid`. */
  serverUuid?: string;
  /** `replica` when it replicated from `source` (the dump then holds the primary's coordinates). */
  role: 'primary' | 'replica';
}

/** One stored object with its size and checksums. */
export interface ManifestObject {
  /** Key relative to the repository root. */
  key: string;
  compression: 'zstd';
  /** Bytes stored (compressed). */
  size: number;
  /** Hex SHA-256 of the stored (compressed) bytes. */
  sha256: string;
  /** Bytes of SQL before compression. */
  uncompressedSize: number;
  /**
   * Hex SHA-256 of the SQL before compression. Written by backups taken before 2026-12-05 only:
   * nothing reads it (restore, table restore and `verify` check `sha256` and the zstd frame
   * checksum), so new backups leave it out. Readers accept manifests with and without it.
   */
  uncompressedSha256?: string;
}

/**
 * One object of a split backup. Every part is a self-contained SQL script: it starts with the
 * session settings it needs (character set, `sql_mode`, `time_zone`, `FOREIGN_KEY_CHECKS=0`,
 * `UNIQUE_CHECKS=0`) and `USE` of its database, so any part can be loaded alone in a new session.
 *
 * Restore order: every `pre` part in list order (one session); then every `rows` part, in any order
 * and in parallel (parts of one table too); then every `post` part in list order (one session).
 */
export interface ManifestPart extends ManifestObject {
  /**
   * `pre`: schema before data (CREATE DATABASE, CREATE TABLE, stand-in views);
   * `rows`: INSERT statements of one table (one chunk of them);
   * `post`: after all data (triggers, views, routines, events; restoring settings).
   */
  stage: 'pre' | 'rows' | 'post';
  /** Database the part belongs to; null for server-wide statements. */
  database: string | null;
  /** Table the part belongs to (its CREATE TABLE, its rows, its triggers); null otherwise. */
  table: string | null;
  /** For `rows`: chunk number from 0 within the table. */
  chunk?: number;
  /** For `rows`: rows stored in the part, when known. */
  rows?: number;
}

/** All stored data objects of a backup: its one dump, or its parts. */
export function backupObjects(m: Pick<BackupManifest, 'dump' | 'parts'>): ManifestObject[] {
  return m.dump ? [m.dump] : (m.parts ?? []);
}

/** Total stored (compressed) and SQL bytes of a backup's data objects. */
export function backupSize(m: Pick<BackupManifest, 'dump' | 'parts'>): {
  size: number;
  uncompressedSize: number;
} {
  let size = 0;
  let uncompressedSize = 0;
  for (const o of backupObjects(m)) {
    size += o.size;
    uncompressedSize += o.uncompressedSize;
  }
  return { size, uncompressedSize };
}

/**
 * The one dump object of a single-stream backup.
 *
 * @throws PitrError (NOT_IMPLEMENTED) for a split backup, which has parts instead
 */
export function singleDumpObject(m: Pick<BackupManifest, 'id' | 'dump' | 'parts'>): ManifestObject {
  if (m.dump) return m.dump;
  throw new PitrError(
    'NOT_IMPLEMENTED',
    `backup ${m.id} is split into ${m.parts?.length ?? 0} parts; this step reads single-object dumps only`,
  );
}

/** A table whose engine has no transactions: the dump of it is not guaranteed consistent. */
export interface NonTransactionalTable {
  schema: string;
  table: string;
  engine: string;
}

/**
 * What `backups/<id>/manifest.json` records about one logical dump. Written last: its presence is
 * what makes a backup complete.
 */
export interface BackupManifest {
  /** 1 for a single-object dump (older builds read it), 2 for a split backup. */
  format: 1 | typeof BACKUP_MANIFEST_FORMAT;
  /** Sortable, time-based id (see `newBackupId`). */
  id: string;
  kind: 'logical-dump';
  /**
   * The binlog history this backup belongs to. The archiver defines timelines; until it does, this
   * is a placeholder derived from the source identity (`server-uuid:<uuid>` on MySQL,
   * `server-id:<id>` on MariaDB).
   */
  timeline: string;
  /**
   * Whose binlog history `binlog` and `gtidPosition` are in: the dumped server, or, for a backup
   * taken on a replica, its primary (server_id from SHOW SLAVE STATUS, address as the replica
   * connects to it; `version` and `gtidDomainId` are the replica's).
   */
  source: ManifestSource;
  /** The server the dump was taken from and its role; absent in manifests of older versions. */
  takenFrom?: ManifestTakenFrom;
  /** ISO-8601 UTC time the dump tool was started. */
  startedAt: string;
  /** ISO-8601 UTC time the data object was fully stored. */
  finishedAt: string;
  /** Binlog position of the snapshot (from the dump's `CHANGE MASTER TO` comment). */
  binlog: ManifestBinlogCoordinates;
  /**
   * GTID position of the snapshot, as the dump printed it: MariaDB's `gtid_slave_pos`
   * (`0-1-42,1-2-7`) or MySQL's `GTID_PURGED` set (`uuid:1-42`); null when the source has none.
   */
  gtidPosition: string | null;
  /** The compressed SQL dump, as one object; absent in a split backup (then `parts` is set). */
  dump?: ManifestObject;
  /**
   * A split backup (format 2): the dump stored as parts, per table and in chunks of rows, in restore
   * order (see `ManifestPart`). Exactly one of `dump` and `parts` is present.
   */
  parts?: ManifestPart[];
  /** Schemas dumped; null means all of them (`--all-databases`). */
  databases: string[] | null;
  /** The dump program and its arguments (never a password: it travels in a 0600 defaults file). */
  tool: { name: string; path: string; version: string | null; args: string[] };
  nonTransactionalTables: NonTransactionalTable[];
  /** Things the operator should know, e.g. non-transactional tables in the dumped schemas. */
  warnings: string[];
}

/** The manifest as stored: pretty JSON with a trailing newline. */
export function serializeBackupManifest(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

type Json = Record<string, unknown>;

/**
 * Parses and checks a stored manifest.
 *
 * @param key the manifest's key, for messages
 * @throws CorruptDataError (CORRUPT_DATA) when the text is not JSON or misses a field
 * @throws FormatTooNewError (FORMAT_TOO_NEW) when a newer mysql-pitr wrote it
 */
export function parseBackupManifest(text: string, key: string): BackupManifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CorruptDataError(key, undefined, `the manifest is not valid JSON (${(err as Error).message})`, {
      cause: err,
    });
  }
  const bad = (detail: string): never => {
    throw new CorruptDataError(key, undefined, `${detail}. The backup cannot be used; take a new one.`);
  };
  if (!isObject(data)) return bad('the manifest is not a JSON object');
  // a manifest without `format` predates the field: format 1
  const format = checkFormatVersion(data.format, BACKUP_MANIFEST_FORMAT, key, 'backup manifest');
  const str = (o: Json, k: string, where: string): string =>
    typeof o[k] === 'string' ? (o[k] as string) : bad(`${where}.${k} is missing or not a string`);
  const num = (o: Json, k: string, where: string): number =>
    typeof o[k] === 'number' && Number.isSafeInteger(o[k]) && (o[k] as number) >= 0
      ? (o[k] as number)
      : bad(`${where}.${k} is missing or not a whole number`);
  const obj = (o: Json, k: string): Json => (isObject(o[k]) ? (o[k] as Json) : bad(`${k} is missing`));

  str(data, 'id', 'manifest');
  if (data.kind !== 'logical-dump') bad(`kind ${JSON.stringify(data.kind)} is not "logical-dump"`);
  str(data, 'timeline', 'manifest');
  str(data, 'startedAt', 'manifest');
  str(data, 'finishedAt', 'manifest');
  const source = obj(data, 'source');
  str(source, 'address', 'source');
  num(source, 'serverId', 'source');
  str(source, 'version', 'source');
  if (source.flavor !== 'mariadb' && source.flavor !== 'mysql') bad('source.flavor is not mariadb or mysql');
  if (data.takenFrom !== undefined) {
    const from = obj(data, 'takenFrom');
    str(from, 'address', 'takenFrom');
    num(from, 'serverId', 'takenFrom');
    if (from.role !== 'primary' && from.role !== 'replica') bad('takenFrom.role is not primary or replica');
  }
  const binlog = obj(data, 'binlog');
  str(binlog, 'file', 'binlog');
  num(binlog, 'position', 'binlog');
  if (data.gtidPosition !== null && typeof data.gtidPosition !== 'string')
    bad('gtidPosition is not a string or null');
  const checkObject = (o: Json, where: string): void => {
    str(o, 'key', where);
    str(o, 'sha256', where);
    if (o.uncompressedSha256 !== undefined) str(o, 'uncompressedSha256', where);
    num(o, 'size', where);
    num(o, 'uncompressedSize', where);
  };
  if ((data.dump === undefined) === (data.parts === undefined))
    bad('the manifest needs exactly one of dump and parts');
  if (data.dump !== undefined) checkObject(obj(data, 'dump'), 'dump');
  if (data.parts !== undefined) {
    if (!Array.isArray(data.parts) || data.parts.length === 0) bad('parts is not a non-empty list');
    (data.parts as unknown[]).forEach((p, i) => {
      const where = `parts[${i}]`;
      if (!isObject(p)) return bad(`${where} is not an object`);
      checkObject(p, where);
      if (p.stage !== 'pre' && p.stage !== 'rows' && p.stage !== 'post')
        bad(`${where}.stage is not pre, rows or post`);
      if (p.database !== null && typeof p.database !== 'string')
        bad(`${where}.database is not a string or null`);
      if (p.table !== null && typeof p.table !== 'string') bad(`${where}.table is not a string or null`);
    });
  }
  if (data.databases !== null && !isStringArray(data.databases))
    bad('databases is not a list of names or null');
  const tool = obj(data, 'tool');
  str(tool, 'name', 'tool');
  if (!isStringArray(tool.args)) bad('tool.args is not a list of strings');
  if (!Array.isArray(data.nonTransactionalTables)) bad('nonTransactionalTables is not a list');
  if (!isStringArray(data.warnings)) bad('warnings is not a list of strings');
  return { ...data, format } as unknown as BackupManifest;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
