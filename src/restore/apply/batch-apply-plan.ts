import {
  BACKUP_MANIFEST_FORMAT,
  readBinlogCatalog,
  type BackupManifest,
  type CatalogTimeline,
} from '../../catalog/index.js';
import { PitrError, TargetOutOfRangeError, TransactionBoundaryError } from '../../errors/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { scanArchivedFile } from './archived-segments.js';
import {
  filesToScan,
  planRestore,
  type BinlogPoint,
  type PlanRestoreOptions,
  type RestoreCatalog,
  type RestorePlan,
  type ScannedFile,
} from '../plan/plan-restore.js';
import { describeRestoreTarget, type RestoreTarget } from '../plan/restore-target.js';

/** The id of the stand-in backup of an apply plan (no dump is loaded: the target holds the state). */
export const APPLY_FROM_BACKUP_ID = 'none (rolling the target forward)';

const at = (p: BinlogPoint): string => `${p.file}:${p.position}`;
const headed = (t: CatalogTimeline): boolean => t.segments.some((s) => s.header !== undefined);

function holds(t: CatalogTimeline, p: BinlogPoint): boolean {
  return t.segments.some(
    (s) => s.header !== undefined && s.file === p.file && s.start <= p.position && p.position <= s.header.end,
  );
}

/** The timeline to apply from: the one given, else the newest one that archived the start point. */
export function applyTimeline(
  timelines: readonly CatalogTimeline[],
  start: BinlogPoint,
  timeline: string | undefined,
): CatalogTimeline {
  if (timeline !== undefined) {
    const t = timelines.find((x) => x.id === timeline && headed(x));
    if (!t) {
      throw new TargetOutOfRangeError(
        'unknown-timeline',
        `timeline ${timeline} has no archived binlogs in this repository (see \`mysql-pitr binlog list\`)`,
        { timeline },
      );
    }
    if (!holds(t, start)) {
      throw new TargetOutOfRangeError(
        'not-archived',
        `--from ${at(start)} is not archived on timeline ${timeline}; \`mysql-pitr binlog list\` shows what is`,
        { timeline, file: start.file },
      );
    }
    return t;
  }
  const t = timelines.filter((x) => holds(x, start)).at(-1);
  if (!t) {
    const known = timelines.filter(headed).map((x) => {
      const segs = x.segments.filter((s) => s.header !== undefined);
      return `${x.id}: ${segs[0]!.file}:${segs[0]!.start} to ${segs.at(-1)!.file}:${segs.at(-1)!.header!.end}`;
    });
    throw new TargetOutOfRangeError(
      'not-archived',
      `--from ${at(start)} is not in the archive` +
        (known.length ? ` (it holds ${known.join('; ')})` : ' (the repository holds no archived binlogs)') +
        '. Give the binlog position the target is at: `SHOW MASTER STATUS` on a server restored with its binlog on, ' +
        'the backup coordinates (`mysql-pitr backup show`), or use --from-gtid-of-target',
    );
  }
  return t;
}

/**
 * Plans rolling an existing server forward: the archived binlog range from `start` (the target
 * already holds everything before it) to the restore target, with the exact stop point and the
 * same errors as planRestore (gaps, targets outside the archive, off-boundary `--to-position`).
 * Pure: the catalog must hold the file `filesToScan` asks for (see applyScanRequests). The plan's
 * `backup` is a stand-in (APPLY_FROM_BACKUP_ID, no dump) at `start`.
 *
 * @throws PitrError TARGET_OUT_OF_RANGE when `start` is not archived or the target is before it
 */
export function planApplyFrom(
  catalog: RestoreCatalog,
  start: BinlogPoint,
  target: RestoreTarget,
  opts: Pick<PlanRestoreOptions, 'timeline'> = {},
): RestorePlan {
  const timeline = applyTimeline(catalog.timelines, start, opts.timeline);
  const backup = standIn(timeline, start);
  try {
    return planRestore({ ...catalog, backups: [backup] }, target, {
      timeline: timeline.id,
      backupId: backup.id,
    });
  } catch (err) {
    if (err instanceof TargetOutOfRangeError && err.reason === 'backup-after-target') {
      throw new TargetOutOfRangeError(
        'before-start',
        `${describeRestoreTarget(target)} is before --from ${at(start)}: the target server is already past it. ` +
          'Rolling forward cannot go back in time: restore a backup into a fresh server with `mysql-pitr restore pitr`',
      );
    }
    throw err;
  }
}

/** The files planApplyFrom needs scanned. */
export function applyScanRequests(
  catalog: RestoreCatalog,
  start: BinlogPoint,
  target: RestoreTarget,
  opts: Pick<PlanRestoreOptions, 'timeline'> = {},
): ReturnType<typeof filesToScan> {
  const timeline = applyTimeline(catalog.timelines, start, opts.timeline);
  return filesToScan(catalog, target, { timeline: timeline.id });
}

function standIn(timeline: CatalogTimeline, start: BinlogPoint): BackupManifest {
  const src = timeline.record?.source;
  const headers = timeline.segments.map((s) => s.header).filter((h) => h !== undefined);
  const flavor = src?.flavor ?? (headers.some((h) => h.gtidSet !== '') ? 'mysql' : 'mariadb');
  return {
    format: BACKUP_MANIFEST_FORMAT,
    id: APPLY_FROM_BACKUP_ID,
    kind: 'logical-dump',
    timeline: timeline.id,
    source: {
      address: src?.address ?? '',
      serverId: src?.serverId ?? 0,
      ...(src?.serverUuid !== undefined ? { serverUuid: src.serverUuid } : {}),
      ...(src?.gtidDomainId !== undefined ? { gtidDomainId: src.gtidDomainId } : {}),
      flavor,
      version: src?.version ?? '',
    },
    startedAt: new Date(0).toISOString(),
    finishedAt: new Date(0).toISOString(),
    binlog: { ...start },
    gtidPosition: null,
    dump: { key: '', compression: 'zstd', size: 0, sha256: '', uncompressedSize: 0, uncompressedSha256: '' },
    databases: null,
    tool: { name: 'none', path: '', version: null, args: [] },
    nonTransactionalTables: [],
    warnings: [],
  };
}

/**
 * Reads the repository and plans rolling a server forward from `start` (see planApplyFrom), after
 * checking that `start` is not inside a transaction.
 *
 * @throws PitrError USAGE when `start` is inside a transaction (naming the boundaries around it);
 *   the errors of planApplyFrom; StorageError / CorruptDataError while reading
 */
export async function loadApplyPlan(
  store: ObjectStore,
  start: BinlogPoint,
  target: RestoreTarget,
  opts: { timeline?: string | undefined; signal?: AbortSignal } = {},
): Promise<RestorePlan> {
  const binlogs = await readBinlogCatalog(store, { headers: true });
  const catalog: RestoreCatalog = { backups: [], timelines: binlogs.timelines, scanned: [] };
  const timeline = applyTimeline(catalog.timelines, start, opts.timeline);
  const scan = async (file: string, upTo: number): Promise<ScannedFile> => {
    const segments = timeline.segments
      .filter((s) => s.file === file && s.header && s.start < upTo)
      .map((s) => ({ key: s.key, start: s.start, end: s.header!.end }));
    return scanArchivedFile(
      store,
      timeline.id,
      file,
      segments,
      undefined,
      opts.signal ? { signal: opts.signal } : {},
    );
  };
  // the start must be a transaction boundary: scan its file up to the segment holding it
  const startSeg = timeline.segments.find(
    (s) => s.header && s.file === start.file && s.start <= start.position && start.position <= s.header.end,
  )!;
  const startScan = await scan(start.file, startSeg.header!.end);
  const inside = startScan.transactions.find(
    (t) => t.startOffset < start.position && start.position < t.endOffset,
  );
  if (inside) {
    throw new TransactionBoundaryError(
      {
        option: '--from',
        file: start.file,
        position: start.position,
        inside: { gtid: inside.gtid, startOffset: inside.startOffset, endOffset: inside.endOffset },
        boundaries: [inside.startOffset, inside.endOffset],
      },
      `--from ${at(start)} is inside transaction ${inside.gtid ?? '(no GTID)'} (${inside.file}:${inside.startOffset}..` +
        `${inside.endOffset}); applying must start at a transaction boundary. Use --from ${inside.file}:${inside.startOffset} ` +
        `if the target does not hold that transaction yet, or --from ${inside.file}:${inside.endOffset} if it does`,
    );
  }
  const scanned: ScannedFile[] = [];
  for (const req of applyScanRequests(catalog, start, target, { timeline: timeline.id })) {
    scanned.push(
      req.file === start.file && startScan.scannedTo >= req.upTo ? startScan : await scan(req.file, req.upTo),
    );
  }
  return planApplyFrom({ ...catalog, scanned }, start, target, { timeline: timeline.id });
}

/**
 * The binlog position just after transaction `gtid` in the archive: where a server whose GTID
 * position ends at `gtid` continues.
 *
 * @throws PitrError TARGET_OUT_OF_RANGE when the transaction is not archived (the planner's errors)
 */
export async function locateAfterGtid(
  store: ObjectStore,
  gtid: string,
  opts: { timeline?: string | undefined; signal?: AbortSignal } = {},
): Promise<BinlogPoint> {
  const binlogs = await readBinlogCatalog(store, { headers: true });
  const catalog: RestoreCatalog = { backups: [], timelines: binlogs.timelines, scanned: [] };
  const target: RestoreTarget = { kind: 'to-gtid', gtid };
  const [req] = filesToScan(catalog, target, { timeline: opts.timeline });
  const t = binlogs.timelines.find((x) => x.id === req!.timeline)!;
  const segments = t.segments
    .filter((s) => s.file === req!.file && s.header && s.start < req!.upTo)
    .map((s) => ({ key: s.key, start: s.start, end: s.header!.end }));
  const scanned = await scanArchivedFile(
    store,
    t.id,
    req!.file,
    segments,
    undefined,
    opts.signal ? { signal: opts.signal } : {},
  );
  const trx = scanned.transactions.find((x) => x.gtid === gtid);
  if (!trx) {
    throw new TargetOutOfRangeError(
      'not-archived',
      `the target's GTID position ends at ${gtid}, but ${req!.file} of timeline ${t.id} does not hold that transaction; ` +
        'give the start with --from FILE:POS',
    );
  }
  return { file: trx.file, position: trx.endOffset };
}

/** Binlog file order: by the numeric extension (`.000009` < `.000010` < `.1000000`). */
function comparePoints(a: BinlogPoint, b: BinlogPoint): number {
  const n = (f: string): number => Number(/\.(\d+)$/.exec(f)?.[1] ?? 0);
  return n(a.file) - n(b.file) || a.position - b.position;
}

/**
 * Where a server whose GTID position is `gtids` (one GTID per domain) continues: just after the
 * latest of those transactions in the archive's binlog order. With one domain this is
 * locateAfterGtid; with several, each domain's GTID is located and the furthest point wins (the
 * server holds every transaction up to each domain's GTID, so everything before that point).
 *
 * @throws PitrError TARGET_OUT_OF_RANGE naming the GTID that is not archived (give `--from`)
 */
export async function locateAfterGtids(
  store: ObjectStore,
  gtids: readonly string[],
  opts: { timeline?: string | undefined; signal?: AbortSignal } = {},
): Promise<BinlogPoint> {
  let best: BinlogPoint | undefined;
  for (const gtid of gtids) {
    let p: BinlogPoint;
    try {
      p = await locateAfterGtid(store, gtid, opts);
    } catch (err) {
      if (gtids.length > 1 && err instanceof TargetOutOfRangeError) {
        throw new TargetOutOfRangeError(
          'not-archived',
          `the target's GTID position is ${gtids.join(',')}, and ${gtid} is not in the archive (${err.message}); ` +
            'where to continue is unknown: give the start with --from FILE:POS',
          { cause: err },
        );
      }
      throw err;
    }
    if (!best || comparePoints(p, best) > 0) best = p;
  }
  if (!best) throw new PitrError('USAGE', 'no GTID to continue from; give the start with --from FILE:POS');
  return best;
}
