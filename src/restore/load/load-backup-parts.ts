// Loads a split backup (manifest format 2: `parts`) into the target, by stages: every `pre` part in
// list order on one session, then every `rows` part on N sessions (a free session takes the first
// part of a table no other session is loading, else the first: several parts of one big table load
// at once), then every `post` part in list order on one session. Each stored byte is read once;
// each part's size and SHA-256 are checked as it streams. Each INSERT commits on its own: one
// transaction per table would take InnoDB's bulk insert path (MDEV-24621), measured at about twice
// the server's CPU for dump rows (bench/bulk-insert-probe.sh, docs/restore.md).
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
  return JSON.stringify([p.database, p.table]);
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
 * A part whose stored bytes do not match the manifest fails the load with ChecksumMismatchError
 * naming it; as the check completes only at the part's end, the target is then partly loaded (the
 * message says so and what to do). A statement that fails, or a zstd error, first re-reads the
 * part: when it does not match its manifest, the checksum error is thrown instead (with the
 * statement's error as its cause), so the operator learns the backup is damaged.
 *
 * @throws PitrError RESTORE_APPLY_FAILED (a statement or the client failed: names the part, line,
 *   statement; the target is partly loaded), ChecksumMismatchError, StorageError, the signal's
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
  const stats: PartsLoadStats = { parts: 0, statements: 0, sessions: 0, storedBytes: 0 };
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
        if (
          batch.length > 0 &&
          (batch.length >= BATCH_STATEMENTS || batchBytes + st.sql.length > BATCH_BYTES)
        ) {
          await send();
        }
        batch.push(st);
        batchBytes += st.sql.length;
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
