import { readBackupCatalog, readBinlogCatalog } from '../catalog/index.js';
import type { ObjectStore } from '../storage/index.js';
import { scanArchivedFile } from './archived-segments.js';
import {
  filesToScan,
  planRestore,
  type PlanRestoreOptions,
  type RestoreCatalog,
  type RestorePlan,
} from './plan-restore.js';
import type { RestoreTarget } from './restore-target.js';

/**
 * Reads what the planner needs from the repository (backups, timelines with segment headers, and
 * the one file that holds the target, scanned for its transaction boundaries) and plans the restore.
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
  const scanned = [];
  for (const req of filesToScan(catalog, target, opts)) {
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
  return planRestore({ ...catalog, scanned }, target, opts);
}
