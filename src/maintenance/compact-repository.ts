import {
  decodeBinlogFileIndex,
  readBinlogCatalog,
  type BinlogCatalog,
  type CatalogFileIndex,
} from '../catalog/index.js';
import { PitrError, isPitrError, messageOf } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import { compactBinlogFile, writeIndexQuietly, type CompactedFile } from './compact-binlog-file.js';
import { closedBinlogFiles, type ClosedBinlogFile } from './compact-plan.js';
import { Lease, LeaseHeldError } from '../archiver/lease.js';

/** The object that stops two compactions of one repository from running at once. */
export const COMPACT_LEASE_KEY = 'locks/compact.json';

/** Options of compactRepository. */
export interface CompactRepositoryOptions {
  /** Only files whose newest object is older than this (ms); default every closed file. */
  olderThanMs?: number;
  /** Plan only: write and delete nothing (and take no lease). */
  dryRun?: boolean;
  /** Largest object to write, in stored bytes (default 256 MiB). */
  maxObjectBytes?: number;
  /** zstd level of the merged objects (default 1, the archiver's). */
  level?: number;
  /** The time `olderThanMs` counts from (default the clock). */
  now?: Date;
  logger?: Logger;
  /** Stops between objects and deletions; a re-run finishes the job. */
  signal?: AbortSignal;
}

/** What compactRepository did (or, with dryRun, would do). */
export interface CompactRepositoryResult {
  repository: string;
  dryRun: boolean;
  /** Binlog objects in the repository before and after (after: as planned, for a dry run). */
  objectsBefore: number;
  objectsAfter: number;
  /** Stored bytes of all binlog objects before and after. */
  storedBytesBefore: number;
  storedBytesAfter: number;
  /** Files with something written or deleted (or to be), in timeline and file order. */
  files: CompactedFile[];
  /** Closed files left alone because they are younger than `olderThanMs`. */
  tooRecent: number;
  /** Closed files given the index they lacked, with nothing to compact (or, with dryRun, to give). */
  indexesWritten: number;
  /**
   * Index objects of files that no longer have any object (expire removed them), deleted (or to
   * delete) once parsed: an index that cannot be parsed is never deleted.
   */
  orphanIndexesDeleted: number;
}

/**
 * Compacts every closed binlog file of the repository (see compactBinlogFile): files on timelines
 * older than the newest one, and files followed by a later file; never the file the archiver may
 * still append to. Holds the lease `locks/compact.json` (put-if-absent, renewed, released at the
 * end; a holder killed on this host is taken over at once) so that two compactions never
 * interleave. The archiver needs no lock against it: they never write the same file.
 *
 * @throws LeaseHeldError (LEASE_HELD) when another compaction is running
 * @throws ChecksumMismatchError / CorruptDataError (DATA) for a damaged segment (the file is left as it was)
 * @throws PitrError INTERRUPTED when `signal` fires; StorageError for storage failures
 */
export async function compactRepository(
  store: ObjectStore,
  opts: CompactRepositoryOptions = {},
): Promise<CompactRepositoryResult> {
  const log = opts.logger ?? silentLogger;
  const now = (opts.now ?? new Date()).getTime();
  /** The closed files with something to do, and how many closed files are too recent. */
  const plan = (
    catalog: BinlogCatalog,
  ): {
    files: ClosedBinlogFile[];
    tooRecent: number;
    needIndex: ClosedBinlogFile[];
    orphans: CatalogFileIndex[];
  } => {
    const files: ClosedBinlogFile[] = [];
    const needIndex: ClosedBinlogFile[] = [];
    let tooRecent = 0;
    const indexed = new Set((catalog.fileIndexes ?? []).map((i) => `${i.timeline}/${i.file}`));
    const withObjects = new Set(
      catalog.timelines.flatMap((t) => [...t.segments, ...(t.covered ?? [])].map((s) => `${t.id}/${s.file}`)),
    );
    const orphans = (catalog.fileIndexes ?? []).filter((i) => !withObjects.has(`${i.timeline}/${i.file}`));
    for (const f of closedBinlogFiles(catalog)) {
      if (f.segments.length < 2 && f.covered.length === 0) {
        if (!indexed.has(`${f.timeline}/${f.file}`)) needIndex.push(f);
        continue;
      }
      const newest = Math.max(...[...f.segments, ...f.covered].map((s) => s.lastModified.getTime()));
      if (opts.olderThanMs !== undefined && newest > now - opts.olderThanMs) tooRecent += 1;
      else files.push(f);
    }
    return { files, tooRecent, needIndex, orphans };
  };
  let catalog = await readBinlogCatalog(store);
  let work = plan(catalog);
  let lease: Lease | undefined;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort(opts.signal.reason);
  try {
    // The lease only when there is work: a run with nothing to do (or a wrong --repo) writes nothing.
    const hasWork = (w: typeof work): boolean =>
      w.files.length > 0 || w.needIndex.length > 0 || w.orphans.length > 0;
    if (!opts.dryRun && hasWork(work)) {
      lease = await acquireCompactLease(store, log);
      lease.keepAlive((err) => {
        log.error('the compaction lease was taken over; stopping', { error: messageOf(err) });
        stop.abort(err);
      });
      // read again under the lease: another compaction may have finished meanwhile
      catalog = await readBinlogCatalog(store);
      work = plan(catalog);
    }
    let objectsBefore = 0;
    let storedBytesBefore = 0;
    for (const t of catalog.timelines) {
      for (const s of [...t.segments, ...(t.covered ?? [])]) {
        objectsBefore += 1;
        storedBytesBefore += s.size;
      }
    }
    const result: CompactRepositoryResult = {
      repository: store.describe(),
      dryRun: opts.dryRun === true,
      objectsBefore,
      objectsAfter: objectsBefore,
      storedBytesBefore,
      storedBytesAfter: storedBytesBefore,
      files: [],
      tooRecent: work.tooRecent,
      indexesWritten: 0,
      orphanIndexesDeleted: 0,
    };
    for (const f of work.files) {
      if (stop.signal.aborted) {
        throw new PitrError(
          'INTERRUPTED',
          `compaction was stopped after ${result.files.length} files; the repository is consistent, run ` +
            '`mysql-pitr binlog compact` again to finish',
        );
      }
      const done = await compactBinlogFile(store, f.timeline, f.file, {
        catalog,
        ...(opts.maxObjectBytes !== undefined ? { maxObjectBytes: opts.maxObjectBytes } : {}),
        ...(opts.level !== undefined ? { level: opts.level } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
        logger: log,
        signal: stop.signal,
      });
      if (done.written === 0 && done.deleted === 0) continue;
      result.files.push(done);
      result.objectsAfter += done.objectsAfter - done.objectsBefore;
      result.storedBytesAfter += done.storedBytesAfter - done.storedBytesBefore;
    }
    for (const f of work.needIndex) {
      if (stop.signal.aborted) break;
      if (opts.dryRun) result.indexesWritten += 1;
      else if (await writeIndexQuietly(store, f.timeline, f.file, undefined, log)) result.indexesWritten += 1;
    }
    for (const i of work.orphans) {
      if (stop.signal.aborted) break;
      if (await deleteOrphanIndex(store, i, opts.dryRun === true, log)) result.orphanIndexesDeleted += 1;
    }
    return result;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await lease?.release();
  }
}

/**
 * Deletes the index of a file that has no object left (expire removed them all), once it has been
 * read and parsed, and none of the objects it lists has come back meanwhile. An index that cannot be
 * parsed (damaged, or written by a newer mysql-pitr) is left alone and logged: `verify` reports it.
 *
 * @returns true when it was deleted (or, for a dry run, would be)
 */
async function deleteOrphanIndex(
  store: ObjectStore,
  i: CatalogFileIndex,
  dryRun: boolean,
  log: Logger,
): Promise<boolean> {
  try {
    decodeBinlogFileIndex(await store.get(i.key), i.key);
    // one listing of the file's prefix: anything there but the index means the file has objects again
    for await (const o of store.list(i.key.slice(0, i.key.lastIndexOf('/') + 1)))
      if (o.key !== i.key) return false;
    if (!dryRun) await store.delete([i.key]);
    log.info('index of an expired binlog file deleted', { key: i.key, dryRun });
    return true;
  } catch (err) {
    if (isPitrError(err, 'OBJECT_NOT_FOUND')) return false;
    if (!isPitrError(err, 'FORMAT_TOO_NEW', 'CORRUPT_DATA', 'TRUNCATED_DATA')) throw err;
    log.warn(`${i.key} belongs to a file with no object left but cannot be read; it is left as it is`, {
      error: messageOf(err),
    });
    return false;
  }
}

/**
 * Takes `locks/compact.json`.
 *
 * @throws LeaseHeldError (LEASE_HELD) naming the running compaction
 */
async function acquireCompactLease(store: ObjectStore, log: Logger): Promise<Lease> {
  try {
    return await Lease.acquire(store, { key: COMPACT_LEASE_KEY, source: 'binlog compact', logger: log });
  } catch (err) {
    if (!(err instanceof LeaseHeldError)) throw err;
    const h = err.holder;
    throw new LeaseHeldError(
      `another \`mysql-pitr binlog compact\` is running on ${store.describe()}` +
        (h ? ` (host ${h.host} pid ${h.pid}, since ${h.acquiredAt}, lease valid until ${h.expiresAt})` : '') +
        `. Let it finish; if it died on another host, wait until its lease expires (or delete ${COMPACT_LEASE_KEY} ` +
        'once you are sure it is gone) and run compaction again',
      h,
      { cause: err },
    );
  }
}
