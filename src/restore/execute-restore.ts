import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createZstdDecompressStream } from '../codec/index.js';
import { ChecksumMismatchError, PitrError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import { readArchivedSegments } from './archived-segments.js';
import type { BinlogApplier } from './binlog-applier.js';
import type { ClientCommand } from './client-command.js';
import type { RestorePlan } from './plan-restore.js';
import { writeChunk } from './write-chunk.js';

/** The small part of a mysql2 connection the executor uses (a real server or a fake in tests). */
export interface TargetConnection {
  query(sql: string): Promise<[unknown, unknown]>;
}

/** Schemas that every server has; anything else is a user database. */
const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

/** What executeRestore needs. */
export interface ExecuteRestoreDeps {
  store: ObjectStore;
  /** A connection to the target, for the checks and the final report. */
  target: TargetConnection;
  /** The target as `host:port`, for messages. */
  targetName: string;
  /** Runs the `mariadb` client against the target (dump load). */
  client: ClientCommand;
  applier: BinlogApplier;
  /** Load into a target that already holds user databases. */
  force?: boolean;
  logger?: Logger;
  signal?: AbortSignal;
  /** Segments downloaded ahead of the one being applied (default 2). */
  prefetch?: number;
}

/** The final report of a restore. */
export interface RestoreReport {
  backup: string;
  stop: { file: string; position: number };
  /** The GTID position the restore reached (the plan's expectation, set as gtid_slave_pos on MariaDB). */
  gtidPosition: string | null;
  /** What the target itself reports afterwards. */
  server: { gtidBinlogPos: string; gtidSlavePos: string } | undefined;
  transactionsApplied: number;
  /** Exact row counts (COUNT(*)) of every user table, `db.table` -> rows. */
  tables: Record<string, number>;
  seconds: { load: number; apply: number };
  warnings: string[];
}

async function rows<T>(c: TargetConnection, sql: string): Promise<T[]> {
  const [r] = await c.query(sql);
  return r as T[];
}

const quoteId = (s: string): string => `\`${s.replace(/`/g, '``')}\``;

/**
 * The user databases of the target.
 */
export async function userDatabases(target: TargetConnection): Promise<string[]> {
  const list = await rows<{ name: string }>(
    target,
    `SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${SYSTEM_SCHEMAS.map((s) => `'${s}'`).join(',')}) ORDER BY 1`,
  );
  return list.map((r) => r.name);
}

/** Exact row counts of every user table. */
export async function tableRowCounts(target: TargetConnection): Promise<Record<string, number>> {
  const tables = await rows<{ db: string; t: string }>(
    target,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ` +
      `AND TABLE_SCHEMA NOT IN (${SYSTEM_SCHEMAS.map((s) => `'${s}'`).join(',')}) ORDER BY 1, 2`,
  );
  const out: Record<string, number> = {};
  for (const { db, t } of tables) {
    const [r] = await rows<{ n: string | number }>(
      target,
      `SELECT COUNT(*) AS n FROM ${quoteId(db)}.${quoteId(t)}`,
    );
    out[`${db}.${t}`] = Number(r!.n);
  }
  return out;
}

async function loadDump(plan: RestorePlan, deps: ExecuteRestoreDeps, log: Logger): Promise<void> {
  const { store, client } = deps;
  const key = plan.backup.dump.key;
  const proc = client.spawn();
  const err: Buffer[] = [];
  proc.stderr.on('data', (c: Buffer) => err.push(c));
  proc.stdout.resume();
  proc.stdin.on('error', () => undefined);
  const exit = once(proc, 'close') as Promise<[number | null]>;
  const stored = createHash('sha256');
  const sql = createHash('sha256');
  let storedBytes = 0;
  try {
    const source = await store.getStream(key);
    const dec = createZstdDecompressStream({ object: key });
    source.on('data', (c: Buffer) => {
      stored.update(c);
      storedBytes += c.length;
    });
    source.pipe(dec);
    source.on('error', (e) => dec.destroy(e));
    for await (const chunk of dec) {
      deps.signal?.throwIfAborted();
      sql.update(chunk as Buffer);
      if (!(await writeChunk(proc.stdin, chunk as Buffer))) break;
    }
    proc.stdin.end();
  } catch (e) {
    proc.kill('SIGTERM');
    await exit;
    throw e;
  }
  const [code] = await exit;
  if (code !== 0) {
    throw new PitrError(
      'RESTORE_APPLY_FAILED',
      `loading backup ${plan.backup.id} into ${deps.targetName} failed: ${Buffer.concat(err).toString().trim()}. ` +
        'The target is partly loaded: drop its user databases (or use a fresh server) and restore again',
    );
  }
  const storedSha = stored.digest('hex');
  if (storedBytes !== plan.backup.dump.size || storedSha !== plan.backup.dump.sha256) {
    throw new ChecksumMismatchError(
      key,
      0,
      `the dump read back as ${storedBytes} bytes with SHA-256 ${storedSha}; its manifest records ` +
        `${plan.backup.dump.size} bytes and ${plan.backup.dump.sha256}. The target was loaded from damaged data: ` +
        'drop its user databases and restore from another backup',
    );
  }
  log.info('dump loaded', { backup: plan.backup.id, sha256: sql.digest('hex') });
}

/**
 * Carries out a restore plan: refuses a target holding user databases (unless `force`), loads the
 * backup's dump with the session's binary log off, applies the planned binlog range up to the
 * exact stop point through `deps.applier`, sets MariaDB's gtid_slave_pos to the position reached,
 * and reports the GTID position and per-table row counts.
 *
 * @throws PitrError RESTORE_TARGET_NOT_EMPTY (nothing is changed), RESTORE_APPLY_FAILED (names the
 *   failing transaction), ChecksumMismatchError / CorruptDataError for damaged objects, StorageError
 */
export async function executeRestore(plan: RestorePlan, deps: ExecuteRestoreDeps): Promise<RestoreReport> {
  const log = deps.logger ?? silentLogger;
  const warnings: string[] = [];
  const existing = await userDatabases(deps.target);
  if (existing.length > 0 && !deps.force) {
    throw new PitrError(
      'RESTORE_TARGET_NOT_EMPTY',
      `the target ${deps.targetName} already holds user databases (${existing.join(', ')}); nothing was changed. ` +
        'Restore into a fresh server, drop them first, or pass --force to load over them (tables of the ' +
        'backup are replaced, other tables are left as they are)',
    );
  }
  if (existing.length > 0) warnings.push(`loaded over existing databases: ${existing.join(', ')}`);

  const t0 = Date.now();
  await loadDump(plan, deps, log);
  const t1 = Date.now();
  const result = await deps.applier.apply(
    plan,
    (f) => readArchivedSegments(deps.store, f.segments, deps.prefetch ?? 2),
    deps.signal,
  );
  const t2 = Date.now();

  let server: RestoreReport['server'];
  if (plan.backup.source.flavor === 'mariadb') {
    if (plan.expectedGtidPosition) {
      try {
        await deps.target.query(`SET GLOBAL gtid_slave_pos = '${plan.expectedGtidPosition}'`);
      } catch (e) {
        warnings.push(
          `could not set gtid_slave_pos to ${plan.expectedGtidPosition} (${(e as Error).message}); set it before ` +
            'making this server a replica',
        );
      }
    }
    const [g] = await rows<{ b: string; s: string }>(
      deps.target,
      'SELECT @@gtid_binlog_pos AS b, @@gtid_slave_pos AS s',
    );
    server = { gtidBinlogPos: g!.b, gtidSlavePos: g!.s };
  }
  return {
    backup: plan.backup.id,
    stop: plan.stop,
    gtidPosition: plan.expectedGtidPosition,
    server,
    transactionsApplied: result.transactions,
    tables: await tableRowCounts(deps.target),
    seconds: { load: (t1 - t0) / 1000, apply: (t2 - t1) / 1000 },
    warnings,
  };
}
