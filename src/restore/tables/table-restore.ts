// Table-level restore (issue 19): only the listed tables of a backup's dump, then only their
// events from the archive, optionally under another schema name, on any server (typically the live
// primary). Nothing else on the target is touched, and nothing is binary-logged unless asked.
import { createHash } from 'node:crypto';
import { backupManifestKey, type ManifestObject, type ManifestPart } from '../../catalog/index.js';
import { createZstdDecompressStream } from '../../codec/index.js';
import { ChecksumMismatchError, CorruptDataError, PitrError, isPitrError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { readArchivedSegments } from '../apply/archived-segments.js';
import { hashStoredObject, readBackupPart, storedObjectMismatch } from '../load/backup-part-reader.js';
import { DumpStatementSplitter, type DumpStatement } from '../load/dump-statement-splitter.js';
import { EventBinlogApplier, type ConnectEventTarget } from '../apply/event-applier.js';
import { TableEventFilter } from '../apply/event-filter.js';
import { tableRestoreQueryFilter } from './table-restore-ddl.js';
import type { TargetConnection } from '../execute-restore.js';
import type { OpenLoadSession, ParallelLoadSession } from '../load/parallel-load-session.js';
import type { RestorePlan } from '../plan/plan-restore.js';
import { restorePreflight } from '../restore-preflight.js';

/** One table of `--tables`. */
export interface TableName {
  database: string;
  table: string;
}

/**
 * Parses `--tables DB.TBL[,DB.TBL...]` (names may be back-quoted: `` `my.db`.`t` ``).
 *
 * @throws PitrError USAGE for an empty list or a name without its database
 */
export function parseTableList(spec: string): TableName[] {
  const out: TableName[] = [];
  for (const part of spec.split(',').map((s) => s.trim())) {
    const m = /^(`(?:[^`]|``)+`|[^.`]+)\.(`(?:[^`]|``)+`|[^.`]+)$/.exec(part);
    if (!m) {
      throw new PitrError(
        'USAGE',
        `--tables: "${part}" is not DB.TBL; list tables as db.table[,db.table...] (back-quote names holding a dot)`,
      );
    }
    const un = (s: string): string => (s.startsWith('`') ? s.slice(1, -1).replace(/``/g, '`') : s);
    out.push({ database: un(m[1]!), table: un(m[2]!) });
  }
  return out;
}

/** What restoreTables needs. */
export interface TableRestoreDeps {
  store: ObjectStore;
  /** A connection to the target for the checks. */
  target: TargetConnection;
  /** The target as `host:port`, for messages. */
  targetName: string;
  /** A load session (binary log off) for the dump statements. */
  openLoadSession: OpenLoadSession;
  /** Sessions loading a split backup's `rows` parts at once (default 2). */
  loadThreads?: number | undefined;
  /** The applying session's connection. */
  connect: ConnectEventTarget;
  tables: readonly TableName[];
  /** Restore every table into this schema instead of its own. */
  intoSchema?: string | undefined;
  /** Replace tables that already exist where they would be restored. */
  force?: boolean;
  /** Keep the target's binary log on for the writes (without the source's GTIDs). */
  binlog?: boolean;
  logger?: Logger;
  signal?: AbortSignal;
}

/** What restoreTables did. */
export interface TableRestoreReport {
  backup: string;
  stop: { file: string; position: number };
  /** `source db.table` -> `restored db.table`. */
  restored: Record<string, string>;
  /** Rows of each restored table (COUNT(*)). */
  rows: Record<string, number>;
  transactionsApplied: number;
  seconds: { load: number; apply: number };
  warnings: string[];
}

const quoteId = (s: string): string => `\`${s.replace(/`/g, '``')}\``;
const key = (db: string, t: string): string => `${db}\u0000${t}`;
const show = (db: string, t: string): string => `${db}.${t}`;

async function rows<T>(c: TargetConnection, sql: string): Promise<T[]> {
  const [r] = await c.query(sql);
  return r as T[];
}

/** A foreign key of a CREATE TABLE statement: its constraint name and the table it references. */
export interface ForeignKeyRef extends TableName {
  constraint: string;
}

/** The foreign keys of a CREATE TABLE statement (SHOW CREATE TABLE form; `db` when unqualified). */
export function foreignKeyTargets(createTable: string, db: string): ForeignKeyRef[] {
  const id = '`((?:[^`]|``)+)`';
  const re = new RegExp(
    `CONSTRAINT\\s+${id}\\s+FOREIGN\\s+KEY\\s*\\([^)]*\\)\\s*REFERENCES\\s+${id}(?:\\s*\\.\\s*${id})?`,
    'gi',
  );
  const un = (s: string): string => s.replace(/``/g, '`');
  const out: ForeignKeyRef[] = [];
  for (const m of createTable.matchAll(re)) {
    const constraint = un(m[1]!);
    out.push(
      m[3] === undefined
        ? { constraint, database: db, table: un(m[2]!) }
        : { constraint, database: un(m[2]!), table: un(m[3]) },
    );
  }
  return out;
}

/**
 * Restores only `deps.tables` as they were at the plan's stop point: the dump is streamed and only
 * those tables' CREATE TABLE and data are loaded (into `intoSchema` when given), then only their
 * rows events are applied (TableEventFilter, TABLE_MAPs rewritten), with no GTIDs set and the
 * session binary log off unless `binlog`, so the target's binary log and GTID position stay as
 * they were. DDL on the tables is applied under the restored schema; another statement naming one of
 * them is refused (tableRestoreQueryFilter); other statements are not applied. A listed table that already exists
 * where it would be restored is refused unless `force` (nothing is changed). A foreign key to a
 * table not listed is dropped from the restored copy (its rows are not there), with a warning
 * naming both.
 *
 * @throws PitrError RESTORE_TARGET_NOT_EMPTY (a table exists; nothing changed), USAGE (a listed
 *   table is not in the dump), RestorePreflightError, EventApplyError, ChecksumMismatchError
 */
export async function restoreTables(plan: RestorePlan, deps: TableRestoreDeps): Promise<TableRestoreReport> {
  const log = deps.logger ?? silentLogger;
  const dest = (db: string): string => deps.intoSchema ?? db;
  await restorePreflight({ targetName: deps.targetName, target: deps.target, plan });
  const existing: string[] = [];
  for (const t of deps.tables) {
    const r = await rows<{ n: number | string }>(
      deps.target,
      `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${dest(t.database).replace(/'/g, "''")}' ` +
        `AND TABLE_NAME = '${t.table.replace(/'/g, "''")}'`,
    );
    if (Number(r[0]!.n) > 0) existing.push(show(dest(t.database), t.table));
  }
  const warnings: string[] = [];
  if (existing.length > 0) {
    if (!deps.force) {
      throw new PitrError(
        'RESTORE_TARGET_NOT_EMPTY',
        `${existing.join(', ')} already exist(s) on ${deps.targetName}; nothing was changed. Restore into another ` +
          'schema (--into-schema NAME), drop them first, or pass --force to replace them',
      );
    }
    warnings.push(`replaced existing tables: ${existing.join(', ')}`);
  }

  const wanted = new Set(deps.tables.map((t) => key(t.database, t.table)));
  const databases = new Set(deps.tables.map((t) => t.database));
  const parts = plan.backup.parts;
  if (parts) {
    // A split backup says up front which tables it holds: refuse before anything changes.
    const held = new Set(
      parts.filter((p) => p.stage === 'pre').map((p) => key(p.database ?? '', p.table ?? '')),
    );
    const absent = deps.tables.filter((t) => !held.has(key(t.database, t.table)));
    if (absent.length > 0) throw noSuchTables(plan, absent);
  }
  const created = new Set<string>();
  /** Runs one dump statement of the listed tables on `session` (`db`: the database of the last USE). */
  const each = async (
    session: ParallelLoadSession,
    st: DumpStatement,
    db: string | undefined,
  ): Promise<void> => {
    if (st.kind === 'use') {
      if (!databases.has(st.database!)) return;
      await session.query(Buffer.from(`CREATE DATABASE IF NOT EXISTS ${quoteId(dest(st.database!))}`));
      await session.query(Buffer.from(`USE ${quoteId(dest(st.database!))}`));
      return;
    }
    if (st.kind === 'session') return session.query(st.sql);
    if (db === undefined || st.table === undefined || !wanted.has(key(db, st.table))) return;
    if (!['create-table', 'drop-table', 'insert', 'disable-keys', 'enable-keys'].includes(st.kind)) return;
    await session.query(st.sql);
    if (st.kind === 'create-table') {
      created.add(key(db, st.table));
      // A key to a table not restored cannot hold (its rows are not there): the copy goes without it.
      for (const fk of foreignKeyTargets(st.sql.toString('utf8'), db)) {
        if (wanted.has(key(fk.database, fk.table))) continue;
        await session.query(
          Buffer.from(`ALTER TABLE ${quoteId(st.table)} DROP FOREIGN KEY ${quoteId(fk.constraint)}`),
        );
        warnings.push(
          `${show(db, st.table)} has a foreign key ${fk.constraint} to ${show(fk.database, fk.table)}, which is not ` +
            `restored: ${show(dest(db), st.table)} was restored without it (add it back with ALTER TABLE ... ADD ` +
            'FOREIGN KEY once the rows match)',
        );
      }
    }
  };
  const t0 = Date.now();
  if (parts) await loadTableParts(plan, deps, parts, each);
  else await loadTables(plan, deps, each);
  const missing = deps.tables.filter((t) => !created.has(key(t.database, t.table)));
  if (missing.length > 0) throw noSuchTables(plan, missing);
  const t1 = Date.now();

  const renameDatabase = new Map([...databases].map((d) => [d, dest(d)]));
  const filter = new TableEventFilter({
    tables: deps.tables,
    renameDatabase,
    query: tableRestoreQueryFilter(deps.tables, dest),
  });
  const applier = new EventBinlogApplier(deps.connect, {
    filter,
    gtids: false,
    binlog: deps.binlog === true,
    logger: log,
  });
  const result = await applier.apply(plan, (f) => readArchivedSegments(deps.store, f.segments), deps.signal);
  const t2 = Date.now();

  const restored: Record<string, string> = {};
  const counts: Record<string, number> = {};
  for (const t of deps.tables) {
    const to = show(dest(t.database), t.table);
    restored[show(t.database, t.table)] = to;
    const [r] = await rows<{ n: number | string }>(
      deps.target,
      `SELECT COUNT(*) AS n FROM ${quoteId(dest(t.database))}.${quoteId(t.table)}`,
    );
    counts[to] = Number(r!.n);
  }
  return {
    backup: plan.backup.id,
    stop: plan.stop,
    restored,
    rows: counts,
    transactionsApplied: result.transactions,
    seconds: { load: (t1 - t0) / 1000, apply: (t2 - t1) / 1000 },
    warnings,
  };
}

function noSuchTables(plan: RestorePlan, tables: readonly TableName[]): PitrError {
  return new PitrError(
    'USAGE',
    `backup ${plan.backup.id} holds no table ${tables.map((t) => show(t.database, t.table)).join(', ')}; ` +
      'check the names (db.table, case as on the source) with `mysql-pitr backup list`',
  );
}

/** Runs one statement of the listed tables on a load session (see restoreTables). */
type EachStatement = (
  session: ParallelLoadSession,
  st: DumpStatement,
  db: string | undefined,
) => Promise<void>;

/** What to do when a part read for a table restore turns out damaged. */
const TABLE_PART_REMEDY =
  'The restored tables were loaded from damaged data: drop them and restore from another backup';

/**
 * The parts of a split backup that hold the listed tables: their `pre` parts (DROP/CREATE TABLE)
 * and `rows` parts. Their `post` parts (triggers) are not applied by a table restore (as with a
 * single-dump backup, whose trigger statements are skipped), so they are not fetched; neither is
 * any part of another table or of the database as a whole (views, routines, events).
 */
export function tablePartsOf(
  parts: readonly ManifestPart[],
  tables: readonly TableName[],
): { pre: ManifestPart[]; rows: ManifestPart[] } {
  const listed = new Set(tables.map((t) => key(t.database, t.table)));
  const mine = (p: ManifestPart): boolean =>
    p.database !== null && p.table !== null && listed.has(key(p.database, p.table));
  return {
    pre: parts.filter((p) => p.stage === 'pre' && mine(p)),
    rows: parts.filter((p) => p.stage === 'rows' && mine(p)),
  };
}

/**
 * Loads the listed tables from a split backup: their `pre` parts in list order on one session,
 * then their `rows` parts on up to `loadThreads` sessions at once; every part checked against its
 * stored size and SHA-256 as it streams.
 */
async function loadTableParts(
  plan: RestorePlan,
  deps: TableRestoreDeps,
  parts: readonly ManifestPart[],
  each: EachStatement,
): Promise<void> {
  const { pre, rows } = tablePartsOf(parts, deps.tables);
  const sessions: ParallelLoadSession[] = [];
  let failure: unknown;
  const loadPart = async (session: ParallelLoadSession, part: ManifestPart): Promise<void> => {
    try {
      await loadOnePart(session, part);
    } catch (e) {
      // Garbage SQL or a zstd error first: tell a damaged part from a failing target.
      if (
        failure !== undefined ||
        deps.signal?.aborted ||
        !isPitrError(e, 'RESTORE_APPLY_FAILED', 'CORRUPT_DATA', 'TRUNCATED_DATA')
      )
        throw e;
      const check = await hashStoredObject(deps.store, part.key);
      if (check && (check.size !== part.size || check.sha256 !== part.sha256)) {
        throw storedObjectMismatch(part, check, TABLE_PART_REMEDY, { cause: e });
      }
      throw e;
    }
  };
  const loadOnePart = async (session: ParallelLoadSession, part: ManifestPart): Promise<void> => {
    let db: string | undefined;
    for await (const st of readBackupPart(deps.store, part, {
      remedy: TABLE_PART_REMEDY,
      signal: deps.signal,
    })) {
      if (failure !== undefined) throw failure;
      if (st.kind === 'use') db = st.database;
      try {
        await each(session, st, db);
      } catch (e) {
        throw new PitrError(
          'RESTORE_APPLY_FAILED',
          `loading tables of backup ${plan.backup.id} into ${deps.targetName} failed at line ${st.line} of ` +
            `${part.key}: ${(e as Error).message}. The restored tables are partly loaded: restore again with --force`,
          { cause: e },
        );
      }
    }
  };
  let ok = false;
  try {
    sessions.push(await deps.openLoadSession());
    for (const p of pre) await loadPart(sessions[0]!, p);
    const threads = Math.max(1, Math.min(Math.floor(deps.loadThreads ?? 2), rows.length));
    while (sessions.length < threads) sessions.push(await deps.openLoadSession());
    let next = 0;
    await Promise.all(
      sessions.map(async (s) => {
        try {
          while (failure === undefined && next < rows.length) await loadPart(s, rows[next++]!);
        } catch (e) {
          if (failure === undefined) {
            failure = e;
            for (const x of sessions) if (x !== s) x.destroy();
          }
        }
      }),
    );
    if (failure !== undefined) throw failure;
    ok = true;
  } finally {
    if (ok) await Promise.all(sessions.map((s) => s.close().catch(() => s.destroy())));
    else for (const s of sessions) s.destroy();
  }
}

/**
 * Streams the single dump of a format-1 backup once on one session, splits it into statements and
 * hands each to `each` with the database of the last `USE`; checks the stored bytes against the
 * manifest at the end.
 */
async function loadTables(plan: RestorePlan, deps: TableRestoreDeps, each: EachStatement): Promise<void> {
  const backup = plan.backup;
  const dump = backup.dump;
  if (!dump)
    throw new CorruptDataError(
      backupManifestKey(backup.id),
      undefined,
      `backup ${backup.id} has neither a dump nor parts; take a new backup`,
    );
  const session = await deps.openLoadSession();
  let ok = false;
  try {
    await streamDump(plan, deps, dump, (st, db) => each(session, st, db));
    ok = true;
  } finally {
    if (ok) await session.close().catch(() => session.destroy());
    else session.destroy();
  }
}

async function streamDump(
  plan: RestorePlan,
  deps: TableRestoreDeps,
  dump: ManifestObject,
  each: (st: DumpStatement, db: string | undefined) => Promise<void>,
): Promise<void> {
  const backup = plan.backup;
  const source = await deps.store.getStream(dump.key);
  const dec = createZstdDecompressStream({ object: dump.key });
  const stored = createHash('sha256');
  let storedBytes = 0;
  source.on('data', (c: Buffer) => {
    stored.update(c);
    storedBytes += c.length;
  });
  source.on('error', (e) => dec.destroy(e));
  source.pipe(dec);
  const splitter = new DumpStatementSplitter();
  let db: string | undefined;
  const run = async (st: DumpStatement): Promise<void> => {
    if (st.kind === 'use') db = st.database;
    try {
      await each(st, db);
    } catch (e) {
      throw new PitrError(
        'RESTORE_APPLY_FAILED',
        `loading tables of backup ${backup.id} into ${deps.targetName} failed at dump line ${st.line}: ` +
          `${(e as Error).message}. The restored tables are partly loaded: restore again with --force`,
        { cause: e },
      );
    }
  };
  try {
    for await (const chunk of dec) {
      deps.signal?.throwIfAborted();
      for (const st of splitter.push(chunk as Buffer)) await run(st);
    }
    for (const st of splitter.end()) await run(st);
  } finally {
    source.destroy();
    dec.destroy();
  }
  const sha = stored.digest('hex');
  if (storedBytes !== dump.size || sha !== dump.sha256) {
    throw new ChecksumMismatchError(
      dump.key,
      0,
      `the dump read back as ${storedBytes} bytes with SHA-256 ${sha}; its manifest records ${dump.size} ` +
        `bytes and ${dump.sha256}. The restored tables were loaded from damaged data: drop them and restore ` +
        'from another backup',
    );
  }
}
