import { backupSize } from '../catalog/index.js';
import { PitrError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import { readArchivedSegments } from './apply/archived-segments.js';
import { planApplyBytes, type BinlogApplier } from './apply/binlog-applier.js';
import type { ClientCommand } from './apply/client-command.js';
import type { PlanFile, RestorePlan } from './plan/plan-restore.js';
import { loadBackupDump } from './load/load-backup-dump.js';
import type { OpenLoadSession } from './load/parallel-load-session.js';
import type { RestoreProgressListener } from './restore-progress.js';
import { restorePreflight, type RequiredProgram } from './restore-preflight.js';

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
  /**
   * Receives `load` (stored dump bytes), `download` (stored binlog segment bytes, `total` the plan's
   * `bytes.binlogStored`) and `apply` (binlog bytes, see BinlogApplier) progress. Each phase ends
   * with a report whose `done` equals its `total`, also when a step reports nothing itself.
   */
  onProgress?: RestoreProgressListener;
  /** Opens a load session: the dump is then loaded in `loadThreads` parallel sessions (see loadBackupDump). */
  openLoadSession?: OpenLoadSession | undefined;
  /** Tables loaded at once (default 2). */
  loadThreads?: number | undefined;
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

/**
 * Refuses a target that holds user databases unless `force`; with `force`, the warning to report.
 *
 * @param instead what the operator can do instead (ends the error message)
 * @throws PitrError RESTORE_TARGET_NOT_EMPTY (nothing is changed)
 */
export async function checkTargetEmpty(
  target: TargetConnection,
  targetName: string,
  force: boolean | undefined,
  instead = 'Restore into a fresh server, drop them first, or pass --force to load over them (tables of the ' +
    'backup are replaced, other tables are left as they are)',
): Promise<string[]> {
  const existing = await userDatabases(target);
  if (existing.length === 0) return [];
  if (!force) {
    throw new PitrError(
      'RESTORE_TARGET_NOT_EMPTY',
      `the target ${targetName} already holds user databases (${existing.join(', ')}); nothing was changed. ${instead}`,
    );
  }
  return [`loaded over existing databases: ${existing.join(', ')}`];
}

/** The program loadBackupDump runs: the SQL client, unless the dump is loaded on sessions of its own. */
export function dumpLoadPrograms(deps: {
  client: ClientCommand;
  openLoadSession?: OpenLoadSession | undefined;
}): RequiredProgram[] {
  return deps.openLoadSession
    ? []
    : [{ program: deps.client.program, flag: '--client-program', purpose: 'loads the dump' }];
}

/** The GTID state a MariaDB target reports. */
export interface ServerGtidState {
  gtidBinlogPos: string;
  gtidSlavePos: string;
}

/** Reads `@@gtid_binlog_pos` and `@@gtid_slave_pos` of a MariaDB target. */
export async function serverGtidState(target: TargetConnection): Promise<ServerGtidState> {
  const [g] = await rows<{ b: string; s: string }>(
    target,
    'SELECT @@gtid_binlog_pos AS b, @@gtid_slave_pos AS s',
  );
  return { gtidBinlogPos: g!.b, gtidSlavePos: g!.s };
}

/**
 * Sets a MariaDB target's gtid_slave_pos to the position its data is at, so it can be attached as a
 * replica; a failure becomes a warning (the data is restored either way).
 */
export async function setGtidSlavePos(
  target: TargetConnection,
  position: string,
  warnings: string[],
): Promise<void> {
  try {
    await target.query(`SET GLOBAL gtid_slave_pos = '${position.replace(/'/g, "''")}'`);
  } catch (e) {
    warnings.push(
      `could not set gtid_slave_pos to ${position} (${(e as Error).message}); set it before making this server a replica`,
    );
  }
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

/**
 * Counts the stored (compressed) bytes of the segments as they are read: a segment counts once all
 * its binlog bytes went by (readArchivedSegments yields a small segment whole, a large one in chunks).
 */
function downloadCounter(
  plan: RestorePlan,
  progress: RestoreProgressListener,
): { count: (f: PlanFile, it: AsyncIterable<Buffer>) => AsyncIterable<Buffer>; finish: () => void } {
  const total = plan.bytes.binlogStored;
  let done = 0;
  return {
    async *count(f, it) {
      let i = 0;
      let consumed = 0;
      let segmentsEnd = 0;
      for await (const b of it) {
        consumed += b.length;
        for (let s = f.segments[i]; s && consumed >= segmentsEnd + (s.end - s.start); s = f.segments[++i]) {
          segmentsEnd += s.end - s.start;
          done += s.size;
        }
        progress({ phase: 'download', done, total });
        yield b;
      }
    },
    finish() {
      progress({ phase: 'download', done: total, total });
    },
  };
}

/**
 * Carries out a restore plan: refuses a target holding user databases (unless `force`), loads the
 * backup's dump with the session's binary log off, applies the planned binlog range up to the
 * exact stop point through `deps.applier`, sets MariaDB's gtid_slave_pos to the position reached,
 * and reports the GTID position and per-table row counts. Progress of each step goes to
 * `deps.onProgress`.
 *
 * @throws RestorePreflightError RESTORE_TOOL_MISSING / MYSQL_PREREQUISITE / BINLOG_GAP (nothing is
 *   changed), PitrError RESTORE_TARGET_NOT_EMPTY (nothing is changed), RESTORE_APPLY_FAILED (names the
 *   failing transaction), ChecksumMismatchError / CorruptDataError for damaged objects, StorageError
 */
export async function executeRestore(plan: RestorePlan, deps: ExecuteRestoreDeps): Promise<RestoreReport> {
  const log = deps.logger ?? silentLogger;
  await restorePreflight({
    targetName: deps.targetName,
    target: deps.target,
    plan,
    programs: [...(deps.applier.programs ?? []), ...dumpLoadPrograms(deps)],
  });
  const warnings = await checkTargetEmpty(deps.target, deps.targetName, deps.force);

  const progress = deps.onProgress ?? ((): void => undefined);
  const dumpSize = backupSize(plan.backup).size;
  const t0 = Date.now();
  progress({ phase: 'load', done: 0, total: dumpSize });
  // deps carries onProgress on to the loader, which reports the bytes in between
  await loadBackupDump(plan.backup, { ...deps, logger: log });
  progress({ phase: 'load', done: dumpSize, total: dumpSize });
  const t1 = Date.now();
  const applyTotal = planApplyBytes(plan);
  const download = downloadCounter(plan, progress);
  if (plan.files.length > 0) progress({ phase: 'download', done: 0, total: plan.bytes.binlogStored });
  const result = await deps.applier.apply(
    plan,
    (f) => download.count(f, readArchivedSegments(deps.store, f.segments, deps.prefetch ?? 2)),
    deps.signal,
    progress,
  );
  if (plan.files.length > 0) {
    download.finish();
    progress({ phase: 'apply', done: applyTotal, total: applyTotal, transactions: result.transactions });
  }
  const t2 = Date.now();

  let server: RestoreReport['server'];
  if (plan.backup.source.flavor === 'mariadb') {
    if (plan.expectedGtidPosition) await setGtidSlavePos(deps.target, plan.expectedGtidPosition, warnings);
    server = await serverGtidState(deps.target);
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
