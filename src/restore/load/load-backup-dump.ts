import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { BackupManifest, ManifestObject } from '../../catalog/index.js';
import { createZstdDecompressStream } from '../../codec/index.js';
import { PitrError, isPitrError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { hashStoredObject, storedObjectMismatch } from './backup-part-reader.js';
import type { ClientCommand } from '../apply/client-command.js';
import { DumpStatementSplitter } from './dump-statement-splitter.js';
import { ParallelDumpLoader } from './parallel-dump-loader.js';
import { loadBackupParts } from './load-backup-parts.js';
import { loadInLanes } from './parallel-lane-loader.js';
import type { OpenLoadSession, ParallelLoadSession } from './parallel-load-session.js';
import type { RestoreProgressListener } from '../restore-progress.js';
import { writeChunk } from './write-chunk.js';

/** Sessions of a parallel load when `loadThreads` is not given (this project's 2-core default). */
export const DEFAULT_LOAD_THREADS = 2;

/** What loadBackupDump needs. */
export interface LoadBackupDumpDeps {
  store: ObjectStore;
  /** Runs the `mariadb` client against the target (the load without `openLoadSession`). */
  client: ClientCommand;
  /** The target as `host:port`, for messages. */
  targetName: string;
  /**
   * Opens a session to the target for the statement load (`openMysqlLoadSession`). When given, the
   * dump is split into statements and loaded by `loadThreads` sessions, each loading whole tables
   * (see loadInLanes) and reading its own copy of the stored dump. Without it, the dump is piped
   * into one `client` process.
   */
  openLoadSession?: OpenLoadSession | undefined;
  /**
   * Sessions of the load (`--load-threads`, default 2). A split backup: N sessions load its `rows`
   * parts, each part read once (loadBackupParts). A single dump: N sessions load whole tables, each
   * reading its own copy of the stored dump; 1 = the whole dump in order on one session, read once.
   */
  loadThreads?: number | undefined;
  /**
   * A split backup loaded on sessions: create the plain secondary keys of an InnoDB table after its
   * rows, in one ALTER TABLE (see loadBackupParts). Default true; `--no-defer-keys` sets false.
   */
  deferKeys?: boolean | undefined;
  /** Progress of the `load` phase: stored (compressed) bytes read of the dump's stored size. */
  onProgress?: RestoreProgressListener | undefined;
  logger?: Logger;
  signal?: AbortSignal;
}

const DUMP_REMEDY =
  'The check completes only at the end of the dump, so the target is already partly loaded from damaged data: ' +
  'drop its user databases (or use a fresh server) and reload it from another backup';

/** Decompressed chunks of one read of the dump, with the stored bytes counted (and hashed). */
async function* readDump(
  deps: LoadBackupDumpDeps,
  key: string,
  onStored: (chunk: Buffer) => void,
  onSql?: (chunk: Buffer) => void,
): AsyncGenerator<Buffer> {
  const source = await deps.store.getStream(key);
  const dec = createZstdDecompressStream({ object: key });
  source.on('data', onStored);
  source.on('error', (e) => dec.destroy(e));
  source.pipe(dec);
  try {
    for await (const chunk of dec) {
      deps.signal?.throwIfAborted();
      onSql?.(chunk as Buffer);
      yield chunk as Buffer;
    }
  } finally {
    source.destroy();
    dec.destroy();
  }
}

/**
 * The statement load: one session in dump order (`loadThreads` 1), or lanes (loadInLanes:
 * `loadThreads` sessions, each loading whole tables from its own copy of the dump). Returns
 * the stored size; `stored` and `sql` get the stored and uncompressed bytes of the first read.
 */
async function loadStatements(
  backup: BackupManifest,
  dump: ManifestObject,
  deps: LoadBackupDumpDeps & { openLoadSession: OpenLoadSession },
  sql: ReturnType<typeof createHash>,
  stored: ReturnType<typeof createHash>,
): Promise<number> {
  const key = dump.key;
  const log = deps.logger ?? silentLogger;
  const threads = Math.max(1, Math.floor(deps.loadThreads ?? DEFAULT_LOAD_THREADS));
  const reads = threads;
  const describeFailure = (statement: string, cause: Error): string =>
    `loading backup ${backup.id} into ${deps.targetName} failed at ${statement}: ${cause.message}. ` +
    'The target is partly loaded: drop its user databases (or use a fresh server) and restore again';
  const sessions: ParallelLoadSession[] = [];
  const bytes = new Array<number>(reads).fill(0);
  let reported = 0;
  const counter = (i: number) => (c: Buffer) => {
    if (i === 0) stored.update(c);
    bytes[i]! += c.length;
    // Progress follows the slowest read: what every session has been handed.
    const done = Math.min(...bytes);
    if (done > reported) {
      reported = done;
      deps.onProgress?.({ phase: 'load', done, total: dump.size });
    }
  };
  let ok = false;
  try {
    for (let i = 0; i < reads; i++) sessions.push(await deps.openLoadSession());
    const sources = sessions.map((_, i) =>
      readDump(deps, key, counter(i), i === 0 ? (c) => sql.update(c) : undefined),
    );
    if (threads === 1) {
      const loader = new ParallelDumpLoader(sessions, describeFailure);
      const splitter = new DumpStatementSplitter();
      for await (const chunk of sources[0]!) {
        for (const st of splitter.push(chunk)) await loader.feed(st);
      }
      for (const st of splitter.end()) await loader.feed(st);
      await loader.finish();
      log.info('dump statements loaded', { backup: backup.id, threads, ...loader.stats });
    } else {
      const stats = await loadInLanes({ sources, sessions, describeFailure, signal: deps.signal });
      log.info('dump statements loaded', { backup: backup.id, threads, ...stats });
    }
    ok = true;
  } finally {
    if (ok) await Promise.all(sessions.map((s) => s.close().catch(() => s.destroy())));
    else for (const s of sessions) s.destroy();
  }
  return bytes[0]!;
}

/**
 * Streams a backup's dump from the repository through zstd into the target, and checks the stored
 * bytes against the manifest's size and SHA-256 once read. With `openLoadSession` the dump is split
 * into statements and loaded on `loadThreads` sessions (data in parallel, DDL in order, see
 * ParallelDumpLoader, loadInLanes); without it, it is piped into one `mariadb` client. Either way the target's
 * binary log is off for the load. Shared by `restore pitr`, `restore replica` and `restore backup`;
 * the caller decides whether the target may be loaded. Memory stays bounded (a few statements per
 * session) whatever the dump size.
 *
 * @throws PitrError RESTORE_APPLY_FAILED when a statement or the client fails (names the dump line
 *   and table; the target is partly loaded), ChecksumMismatchError when the dump does not match its
 *   manifest (the target is partly loaded too), StorageError while reading, the signal's reason on
 *   abort, MysqlServerError / MysqlConnectionError when a session cannot be opened
 */
export async function loadBackupDump(backup: BackupManifest, deps: LoadBackupDumpDeps): Promise<void> {
  const log = deps.logger ?? silentLogger;
  if (backup.parts) {
    await loadBackupParts(backup, { ...deps, logger: log });
    return;
  }
  const dump = backup.dump;
  if (!dump)
    throw new PitrError(
      'CORRUPT_DATA',
      `backup ${backup.id} has neither a dump nor parts; take a new backup`,
    );
  const sql = createHash('sha256');
  if (deps.openLoadSession) {
    const stored = createHash('sha256');
    let storedBytes: number;
    try {
      storedBytes = await loadStatements(
        backup,
        dump,
        { ...deps, openLoadSession: deps.openLoadSession },
        sql,
        stored,
      );
    } catch (e) {
      // A damaged dump shows up first as a statement the server rejects (garbage SQL) or a zstd
      // error: check the stored object, so the operator learns that the dump, not the target, is bad.
      if (isPitrError(e, 'RESTORE_APPLY_FAILED', 'CORRUPT_DATA', 'TRUNCATED_DATA') && !deps.signal?.aborted) {
        const check = await hashStoredObject(deps.store, dump.key);
        if (check && (check.size !== dump.size || check.sha256 !== dump.sha256)) {
          throw storedObjectMismatch(dump, check, DUMP_REMEDY, { cause: e });
        }
      }
      throw e;
    }
    const storedSha = stored.digest('hex');
    if (storedBytes !== dump.size || storedSha !== dump.sha256) {
      throw storedObjectMismatch(dump, { size: storedBytes, sha256: storedSha }, DUMP_REMEDY);
    }
    log.info('dump loaded', { backup: backup.id, sha256: sql.digest('hex') });
    return;
  }
  const { store, client } = deps;
  const key = dump.key;
  const proc = client.spawn();
  const err: Buffer[] = [];
  proc.stderr.on('data', (c: Buffer) => err.push(c));
  proc.stdout.resume();
  proc.stdin.on('error', () => undefined);
  const exit = once(proc, 'close') as Promise<[number | null]>;
  const stored = createHash('sha256');
  let storedBytes = 0;
  try {
    const source = await store.getStream(key);
    const dec = createZstdDecompressStream({ object: key });
    source.on('data', (c: Buffer) => {
      stored.update(c);
      storedBytes += c.length;
      deps.onProgress?.({ phase: 'load', done: storedBytes, total: dump.size });
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
      `loading backup ${backup.id} into ${deps.targetName} failed: ${Buffer.concat(err).toString().trim()}. ` +
        'The target is partly loaded: drop its user databases (or use a fresh server) and restore again',
    );
  }
  const storedSha = stored.digest('hex');
  if (storedBytes !== dump.size || storedSha !== dump.sha256) {
    throw storedObjectMismatch(dump, { size: storedBytes, sha256: storedSha }, DUMP_REMEDY);
  }
  log.info('dump loaded', { backup: backup.id, sha256: sql.digest('hex') });
}
