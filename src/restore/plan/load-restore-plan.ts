import { readBackupCatalog, readBinlogCatalog } from '../../catalog/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { scanArchivedFile } from '../apply/archived-segments.js';
import {
  filesToScan,
  planRestore,
  type PlanRestoreOptions,
  type RestoreCatalog,
  type RestorePlan,
  type ScannedFile,
} from './plan-restore.js';
import type { RestoreTarget } from './restore-target.js';

/**
 * Reads what the planner needs from the repository (backups, timelines with segment headers, and
 * the files that hold the target and, across a failover, the forks, scanned for their transaction
 * boundaries) and plans the restore.
 *
 * @throws the errors of planRestore; StorageError / CorruptDataError while reading
 */
export async function loadRestorePlan(
  store: ObjectStore,
  target: RestoreTarget,
  opts: PlanRestoreOptions & { signal?: AbortSignal } = {},
): Promise<RestorePlan> {
  const [backups, binlogs] = await Promise.all([
    readBackupCatalog(store),
    readBinlogCatalog(store, { headers: true }),
  ]);
  const catalog: RestoreCatalog = { backups: backups.complete, timelines: binlogs.timelines, scanned: [] };
  // a plan across a failover asks twice: first the files around each fork, then the target's file
  const scanned: ScannedFile[] = [];
  for (let round = 0; round < 3; round++) {
    const reqs = filesToScan({ ...catalog, scanned }, target, opts);
    if (reqs.length === 0) break;
    for (const req of reqs) {
      const timeline = binlogs.timelines.find((t) => t.id === req.timeline)!;
      const segments = timeline.segments
        .filter((s) => s.file === req.file && s.header && s.start < req.upTo)
        .map((s) => ({ key: s.key, start: s.start, end: s.header!.end }));
      scanned.push(
        await scanArchivedFile(
          store,
          req.timeline,
          req.file,
          segments,
          undefined,
          opts.signal ? { signal: opts.signal } : {},
        ),
      );
    }
  }
  return planRestore({ ...catalog, scanned }, target, opts);
}
