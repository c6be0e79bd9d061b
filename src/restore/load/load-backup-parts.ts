// Loads a split backup (manifest format 2: `parts`) into the target, by stages: every `pre` part in
// list order on one session, then every `rows` part on N sessions (a free session takes the first
// part of a table no other session is loading, else the first: several parts of one big table load
// at once), then every `post` part in list order on one session. Each stored byte is read once;
// each part's size and SHA-256 are checked as it streams. Each INSERT commits on its own: one
// transaction per table would take InnoDB's bulk insert path (MDEV-24621), measured at about twice
// the server's CPU for dump rows (bench/bulk-insert-probe.sh, docs/restore.md). Unless `deferKeys`
// is false, an InnoDB table's plain secondary keys are created after its last rows part, in one
// ALTER TABLE (deferSecondaryKeys): a sorted build costs the server less than random inserts.
import { once } from 'node:events';
import type { BackupManifest, ManifestPart } from '../../catalog/index.js';
import { PitrError, isPitrError } from '../../errors/index.js';
import { silentLogger } from '../../log/index.js';
import {
  hashStoredObject,
  readBackupPart,
  readBackupPartBytes,
  storedObjectMismatch,
} from './backup-part-reader.js';
import { addKeysStatement, deferSecondaryKeys, referencedTables } from './defer-secondary-keys.js';
import { SKIPPED_KINDS, type DumpStatement } from './dump-statement-splitter.js';
import type { OpenLoadSession, ParallelLoadSession } from './parallel-load-session.js';
import { writeChunk } from './write-chunk.js';
import type { LoadBackupDumpDeps } from './load-backup-dump.js';

/** Batches sent on a session beyond the running one, so the next is ready when it finishes. */
const QUEUE_PER_SESSION = 2;
/** Statements per round trip at most (session settings, DDL and small INSERTs go together). */
const BATCH_STATEMENTS = 64;
/** SQL bytes per round trip at most (a dump's INSERTs are about 1 MiB: they mostly go alone). */
const BATCH_BYTES = 1024 * 1024;

/** What loadBackupParts needs: the same as loadBackupDump. */
export type LoadBackupPartsDeps = LoadBackupDumpDeps;

/** What the load did, for logs. */
export interface PartsLoadStats {
  parts: number;
  statements: number;
  sessions: number;
  storedBytes: number;
  /** Tables whose deferred keys were added after their rows (or the `pre` stage, without rows). */
  keysAfterRows: number;
}

/** The order parts are loaded in: pre in list order, rows, post in list order. */
export function partsInLoadOrder(parts: readonly ManifestPart[]): {
  pre: ManifestPart[];
  rows: ManifestPart[];
  post: ManifestPart[];
} {
  return {
    pre: parts.filter((p) => p.stage === 'pre'),
    rows: parts.filter((p) => p.stage === 'rows'),
    post: parts.filter((p) => p.stage === 'post'),
  };
}

/** The table a part belongs to, as the key of nextRowsPart's `busy` map. */
export function rowsPartTable(p: ManifestPart): string {
  return tableKey(p.database, p.table);
}

/** The key of table `table` of `database`, as `rowsPartTable` makes it for a part. */
function tableKey(database: string | null, table: string | null): string {
  return JSON.stringify([database, table]);
}

/** A table whose plain secondary keys wait until its rows are loaded. */
interface DeferredTable {
  database: string;
  table: string;
  keys: string[];
}

/**
 * Which of the pending `rows` parts a free session takes next (pure): the first, in list order,
 * of a table no session is loading now, so that while there are several tables each session
 * inserts into its own (two sessions inserting into one table at once share its B-tree pages
 * and latches); when every pending part's table is busy, the first. A table's chunks thus load
 * in order on one session unless they are what is left.
 *
 * @param busy how many sessions are loading each table now, keyed as by `rowsPartTable`
 * @returns an index into `pending` (0 when it is empty)
 */
export function nextRowsPart(pending: readonly ManifestPart[], busy: ReadonlyMap<string, number>): number {
  const i = pending.findIndex((p) => !busy.get(rowsPartTable(p)));
  return i < 0 ? 0 : i;
}

function describePart(p: ManifestPart): string {
  const what =
    p.table !== null
      ? `table ${p.database ?? ''}.${p.table}`
      : p.database !== null
        ? `database ${p.database}`
        : 'server-wide statements';
  return `${p.stage} part ${p.key} (${what}${p.chunk !== undefined ? `, chunk ${p.chunk}` : ''})`;
}

function describeStatement(st: DumpStatement): string {
  const text = st.sql.toString('utf8', 0, Math.min(st.sql.length, 160)).replace(/\s+/g, ' ');
  return `line ${st.line}: ${text}${st.sql.length > 160 ? ' ...' : ''}`;
}

/**
 * Loads the parts of a split backup. With `openLoadSession`: the `pre` parts in list order on one
 * session, then the `rows` parts on `loadThreads` sessions (a session takes a part as soon as it is
 * free, chosen by nextRowsPart: sessions load different tables while they can, and a big table's
 * chunks on several sessions at once), then
 * the `post` parts in list order on one session. Each part is a self-contained script (its own
 * session settings and `USE`), streamed once: stored bytes hashed, zstd-decompressed, split into
 * statements and sent as raw bytes, a few statements queued per session. Without
 * `openLoadSession`: every part, in that order, through one `mariadb` client.
 *
 * With sessions and `deferKeys` (default true): a `CREATE TABLE` of a `pre` part that
 * deferSecondaryKeys can split is sent without its plain secondary keys, which are added in one
 * `ALTER TABLE ... ADD KEY ...` by the session that finishes the table's last `rows` part (right
 * after the `pre` stage for a table without rows), before any `post` part. Foreign keys: a table
 * with one keeps its keys; a table one references keeps them too (added before the referencing
 * table is created when they were deferred: the tables are empty then), so a foreign key never
 * meets a missing index; a reference it cannot read stops the deferring from there on.
 *
 * A part whose stored bytes do not match the manifest fails the load with ChecksumMismatchError
 * naming it; as the check completes only at the part's end, the target is then partly loaded (the
 * message says so and what to do). A statement that fails, or a zstd error, first re-reads the
 * part: when it does not match its manifest, the checksum error is thrown instead (with the
 * statement's error as its cause), so the operator learns the backup is damaged.
 *
 * @throws PitrError RESTORE_APPLY_FAILED (a statement or the client failed: names the part, line,
 *   statement; or adding a table's deferred keys failed: names the table and the ALTER TABLE; the
 *   target is partly loaded), ChecksumMismatchError, StorageError, the signal's
 *   reason on abort, MysqlServerError / MysqlConnectionError when a session cannot be opened
 */
export async function loadBackupParts(
  backup: BackupManifest,
  deps: LoadBackupPartsDeps,
): Promise<PartsLoadStats> {
  const parts = backup.parts ?? [];
  const log = deps.logger ?? silentLogger;
  const total = parts.reduce((n, p) => n + p.size, 0);
  let done = 0;
  const onStored = (n: number): void => {
    done += n;
    deps.onProgress?.({ phase: 'load', done, total });
  };
  const remedy =
    'The check completes at the end of the part, so the target is already partly loaded from damaged ' +
    'data: drop its user databases (or use a fresh server) and restore from another backup';
  const stats: PartsLoadStats = { parts: 0, statements: 0, sessions: 0, storedBytes: 0, keysAfterRows: 0 };
  if (deps.openLoadSession) {
    await loadOnSessions(backup, { ...deps, openLoadSession: deps.openLoadSession }, onStored, remedy, stats);
  } else {
    await loadThroughClient(backup, deps, onStored, remedy, stats);
  }
  stats.storedBytes = done;
  log.info('dump parts loaded', { backup: backup.id, ...stats });
  return stats;
}

/** Re-reads `part` after a failure: a checksum error when it is damaged, else `e` unchanged. */
async function explainFailure(
  deps: LoadBackupPartsDeps,
  part: ManifestPart,
  e: unknown,
  remedy: string,
): Promise<unknown> {
  if (deps.signal?.aborted) return e;
  if (!isPitrError(e, 'RESTORE_APPLY_FAILED', 'CORRUPT_DATA', 'TRUNCATED_DATA')) return e;
  const check = await hashStoredObject(deps.store, part.key);
  if (check && (check.size !== part.size || check.sha256 !== part.sha256)) {
    return storedObjectMismatch(part, check, remedy, { cause: e });
  }
  return e;
}

async function loadOnSessions(
  backup: BackupManifest,
  deps: LoadBackupPartsDeps & { openLoadSession: OpenLoadSession },
  onStored: (n: number) => void,
  remedy: string,
  stats: PartsLoadStats,
): Promise<void> {
  const { pre, rows, post } = partsInLoadOrder(backup.parts ?? []);
  const threads = Math.max(1, Math.floor(deps.loadThreads ?? 2));
  const sessions: ParallelLoadSession[] = [];
  /** Deferred keys by table (`rowsPartTable`), until added. */
  const deferred = new Map<string, DeferredTable>();
  let deferring = deps.deferKeys !== false;
  /** Rows parts not yet loaded, per table. */
  const rowsLeft = new Map<string, number>();
  for (const p of rows) rowsLeft.set(rowsPartTable(p), (rowsLeft.get(rowsPartTable(p)) ?? 0) + 1);
  /** Tables a foreign key references (`rowsPartTable` keys): their keys stay in their CREATE. */
  const referenced = new Set<string>();
  const alterStatement = (d: DeferredTable, line: number): DumpStatement => ({
    kind: 'other',
    sql: Buffer.from(addKeysStatement(d.database, d.table, d.keys), 'utf8'),
    line,
  });
  /**
   * The statement to send for `st` of `part`: a CREATE TABLE without its deferrable keys (recorded
   * in `deferred`), or the statement preceded by the ALTERs of the deferred tables it references; else `st`.
   */
  const rewrite = (part: ManifestPart, st: DumpStatement): DumpStatement[] => {
    if (!deferring || st.kind !== 'create-table' || part.stage !== 'pre') return [st];
    const text = st.sql.toString('utf8');
    const parents = part.database === null ? null : referencedTables(text, part.database);
    if (parents === null) {
      // a reference we cannot read: the keys still pending now (their tables are empty), none later
      deferring = false;
      const flush = [...deferred.values()].map((d) => alterStatement(d, st.line));
      deferred.clear();
      return [...flush, st];
    }
    if (parents.length > 0) {
      // a child table keeps its keys; a parent's deferred keys go in before the child exists
      const flush: DumpStatement[] = [];
      for (const p of parents) {
        const k = tableKey(p.database, p.table);
        referenced.add(k);
        const d = deferred.get(k);
        if (d) {
          flush.push(alterStatement(d, st.line));
          deferred.delete(k);
        }
      }
      return [...flush, st];
    }
    if (part.database === null || part.table === null || st.table !== part.table) return [st];
    const table = rowsPartTable(part);
    if (referenced.has(table)) return [st];
    // only text that round-trips: the rewritten statement must differ from the dump's by the keys alone
    if (!Buffer.from(text, 'utf8').equals(st.sql)) return [st];
    const split = deferSecondaryKeys(text);
    if (!split) return [st];
    deferred.set(table, { database: part.database, table: part.table, keys: split.keys });
    return [{ ...st, sql: Buffer.from(split.createTable, 'utf8') }];
  };
  /** Adds the deferred keys of `table` (a `rowsPartTable` key) on `session`, if any. */
  const addDeferredKeys = async (session: ParallelLoadSession, table: string): Promise<void> => {
    const d = deferred.get(table);
    if (!d || failed) return;
    deferred.delete(table);
    const sql = addKeysStatement(d.database, d.table, d.keys);
    try {
      await session.query(Buffer.from(sql, 'utf8'));
      stats.keysAfterRows++;
    } catch (e) {
      const cause = e instanceof Error ? e : new Error(String(e));
      throw new PitrError(
        'RESTORE_APPLY_FAILED',
        `loading backup ${backup.id} into ${deps.targetName} failed adding the secondary keys of table ` +
          `${d.database}.${d.table} after its rows (${sql.length > 300 ? `${sql.slice(0, 300)} ...` : sql}): ` +
          `${cause.message}. The target is partly loaded: drop its user databases (or use a fresh server) and ` +
          'restore again; --no-defer-keys creates the keys with the tables instead',
        { cause },
      );
    }
  };
  let failure: unknown;
  let failed = false;
  const fail = (e: unknown): void => {
    if (failed) return;
    failed = true;
    failure = e;
    // Stop the other sessions' statements now rather than after they finish.
    for (const s of sessions) s.destroy();
  };

  /**
   * Streams one part into `session`, pipelined: statements are gathered into batches (up to
   * BATCH_STATEMENTS / BATCH_BYTES, one multi-statement round trip each when the session can), a
   * few batches queued; rejects with the part's first failure.
   */
  const loadPart = async (session: ParallelLoadSession, part: ManifestPart): Promise<void> => {
    const inflight: Promise<void>[] = [];
    let statementError: unknown;
    let batch: DumpStatement[] = [];
    let batchBytes = 0;
    const failedAt = (st: DumpStatement, e: unknown): void => {
      const cause = e instanceof Error ? e : new Error(String(e));
      statementError ??= new PitrError(
        'RESTORE_APPLY_FAILED',
        `loading backup ${backup.id} into ${deps.targetName} failed at ${describePart(part)} ${describeStatement(st)}: ` +
          `${cause.message}. The target is partly loaded: drop its user databases (or use a fresh server) ` +
          'and restore again',
        { cause },
      );
    };
    const send = async (): Promise<void> => {
      const sts = batch;
      batch = [];
      batchBytes = 0;
      if (sts.length === 0) return;
      const run =
        sts.length === 1 || !session.queryMany
          ? Promise.all(sts.map((st) => session.query(st.sql).catch((e: unknown) => failedAt(st, e)))).then(
              () => undefined,
            )
          : session.queryMany(sts.map((st) => st.sql)).catch((e: unknown) => {
              const i = (e as { statementIndex?: number }).statementIndex ?? 0;
              failedAt(sts[Math.min(i, sts.length - 1)]!, e);
            });
      inflight.push(run);
      while (inflight.length > QUEUE_PER_SESSION) await inflight.shift();
    };
    try {
      for await (const st of readBackupPart(deps.store, part, { onStored, remedy, signal: deps.signal })) {
        if (failed) throw failure;
        if (statementError !== undefined) throw statementError;
        if (SKIPPED_KINDS.has(st.kind)) continue;
        stats.statements++;
        for (const out of rewrite(part, st)) {
          if (
            batch.length > 0 &&
            (batch.length >= BATCH_STATEMENTS || batchBytes + out.sql.length > BATCH_BYTES)
          ) {
            await send();
          }
          batch.push(out);
          batchBytes += out.sql.length;
        }
      }
      await send();
      await Promise.all(inflight);
      if (statementError !== undefined) throw statementError;
      stats.parts++;
    } catch (e) {
      await Promise.allSettled(inflight);
      if (failed) throw failure;
      throw await explainFailure(deps, part, statementError ?? e, remedy);
    }
  };

  const onAbort = (): void => fail(deps.signal!.reason);
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  let ok = false;
  try {
    sessions.push(await deps.openLoadSession());
    for (const p of pre) await loadPart(sessions[0]!, p);
    // tables without rows: their keys now, while nothing else runs
    for (const table of [...deferred.keys()]) {
      if (!rowsLeft.has(table)) await addDeferredKeys(sessions[0]!, table);
    }
    const lanes = Math.min(threads, Math.max(1, rows.length));
    while (sessions.length < lanes) sessions.push(await deps.openLoadSession());
    stats.sessions = sessions.length;
    const pending = [...rows];
    const busy = new Map<string, number>();
    const worker = async (session: ParallelLoadSession): Promise<void> => {
      while (!failed && pending.length > 0) {
        const [part] = pending.splice(nextRowsPart(pending, busy), 1) as [ManifestPart];
        const table = rowsPartTable(part);
        busy.set(table, (busy.get(table) ?? 0) + 1);
        try {
          await loadPart(session, part);
        } finally {
          busy.set(table, busy.get(table)! - 1);
        }
        const left = rowsLeft.get(table)! - 1;
        rowsLeft.set(table, left);
        if (left === 0) await addDeferredKeys(session, table);
      }
    };
    await Promise.all(
      sessions.map((s) =>
        worker(s).catch((e: unknown) => {
          fail(e);
        }),
      ),
    );
    if (failed) throw failure;
    for (const p of post) await loadPart(sessions[0]!, p);
    if (failed) throw failure;
    ok = true;
  } catch (e) {
    fail(e);
    throw failure;
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    if (ok) await Promise.all(sessions.map((s) => s.close().catch(() => s.destroy())));
    else for (const s of sessions) s.destroy();
  }
}

async function loadThroughClient(
  backup: BackupManifest,
  deps: LoadBackupPartsDeps,
  onStored: (n: number) => void,
  remedy: string,
  stats: PartsLoadStats,
): Promise<void> {
  const { pre, rows, post } = partsInLoadOrder(backup.parts ?? []);
  const proc = deps.client.spawn();
  const err: Buffer[] = [];
  proc.stderr.on('data', (c: Buffer) => err.push(c));
  proc.stdout.resume();
  proc.stdin.on('error', () => undefined);
  const exit = once(proc, 'close') as Promise<[number | null]>;
  // A part may end inside a DELIMITER block or without a newline: reset both between parts.
  const between = Buffer.from('\nDELIMITER ;\n');
  let current: ManifestPart | undefined;
  try {
    stats.sessions = 1;
    outer: for (const part of [...pre, ...rows, ...post]) {
      current = part;
      for await (const chunk of readBackupPartBytes(deps.store, part, {
        onStored,
        remedy,
        signal: deps.signal,
      })) {
        if (!(await writeChunk(proc.stdin, chunk))) break outer;
      }
      if (!(await writeChunk(proc.stdin, between))) break;
      stats.parts++;
    }
    proc.stdin.end();
  } catch (e) {
    proc.kill('SIGTERM');
    await exit;
    throw current ? await explainFailure(deps, current, e, remedy) : e;
  }
  const [code] = await exit;
  if (code !== 0) {
    const e = new PitrError(
      'RESTORE_APPLY_FAILED',
      `loading backup ${backup.id} into ${deps.targetName} failed${current ? ` in ${describePart(current)}` : ''}: ` +
        `${Buffer.concat(err).toString().trim()}. The target is partly loaded: drop its user databases (or use a ` +
        'fresh server) and restore again',
    );
    throw current ? await explainFailure(deps, current, e, remedy) : e;
  }
}
