import {
  backupPrefix,
  planRetention,
  readBackupCatalog,
  readBinlogCatalog,
  type RetentionPlan,
  type RetentionPolicy,
} from '../catalog/index.js';
import { PitrError } from '../errors/index.js';
import { ExpireRefusedError } from './expire-refused-error.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';

/** Options of expireRepository. */
export interface ExpireOptions {
  /** The time the policy is applied at (default: the clock). */
  now?: Date;
  /** Plan only: delete nothing. */
  dryRun?: boolean;
  logger?: Logger;
  /** Stops between deletions (what was deleted stays deleted; a re-run finishes the job). */
  signal?: AbortSignal;
}

/** What expire did (or, with dryRun, would do). */
export interface ExpireResult {
  plan: RetentionPlan;
  dryRun: boolean;
  /** Keys deleted, in the order they were deleted (empty for a dry run). */
  deleted: string[];
  /** Stored bytes of the segments deleted (or to delete, for a dry run). */
  segmentBytes: number;
}

/**
 * Applies a retention policy to a repository: reads the backup and binlog catalogs, plans with
 * `planRetention` and deletes, in an order that is safe to stop at any point:
 *
 * 1. each expired backup's manifest, then its data (and anything else left in its folder): from
 *    the first deletion on, the backup is incomplete and never used, so a half-deleted backup never
 *    looks complete;
 * 2. backup folders without a manifest past the grace period;
 * 3. binlog segments one at a time, oldest first, per timeline; then that range's gap records, and
 *    for a timeline that goes whole, its record last. The remaining segments are always a suffix of
 *    what was there: the start of the archive moves, no hole opens in the middle.
 *
 * A second run after a crash re-plans from what is left and finishes the job. Meant both for
 * `mysql-pitr expire` and for the archiver's periodic `--expire-days`.
 *
 * A manifest that exists but cannot be read (damaged, or a newer format) stops expire before it
 * deletes anything (ExpireRefusedError); a segment header, timeline or gap record of a newer format
 * stops it while reading the catalog (FormatTooNewError), also before any deletion.
 *
 * @throws ExpireRefusedError (EXPIRE_REFUSED) when a backup manifest cannot be read; nothing deleted
 * @throws FormatTooNewError (FORMAT_TOO_NEW) when a newer mysql-pitr wrote a catalog object
 * @throws PitrError USAGE for a policy without keepDays/keepBackups; INTERRUPTED when `signal` fires
 * @throws StorageError for storage failures; CorruptDataError when a segment header is damaged
 *   (run `mysql-pitr verify`)
 */
export async function expireRepository(
  store: ObjectStore,
  policy: RetentionPolicy,
  opts: ExpireOptions = {},
): Promise<ExpireResult> {
  const log = opts.logger ?? silentLogger;
  const [backups, binlogs] = await Promise.all([
    readBackupCatalog(store),
    readBinlogCatalog(store, { headers: true }),
  ]);
  const plan = planRetention(
    { backups: backups.complete, incomplete: backups.incomplete, timelines: binlogs.timelines },
    policy,
    opts.now ?? new Date(),
  );
  // Delete only what was parsed and decided on: one unreadable manifest stops everything, dry run too.
  if (plan.refused.length > 0) throw new ExpireRefusedError(plan.refused, store.describe());
  const segmentBytes = plan.expireBinlogs.reduce((a, t) => a + t.segments.reduce((b, s) => b + s.size, 0), 0);
  const result: ExpireResult = { plan, dryRun: opts.dryRun === true, deleted: [], segmentBytes };
  if (opts.dryRun) return result;

  const remove = async (keys: readonly string[]): Promise<void> => {
    if (keys.length === 0) return;
    if (opts.signal?.aborted) {
      throw new PitrError(
        'INTERRUPTED',
        `expire was stopped after deleting ${result.deleted.length} objects; the repository is consistent, ` +
          'run expire again to finish',
      );
    }
    await store.delete(keys);
    result.deleted.push(...keys);
  };

  for (const b of plan.expireBackups) {
    // manifest first: from here on the backup is incomplete, whatever happens next
    await remove([b.manifestKey]);
    await remove(b.dataKeys);
    const rest: string[] = [];
    for await (const o of store.list(backupPrefix(b.id))) rest.push(o.key);
    await remove(rest);
    log.info('backup expired', { backup: b.id, reason: b.reason });
  }
  for (const i of plan.expireIncomplete) {
    for (const key of i.keys) await remove([key]);
    log.info('incomplete backup removed', { backup: i.id, reason: i.reason });
  }
  for (const t of plan.expireBinlogs) {
    // one at a time, oldest first: a batch delete is unordered and could open a hole mid-archive
    for (const s of t.segments) await remove([s.key]);
    await remove(t.gapKeys);
    if (t.recordKey) await remove([t.recordKey]);
    log.info('binlogs expired', {
      timeline: t.timeline,
      segments: t.segments.length,
      whole: t.whole,
      reason: t.reason,
    });
  }
  return result;
}
