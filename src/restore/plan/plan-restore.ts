import {
  backupSize,
  binlogFileAfter,
  compareBinlogFiles,
  describeSourceIdentity,
  findBackupGtidCandidates,
  judgeUnclosedFileEnd,
  locateBackupTimeline,
  timelineChain,
  type TimelineLink,
  type BackupManifest,
  type BinlogGap,
  type CatalogSegment,
  type CatalogTimeline,
} from '../../catalog/index.js';
import { MariadbGtidPos, MysqlGtidSet, parseMariadbGtid, parseMysqlGtid } from '../../gtid/index.js';
import {
  BinlogGapError,
  PitrError,
  TargetOutOfRangeError,
  TransactionBoundaryError,
  type MissingBinlogRange,
} from '../../errors/index.js';
import { describeRestoreTarget, type RestoreTarget } from './restore-target.js';

/** One transaction found by scanning an archived binlog file (see scanArchivedFile). */
export interface ArchivedTransaction {
  file: string;
  /** Offset of its first event (GTID event or BEGIN): a transaction boundary. */
  startOffset: number;
  /** Offset just past its last event: a transaction boundary. */
  endOffset: number;
  /** MariaDB `0-1-42`, MySQL `uuid:42`; undefined without GTIDs. */
  gtid: string | undefined;
  /** Commit time in milliseconds since the epoch (second resolution on MariaDB). */
  commitTime: number;
}

/** The transactions of one archived file, read from its first byte up to `scannedTo`. */
export interface ScannedFile {
  timeline: string;
  file: string;
  /** Bytes [0, scannedTo) were read. */
  scannedTo: number;
  /** In binlog order. */
  transactions: ArchivedTransaction[];
}

/** What the planner reads: the repository's backups and archive, plus the files scanned for the target. */
export interface RestoreCatalog {
  /** Complete backups (with a manifest), any order. */
  backups: readonly BackupManifest[];
  /** Timelines with segment headers read (segments without a header are ignored). */
  timelines: readonly CatalogTimeline[];
  /** Files scanned to find the exact stop point (see filesToScan). */
  scanned: readonly ScannedFile[];
}

/** Options of planRestore / filesToScan. */
export interface PlanRestoreOptions {
  /** Restore on this timeline (default: the newest one with segments). */
  timeline?: string | undefined;
  /** Use this backup (default: the newest complete one before the target). */
  backupId?: string | undefined;
}

/** A binlog file and byte offset. */
export interface BinlogPoint {
  file: string;
  position: number;
}

/** One binlog file of the apply range. */
export interface PlanFile {
  file: string;
  /** Where applying starts (`mariadb-binlog --start-position`): the backup's position in its file, else 4. */
  from: number;
  /** Where applying stops (`--stop-position`): set for the last file only. */
  to: number | undefined;
  /** The timeline of the file, set in plans that cross a fork (`chain`). */
  timeline?: string;
  /** Segments to fetch, from the start of the file (the format description event is needed). */
  segments: { key: string; start: number; end: number; size: number }[];
}

/**
 * Where a restore crosses from one timeline to the one that continues it (a failover or
 * switchover): every transaction is applied once, decided by GTID.
 */
export interface PlanFork {
  /** The earlier timeline, and where applying it stops: the end of the fork transaction. */
  parent: string;
  cut: BinlogPoint;
  /** The last transaction applied from the parent (the newest one both timelines hold, or the recorded fork GTID's). */
  forkTransaction: ArchivedTransaction;
  /** The later timeline, and where applying it starts: its first transaction after the fork. */
  timeline: string;
  resume: BinlogPoint;
  /** That transaction; undefined when the later timeline has none after the fork yet. */
  firstNew: ArchivedTransaction | undefined;
  /** MariaDB GTID position at the fork. */
  forkGtid: string;
  /** `recorded` (the timeline record's forkGtid) or `inferred` (GTID continuity). */
  how: 'recorded' | 'inferred';
  /**
   * Transactions archived from the parent after the fork that the later timeline does not hold:
   * lost in the failover. Never applied on this chain.
   */
  lost: ArchivedTransaction[];
}

/**
 * How a backup is tied to the archive (docs/failure-model.md, "Backups along the chain").
 * `coordinates`: its binlog file:position lies on a timeline of its source. `gtid`: its coordinates
 * do not place it (a backup of a replica's own binlog, of a replica of a replica, of the promoted
 * server before its timeline starts), but its GTID position is a point of the chain of timelines:
 * the transaction boundary right after the last transaction it holds.
 */
export interface BackupPlacement {
  how: 'coordinates' | 'gtid';
  /** The timeline where applying starts. */
  timeline: string;
  /** Where applying starts: a transaction boundary. */
  point: BinlogPoint;
  /** Why the backup belongs there, for an operator. */
  evidence: string;
}

/** What a restore will do. Pure data: `restore plan` prints it, executeRestore carries it out. */
export interface RestorePlan {
  target: RestoreTarget;
  /** The target as typed, e.g. `--before-gtid 0-1-48213`. */
  targetText: string;
  timeline: string;
  backup: BackupManifest;
  /** How the backup is tied to the archive: where applying starts, on which timeline, and why. */
  placement: BackupPlacement;
  /** Where binlog apply starts: the backup's coordinates, or the boundary its GTID position gives. */
  start: BinlogPoint;
  /** Where it stops: a transaction boundary. */
  stop: BinlogPoint;
  /** The last transaction applied (undefined when it is unknown or nothing is applied after the backup). */
  lastIncluded: ArchivedTransaction | undefined;
  /** The first transaction not applied, when there is one in the archive. */
  firstExcluded: ArchivedTransaction | undefined;
  /** Binlog files to apply, in order; empty when the backup is the target. */
  files: PlanFile[];
  /**
   * The forks the plan crosses, oldest first, when the backup is on an earlier timeline than the
   * stop point (`files` then hold the files of several timelines: see PlanFile.timeline).
   */
  chain?: PlanFork[];
  /** Expected GTID position of the restored server (MariaDB: per domain; MySQL: a set); null if unknown. */
  expectedGtidPosition: string | null;
  bytes: {
    /** Stored (compressed) dump. */
    dump: number;
    /** SQL to load. */
    dumpSql: number;
    /** Stored (compressed) binlog segments to fetch. */
    binlogStored: number;
    /** Raw binlog bytes to feed to mariadb-binlog. */
    binlog: number;
  };
  /** Rough duration in seconds (see ESTIMATE_RATES). */
  estimateSeconds: { download: number; load: number; apply: number; total: number };
}

/**
 * Rates behind the plan's estimate, bytes per second. Load: `mariadb` loads 1 GiB of SQL in about
 * 53 s on the reference machine; apply and download are conservative guesses.
 */
export const ESTIMATE_RATES = {
  download: 100 * 1024 * 1024,
  loadSql: 19 * 1024 * 1024,
  applyBinlog: 10 * 1024 * 1024,
} as const;

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const at = (p: BinlogPoint): string => `${p.file}:${p.position}`;
const trxText = (t: ArchivedTransaction): string =>
  `${t.gtid ? `GTID ${t.gtid} ` : ''}at ${t.file}:${t.startOffset}..${t.endOffset} committed ${iso(t.commitTime)}`;

function comparePoints(a: BinlogPoint, b: BinlogPoint): number {
  return compareBinlogFiles(a.file, b.file) || a.position - b.position;
}

type Headed = CatalogSegment & { header: NonNullable<CatalogSegment['header']> };
const headed = (t: CatalogTimeline): Headed[] =>
  t.segments.filter((s): s is Headed => s.header !== undefined);
const commitMs = (s: string | null): number | undefined => (s === null ? undefined : Date.parse(s));

function chooseTimeline(catalog: RestoreCatalog, opts: PlanRestoreOptions): CatalogTimeline {
  if (opts.timeline !== undefined) {
    const t = catalog.timelines.find((x) => x.id === opts.timeline);
    if (!t || headed(t).length === 0) {
      const known = catalog.timelines.filter((x) => headed(x).length > 0).map((x) => x.id);
      throw new TargetOutOfRangeError(
        'unknown-timeline',
        `timeline ${opts.timeline} has no archived binlogs in this repository` +
          (known.length ? `; it has timelines ${known.join(', ')} (see \`mysql-pitr binlog list\`)` : ''),
      );
    }
    return t;
  }
  const t = catalog.timelines.filter((x) => headed(x).length > 0).at(-1);
  if (!t) {
    throw new TargetOutOfRangeError(
      'no-archive',
      'the repository holds no archived binlogs, so no point in time can be restored; run `mysql-pitr archive` ' +
        'against the source (a backup alone can still be loaded with `--to-position` at its coordinates once archived)',
    );
  }
  return t;
}

/** A file the planner needs scanned: bytes [0, upTo) of `file` on `timeline`. */
export interface ScanRequest {
  timeline: string;
  file: string;
  upTo: number;
}

interface Located {
  /** The segment holding the target; undefined for `latest` without a split last segment. */
  segment: Headed | undefined;
  timeline: CatalogTimeline;
}

function domainRange(s: Headed, domain: number): { first: number; last: number } | undefined {
  const r = s.header.gtids[String(domain)];
  if (!r) return undefined;
  return { first: parseMariadbGtid(r.first).seqNo, last: parseMariadbGtid(r.last).seqNo };
}

function segmentHasGtid(s: Headed, gtid: string): boolean {
  if (/^\d+-\d+-\d+$/.test(gtid)) {
    const g = parseMariadbGtid(gtid);
    const r = domainRange(s, g.domainId);
    return r !== undefined && r.first <= g.seqNo && g.seqNo <= r.last;
  }
  return s.header.gtidSet !== '' && MysqlGtidSet.parse(s.header.gtidSet).contains(parseMysqlGtid(gtid));
}

function archiveEnd(t: CatalogTimeline): string {
  const segs = headed(t);
  const last = segs.at(-1)!;
  const lastCommit = [...segs].reverse().find((s) => s.header.lastCommit)?.header.lastCommit;
  return `${last.file}:${last.header.end}${lastCommit ? `, last commit ${lastCommit}` : ''}`;
}

function otherTimelineError(
  target: RestoreTarget,
  found: CatalogTimeline,
  chosen: CatalogTimeline,
): PitrError {
  return new TargetOutOfRangeError(
    'other-timeline',
    `${describeRestoreTarget(target)} is on timeline ${found.id}, not on timeline ${chosen.id} (the newest, ` +
      `started because: ${chosen.record?.reason ?? 'a new binlog history'}). ` +
      `Add --timeline ${found.id} to restore that history, or pick a target on timeline ${chosen.id} ` +
      `(it holds ${headed(chosen)[0]!.file}:${headed(chosen)[0]!.start} to ${archiveEnd(chosen)})`,
  );
}

/** Finds the segment holding the target on the chosen timeline, or throws the error saying why not. */
function locate(catalog: RestoreCatalog, target: RestoreTarget, opts: PlanRestoreOptions): Located {
  const timeline = chooseTimeline(catalog, opts);
  const segs = headed(timeline);
  const others = catalog.timelines.filter((t) => t !== timeline && headed(t).length > 0);
  const afterNewest = (what: string): PitrError =>
    new TargetOutOfRangeError(
      'after-archive',
      `${what} is after the newest archived transaction of timeline ${timeline.id} (the archive ends at ` +
        `${archiveEnd(timeline)}). Nothing later can be restored yet: check that \`mysql-pitr archive\` is running ` +
        '(`mysql-pitr status`), wait for it to catch up, or use --to latest to restore everything archived',
    );
  switch (target.kind) {
    case 'latest': {
      const last = segs.at(-1)!;
      return { timeline, segment: last.header.splitTransaction ? last : undefined };
    }
    case 'time': {
      const seg = segs.find(
        (s) =>
          (commitMs(s.header.firstCommit) ?? -Infinity) > target.time ||
          (commitMs(s.header.lastCommit) ?? -Infinity) > target.time,
      );
      if (!seg) throw afterNewest(describeRestoreTarget(target));
      const firstCommit = segs.map((s) => commitMs(s.header.firstCommit)).find((c) => c !== undefined);
      if (firstCommit !== undefined && target.time < firstCommit && opts.timeline === undefined) {
        const older = [...others].reverse().find((t) => {
          const h = headed(t);
          const first = h.map((s) => commitMs(s.header.firstCommit)).find((c) => c !== undefined);
          const last = [...h]
            .reverse()
            .map((s) => commitMs(s.header.lastCommit))
            .find((c) => c !== undefined);
          return first !== undefined && last !== undefined && first <= target.time && target.time <= last;
        });
        if (older) throw otherTimelineError(target, older, timeline);
      }
      return { timeline, segment: seg };
    }
    case 'to-gtid':
    case 'before-gtid': {
      const seg = segs.find((s) => segmentHasGtid(s, target.gtid));
      if (seg) return { timeline, segment: seg };
      const elsewhere = others.find((t) => headed(t).some((s) => segmentHasGtid(s, target.gtid)));
      if (elsewhere) throw otherTimelineError(target, elsewhere, timeline);
      throw gtidNotArchived(target, timeline, segs, afterNewest);
    }
    case 'position': {
      const fileSegs = segs.filter((s) => s.file === target.file);
      if (fileSegs.length === 0) {
        const elsewhere = others.find((t) => headed(t).some((s) => s.file === target.file));
        if (elsewhere) throw otherTimelineError(target, elsewhere, timeline);
        if (compareBinlogFiles(target.file, segs.at(-1)!.file) > 0)
          throw afterNewest(describeRestoreTarget(target));
        throw new TargetOutOfRangeError(
          'file-not-archived',
          `${target.file} is not archived on timeline ${timeline.id}: the archive holds ${segs[0]!.file}:${segs[0]!.start} ` +
            `to ${archiveEnd(timeline)}${timeline.gaps.length ? ' with gaps (see `mysql-pitr binlog list`)' : ''}. ` +
            'Pick a position in that range',
        );
      }
      const seg = fileSegs.find((s) => s.start < target.position && target.position <= s.header.end);
      if (!seg) {
        const lastSeg = fileSegs.at(-1)!;
        if (target.position > lastSeg.header.end && lastSeg === segs.at(-1)) {
          throw afterNewest(describeRestoreTarget(target));
        }
        if (target.position > lastSeg.header.end) {
          throw new TargetOutOfRangeError(
            'not-archived',
            `${at(target)} is past the end of ${target.file}, which ends at ${lastSeg.header.end}; the next file is ` +
              `${lastSeg.header.nextFile ?? binlogFileAfter(target.file)}`,
          );
        }
        return { timeline, segment: fileSegs[0] };
      }
      return { timeline, segment: seg };
    }
  }
}

function gtidNotArchived(
  target: Extract<RestoreTarget, { gtid: string }>,
  timeline: CatalogTimeline,
  segs: Headed[],
  afterNewest: (what: string) => PitrError,
): PitrError {
  const what = describeRestoreTarget(target);
  if (/^\d+-\d+-\d+$/.test(target.gtid)) {
    const g = parseMariadbGtid(target.gtid);
    const ranges = segs.map((s) => domainRange(s, g.domainId)).filter((r) => r !== undefined);
    if (ranges.length === 0) {
      return new TargetOutOfRangeError(
        'not-archived',
        `${what}: timeline ${timeline.id} has no transaction of GTID domain ${g.domainId}. Check the GTID with ` +
          '`mysql-pitr timeline search`',
      );
    }
    const max = Math.max(...ranges.map((r) => r.last));
    const min = Math.min(...ranges.map((r) => r.first));
    if (g.seqNo > max) return afterNewest(what);
    if (g.seqNo < min) {
      return new TargetOutOfRangeError(
        'before-archive',
        `${what} is older than the archive of timeline ${timeline.id}, whose first transaction of domain ` +
          `${g.domainId} has sequence number ${min} (${segs[0]!.file}:${segs[0]!.start}). A restore can only stop ` +
          'after the archive starts: pick a later target, or restore a backup taken before it with --to-position at ' +
          'the backup coordinates (`mysql-pitr backup list`)',
      );
    }
    return new TargetOutOfRangeError(
      'not-archived',
      `${what} is not in the archive of timeline ${timeline.id}, although domain ${g.domainId} is archived from ` +
        `sequence ${min} to ${max}: it falls in a gap (purged before it was archived) or was written by another ` +
        'server id. Find the transaction with `mysql-pitr timeline search`, and see `mysql-pitr binlog list` for gaps',
    );
  }
  // MySQL: the archived transaction numbers of this GTID's uuid (and tag)
  const g = parseMysqlGtid(target.gtid);
  let archived = MysqlGtidSet.EMPTY;
  for (const s of segs) if (s.header.gtidSet) archived = archived.union(MysqlGtidSet.parse(s.header.gtidSet));
  const entry = archived.entries().find((e) => e.uuid === g.uuid && e.tag === g.tag);
  if (entry) {
    if (g.gno > entry.intervals.at(-1)!.end) return afterNewest(what);
    if (g.gno < entry.intervals[0]!.start) {
      return new TargetOutOfRangeError(
        'before-archive',
        `${what} is older than the archive of timeline ${timeline.id}, which holds ${g.uuid} from transaction ` +
          `${entry.intervals[0]!.start}. Pick a later target, or restore a backup taken before it with --to-position ` +
          'at the backup coordinates (`mysql-pitr backup list`)',
      );
    }
  }
  return new TargetOutOfRangeError(
    'not-archived',
    `${what} is not in the archive of timeline ${timeline.id} (it ends at ${archiveEnd(timeline)}` +
      `${entry ? `; ${g.uuid} is archived as ${entry.intervals.map((i) => `${i.start}-${i.end}`).join(', ')}` : `; no transaction of ${g.uuid} is archived`}). ` +
      'It falls in a gap, or the GTID is mistyped: find the transaction with `mysql-pitr timeline search`',
  );
}

/**
 * The files planRestore needs scanned to find the exact stop point: at most one, from its first
 * byte to the end of the segment holding the target. Pure; same errors as planRestore for targets
 * outside the archive.
 *
 * @throws PitrError TARGET_OUT_OF_RANGE / BINLOG_GAP as planRestore
 */
export function filesToScan(
  catalog: RestoreCatalog,
  target: RestoreTarget,
  opts: PlanRestoreOptions = {},
): ScanRequest[] {
  const chain = opts.timeline === undefined ? restoreChainOf(catalog) : undefined;
  let reqs: ScanRequest[];
  if (chain && chain.links.length > 0) reqs = chainScans(catalog, target, chain, opts);
  else {
    const { timeline, segment } = locate(catalog, target, opts);
    reqs = segment ? [{ timeline: timeline.id, file: segment.file, upTo: segment.header.end }] : [];
  }
  // backups placed by GTID position: the files holding their last transaction along the chain
  const places = placeBackups(catalog, chain ? chain.timelines : [chooseTimeline(catalog, opts)]);
  for (const r of places.scans) if (!reqs.some((x) => sameScan(x, r))) reqs.push(r);
  return reqs.filter((r) => !isScanned(catalog, r));
}

interface Stop {
  point: BinlogPoint;
  lastIncluded: ArchivedTransaction | undefined;
  firstExcluded: ArchivedTransaction | undefined;
}

function scannedFor(catalog: RestoreCatalog, timeline: string, file: string, upTo: number): ScannedFile {
  const s = catalog.scanned.find((x) => x.timeline === timeline && x.file === file && x.scannedTo >= upTo);
  if (!s) {
    throw new PitrError(
      'INTERNAL',
      `planRestore needs ${file} of timeline ${timeline} scanned up to ${upTo} (call filesToScan first)`,
    );
  }
  return s;
}

function resolveStop(catalog: RestoreCatalog, target: RestoreTarget, located: Located): Stop {
  const { timeline, segment } = located;
  const trxs = segment ? scannedFor(catalog, timeline.id, segment.file, segment.header.end).transactions : [];
  const around = (i: number): Stop => ({
    point: { file: segment!.file, position: trxs[i]!.startOffset },
    lastIncluded: i > 0 ? trxs[i - 1] : undefined,
    firstExcluded: trxs[i],
  });
  const upTo = (i: number): Stop => ({
    point: { file: segment!.file, position: trxs[i]!.endOffset },
    lastIncluded: trxs[i],
    firstExcluded: trxs[i + 1],
  });
  switch (target.kind) {
    case 'latest': {
      const last = headed(timeline).at(-1)!;
      if (!segment)
        return {
          point: { file: last.file, position: last.header.end },
          lastIncluded: undefined,
          firstExcluded: undefined,
        };
      const i = trxs.findLastIndex((t) => t.endOffset <= last.header.end);
      if (i < 0) throw new PitrError('INTERNAL', `no complete transaction in ${last.file}`);
      return upTo(i);
    }
    case 'time': {
      const i = trxs.findIndex((t) => t.commitTime > target.time);
      if (i < 0) throw internalNotFound(target, segment!);
      return around(i);
    }
    case 'to-gtid':
    case 'before-gtid': {
      const i = trxs.findIndex((t) => t.gtid === target.gtid);
      if (i < 0) {
        const near = trxs.filter((t) => t.gtid !== undefined);
        throw new TargetOutOfRangeError(
          'not-archived',
          `${describeRestoreTarget(target)}: no transaction with GTID ${target.gtid} in ${segment!.file} of timeline ` +
            `${timeline.id} (it holds ${near[0]?.gtid ?? '?'} to ${near.at(-1)?.gtid ?? '?'}); check the server id ` +
            'part of the GTID with `mysql-pitr timeline search`',
        );
      }
      return target.kind === 'to-gtid' ? upTo(i) : around(i);
    }
    case 'position': {
      const pos = target.position;
      const i = trxs.findIndex((t) => t.endOffset === pos);
      if (i >= 0) return upTo(i);
      const j = trxs.findIndex((t) => t.startOffset === pos);
      if (j >= 0) return around(j);
      const before = trxs.filter((t) => t.endOffset < pos).at(-1);
      const inside = trxs.find((t) => t.startOffset < pos && pos < t.endOffset);
      const after = trxs.find((t) => t.startOffset > pos);
      const options = [
        before
          ? `${target.file}:${before.endOffset} (after ${before.gtid ?? 'the transaction'} committed ${iso(before.commitTime)})`
          : undefined,
        after
          ? `${target.file}:${after.startOffset} (before ${after.gtid ?? 'the transaction'} committed ${iso(after.commitTime)})`
          : undefined,
      ].filter((x) => x !== undefined);
      const where = inside ? `is inside transaction ${trxText(inside)}` : 'is not at a transaction boundary';
      throw new TransactionBoundaryError(
        {
          option: '--to-position',
          file: target.file,
          position: pos,
          inside: inside && {
            gtid: inside.gtid,
            startOffset: inside.startOffset,
            endOffset: inside.endOffset,
          },
          boundaries: [before?.endOffset, after?.startOffset].filter((x) => x !== undefined),
        },
        `--to-position ${at(target)} ${where}; a restore can only stop between transactions. ` +
          (options.length
            ? `The nearest boundaries are ${options.join(' and ')}`
            : 'No transaction is archived around it'),
      );
    }
  }
}

function internalNotFound(target: RestoreTarget, seg: Headed): PitrError {
  return new PitrError(
    'INTERNAL',
    `${describeRestoreTarget(target)}: the header of ${seg.key} promised a transaction after the target but the scan found none`,
  );
}

function chooseBackup(
  catalog: RestoreCatalog,
  timeline: CatalogTimeline,
  stop: Stop,
  target: RestoreTarget,
  opts: PlanRestoreOptions,
  places: Placements,
): Placed {
  const what = describeRestoreTarget(target);
  const onTimeline = places.placed
    .filter((x) => x.place.timeline === timeline.id)
    .sort((a, b) => comparePoints(a.place.point, b.place.point) || (a.backup.id < b.backup.id ? -1 : 1));
  if (opts.backupId !== undefined) {
    const b = catalog.backups.find((x) => x.id === opts.backupId);
    if (!b) {
      throw new TargetOutOfRangeError(
        'unknown-backup',
        `backup ${opts.backupId} is not a complete backup of this repository; \`mysql-pitr backup list\` shows them`,
      );
    }
    const mine = onTimeline.find((x) => x.backup === b);
    if (!mine) {
      const elsewhere = places.placed
        .filter((x) => x.backup === b)
        .map((x) => `it lies on timeline ${x.place.timeline} at ${at(x.place.point)} (${x.place.evidence})`);
      const why = places.unplaced.find((x) => x.backup === b)?.reason ?? elsewhere.join('; ');
      throw new TargetOutOfRangeError(
        'unknown-backup',
        `backup ${b.id} (binlog ${at(b.binlog)}${b.gtidPosition ? `, GTID position ${b.gtidPosition}` : ''}) ` +
          `cannot start a restore on timeline ${timeline.id}` +
          (why ? `: ${why}` : '') +
          (elsewhere.length && !places.unplaced.some((x) => x.backup === b)
            ? ', which is not before the target along the chain (after a fork, or on a history the target is not on)'
            : '') +
          `; choose a backup of that timeline${onTimeline.length ? ` (${onTimeline.map((x) => x.backup.id).join(', ')})` : ''} or another --timeline`,
      );
    }
    if (comparePoints(mine.place.point, stop.point) > 0) {
      throw new TargetOutOfRangeError(
        'backup-after-target',
        `backup ${b.id} was taken at ${at(mine.place.point)} of timeline ${timeline.id}, after the target (${what} stops at ${at(stop.point)}); ` +
          'a restore cannot go back in time from a backup. Leave out --backup to use the newest one before the target',
      );
    }
    return mine;
  }
  const eligible = onTimeline.filter((x) => comparePoints(x.place.point, stop.point) <= 0);
  const chosen = eligible.at(-1);
  if (chosen) return chosen;
  if (onTimeline.length > 0) {
    const oldest = onTimeline[0]!;
    throw new TargetOutOfRangeError(
      'before-oldest-backup',
      `${what} (stop point ${at(stop.point)}${stop.firstExcluded ? `, before the transaction committed ${iso(stop.firstExcluded.commitTime)}` : ''}) ` +
        `is before the oldest backup of timeline ${timeline.id}: ${oldest.backup.id}, taken at binlog ${at(oldest.place.point)} ` +
        `(finished ${oldest.backup.finishedAt}). The earliest point this repository can restore to is that backup: use ` +
        `--to-position ${at(oldest.place.point)} or any later target`,
    );
  }
  const elsewhere = places.placed.map((x) => `${x.backup.id} (timeline ${x.place.timeline})`);
  const unplaced = places.unplaced.map((x) => `backup ${x.backup.id} cannot be used: ${x.reason}`);
  const source = timeline.record ? ` of ${describeSourceIdentity(timeline.record.source)}` : '';
  throw new TargetOutOfRangeError(
    'no-backup',
    `timeline ${timeline.id}${source} has no complete backup to start from` +
      (elsewhere.length
        ? `; backups of other timelines: ${elsewhere.join(', ')} (add --timeline to restore there).`
        : catalog.backups.length
          ? `; the repository's backups do not match any archived binlog position or GTID position of its history.`
          : '; the repository has no complete backup.') +
      (unplaced.length ? ` ${unplaced.join('; ')}.` : '') +
      ' Take one with `mysql-pitr backup create` while `mysql-pitr archive` runs: it can restore to any later point',
  );
}

function gapError(
  timeline: CatalogTimeline,
  backup: Placed,
  stop: BinlogPoint,
  missing: MissingBytes,
  lastGood: BinlogPoint,
  places: Placements,
  target: RestoreTarget,
): PitrError {
  const later = places.placed
    .filter((x) => x.place.timeline === timeline.id && comparePoints(x.place.point, lastGood) > 0)
    .sort((a, b) => comparePoints(a.place.point, b.place.point));
  const alternative =
    later.length > 0
      ? `or pick backup ${later[0]!.backup.id} (at ${at(later[0]!.place.point)}, after the gap) with a target after it`
      : 'no backup was taken after the gap: take one now with `mysql-pitr backup create` so later targets become restorable';
  const { detail, ...range } = missing;
  return new BinlogGapError(
    { timeline: timeline.id, ...range },
    `${describeRestoreTarget(target)} (stop point ${at(stop)}) lies inside or beyond a gap of timeline ${timeline.id}: ` +
      `${detail}. From backup ${backup.backup.id} (${at(backup.place.point)}) this repository can restore up to ` +
      `${at(lastGood)} at most (the last archived byte before the gap; \`mysql-pitr timeline search\` shows the ` +
      `transaction boundaries before it); ${alternative}`,
  );
}

/** The bytes walkFiles found missing, and how to say it. */
type MissingBytes = Omit<MissingBinlogRange, 'timeline'> & { detail: string };

function gapAt(gaps: readonly BinlogGap[], file: string, need: number): BinlogGap | undefined {
  return gaps.find((g) => g.file === file && g.from < need);
}

/**
 * The files and segments to apply on `timeline` from `start` (the first file's `from`) to `stop`
 * (the last file's `to`), crossing ROTATEs and source-crash ends; `fail` builds the error for a
 * break (what is missing, the last good point).
 */
function walkFiles(
  timeline: CatalogTimeline,
  start: BinlogPoint,
  stop: BinlogPoint,
  fail: (missing: MissingBytes, lastGood: BinlogPoint) => PitrError,
): PlanFile[] {
  const segs = headed(timeline);
  const headers = segs.map((s) => s.header);
  const files: PlanFile[] = [];
  let file = start.file;
  let lastGood: BinlogPoint = { ...start };
  for (;;) {
    const isLast = file === stop.file;
    const fileSegs = segs.filter((s) => s.file === file);
    const lastSeg = fileSegs.at(-1);
    const need = isLast ? stop.position : (lastSeg?.header.end ?? 0);
    const gap = gapAt(timeline.gaps, file, isLast ? need : Infinity);
    if (gap) {
      if (gap.from > lastGood.position || gap.file !== lastGood.file) lastGood = { file, position: gap.from };
      throw fail(
        {
          file,
          from: gap.from,
          to: undefined,
          detail: `${file} from byte ${gap.from} on was purged by the source before it was archived (${gap.reason}); the archive resumes at ${gap.resumedAt}`,
        },
        lastGood,
      );
    }
    if (fileSegs.length === 0) {
      throw fail({ file, from: 0, to: undefined, detail: `${file} is not archived` }, lastGood);
    }
    const chosen: PlanFile['segments'] = [];
    let expected = 0;
    for (const s of fileSegs) {
      if (s.start >= need) break;
      if (s.start !== expected) {
        throw fail(
          {
            file,
            from: expected,
            to: s.start,
            detail: `${file} bytes ${expected}..${s.start} are missing from the archive`,
          },
          { file, position: Math.max(expected, lastGood.file === file ? lastGood.position : 0) },
        );
      }
      chosen.push({ key: s.key, start: s.start, end: s.header.end, size: s.size });
      expected = s.header.end;
    }
    if (expected < need) {
      throw fail(
        { file, from: expected, to: undefined, detail: `${file} is archived only up to byte ${expected}` },
        { file, position: expected },
      );
    }
    files.push({
      file,
      from: file === start.file ? start.position : 4,
      to: isLast ? stop.position : undefined,
      segments: chosen,
    });
    if (isLast) break;
    let nextFile = lastSeg!.header.nextFile ?? binlogFileAfter(file);
    if (!lastSeg!.header.closesFile) {
      // a file that ended without ROTATE: a source crash when the next file continues its GTIDs
      const i = segs.indexOf(lastSeg!);
      const following = segs[i + 1];
      const end = following ? judgeUnclosedFileEnd(headers, i) : undefined;
      if (!following || end?.verdict !== 'source-restarted') {
        throw fail(
          {
            file,
            from: lastSeg!.header.end,
            to: undefined,
            detail:
              `${file} is archived up to byte ${lastSeg!.header.end} but its end (ROTATE) is not` +
              (end ? ` (${end.evidence})` : ''),
          },
          { file, position: lastSeg!.header.end },
        );
      }
      nextFile = following.file;
    }
    lastGood = { file, position: lastSeg!.header.end };
    file = nextFile;
    if (compareBinlogFiles(file, stop.file) > 0) {
      throw new PitrError('INTERNAL', `walked past ${stop.file} while planning from ${at(start)}`);
    }
  }

  return files;
}

// ---- Restores across timelines (failover / switchover): docs/failure-model.md --------------

interface RestoreChain {
  /** Oldest first; the last one is the newest timeline with segments. */
  timelines: CatalogTimeline[];
  /** links[i] joins timelines[i] and timelines[i + 1]. */
  links: TimelineLink[];
}

/** The chain ending at the newest timeline (MariaDB GTIDs only; a MySQL chain is not stitched yet). */
function restoreChainOf(catalog: RestoreCatalog): RestoreChain {
  const newest = catalog.timelines.filter((x) => headed(x).length > 0).at(-1);
  if (!newest || newest.record?.source.flavor === 'mysql')
    return { timelines: newest ? [newest] : [], links: [] };
  const c = timelineChain(catalog.timelines, newest);
  return { timelines: c.chain, links: c.links };
}

/** The parent's last file holding transactions, and the later timeline's files around the same GTIDs. */
function forkScanRequests(parent: CatalogTimeline, child: CatalogTimeline): ScanRequest[] {
  const p = headed(parent);
  const lastTrx = [...p].reverse().find((s) => s.header.transactions > 0);
  if (!lastTrx) return [];
  const pf = p.filter((s) => s.file === lastTrx.file);
  const reqs: ScanRequest[] = [{ timeline: parent.id, file: lastTrx.file, upTo: pf.at(-1)!.header.end }];
  const ranges = new Map<number, { first: number; last: number }>();
  for (const s of pf) {
    for (const r of Object.values(s.header.gtids)) {
      const a = parseMariadbGtid(r.first);
      const b = parseMariadbGtid(r.last);
      const seen = ranges.get(a.domainId);
      ranges.set(a.domainId, {
        first: Math.min(seen?.first ?? a.seqNo, a.seqNo),
        last: Math.max(seen?.last ?? b.seqNo, b.seqNo),
      });
    }
  }
  const c = headed(child);
  const files: string[] = [];
  for (const s of c) {
    const hit = [...ranges].some(([d, r]) => {
      const x = domainRange(s, d);
      return x !== undefined && x.last >= r.first && x.first <= r.last + 1;
    });
    if (hit && !files.includes(s.file)) files.push(s.file);
  }
  // the later timeline may not have reached the parent's last GTIDs (lost transactions): its last file
  if (files.length === 0 && c.length > 0) files.push(c.at(-1)!.file);
  for (const f of files) {
    reqs.push({ timeline: child.id, file: f, upTo: c.filter((s) => s.file === f).at(-1)!.header.end });
  }
  return reqs;
}

const seqKey = (gtid: string): string => {
  const g = parseMariadbGtid(gtid);
  return `${g.domainId}-${g.seqNo}`;
};

/** Finds the fork of `link` in the scanned files (see forkScanRequests). */
function resolveFork(
  catalog: RestoreCatalog,
  parent: CatalogTimeline,
  child: CatalogTimeline,
  link: TimelineLink,
): PlanFork {
  const reqs = forkScanRequests(parent, child);
  const broken = (why: string): PitrError =>
    new PitrError(
      'BINLOG_GAP',
      `timeline ${child.id} continues timeline ${parent.id} (${link.how === 'recorded' ? 'recorded fork' : 'by GTID continuity'}) ` +
        `but ${why}. Restores can reach points of timeline ${parent.id} with --timeline ${parent.id}, and points of ` +
        `timeline ${child.id} from a backup taken on it`,
    );
  if (reqs.length === 0) throw broken(`timeline ${parent.id} has no archived transaction`);
  const [pReq, ...cReqs] = reqs;
  const pTrx = scannedFor(catalog, parent.id, pReq!.file, pReq!.upTo).transactions.filter((t) => t.gtid);
  const cTrx = cReqs.flatMap((r) =>
    scannedFor(catalog, child.id, r.file, r.upTo).transactions.filter((t) => t.gtid),
  );
  const cGtids = new Set(cTrx.map((t) => t.gtid!));
  const cBySeq = new Map(cTrx.map((t) => [seqKey(t.gtid!), t]));
  let cutIdx: number;
  const recorded = link.forkGtid !== undefined ? MariadbGtidPos.parse(link.forkGtid) : undefined;
  if (recorded) cutIdx = pTrx.findLastIndex((t) => recorded.contains(parseMariadbGtid(t.gtid!)));
  else cutIdx = pTrx.findLastIndex((t) => cGtids.has(t.gtid!));
  if (cutIdx < 0 && !recorded && pTrx.length > 0 && cTrx.length > 0) {
    // no overlap (the new primary logged only its own transactions): it must start right after
    const a = parseMariadbGtid(pTrx.at(-1)!.gtid!);
    const b = parseMariadbGtid(cTrx[0]!.gtid!);
    if (a.domainId === b.domainId && b.seqNo === a.seqNo + 1) cutIdx = pTrx.length - 1;
  }
  if (cutIdx < 0) {
    throw broken(
      `no transaction of ${pReq!.file} of timeline ${parent.id} (${pTrx[0]?.gtid ?? '?'}..${pTrx.at(-1)?.gtid ?? '?'}) ` +
        `is on timeline ${child.id}: the fork lies before that file, or the histories diverged`,
    );
  }
  // overlapping transactions must be the same on both timelines
  for (const t of pTrx.slice(0, cutIdx + 1)) {
    const other = cBySeq.get(seqKey(t.gtid!));
    if (other && other.gtid !== t.gtid) {
      throw broken(
        `the timelines diverge before the fork: timeline ${parent.id} has ${t.gtid} where timeline ${child.id} has ` +
          `${other.gtid}`,
      );
    }
  }
  const forkTrx = pTrx[cutIdx]!;
  // the parent's GTID position at the fork: its files before the scanned one, then the scanned transactions
  let pos = MariadbGtidPos.EMPTY;
  for (const s of headed(parent)) {
    if (compareBinlogFiles(s.file, pReq!.file) >= 0) break;
    for (const r of Object.values(s.header.gtids)) pos = pos.advance(parseMariadbGtid(r.last));
  }
  for (const t of pTrx.slice(0, cutIdx + 1)) pos = pos.advance(parseMariadbGtid(t.gtid!));
  if (recorded) pos = pos.union(recorded);
  const after = (t: ArchivedTransaction): boolean => {
    const g = parseMariadbGtid(t.gtid!);
    const mine = pos.get(g.domainId);
    return mine === undefined || g.seqNo > mine.seqNo;
  };
  const firstNew = cTrx.find(after);
  const lost = pTrx.slice(cutIdx + 1).filter((t) => !cGtids.has(t.gtid!));
  let resume: BinlogPoint;
  if (firstNew) resume = { file: firstNew.file, position: firstNew.startOffset };
  else {
    const c = headed(child);
    const lastScanned = cReqs.at(-1)!.file;
    const next = c.find((s) => compareBinlogFiles(s.file, lastScanned) > 0);
    resume = next
      ? { file: next.file, position: 4 }
      : { file: c.at(-1)!.file, position: c.at(-1)!.header.end };
  }
  return {
    parent: parent.id,
    cut: { file: pReq!.file, position: forkTrx.endOffset },
    forkTransaction: forkTrx,
    timeline: child.id,
    resume,
    firstNew,
    forkGtid: pos.toString(),
    how: link.how,
    lost,
  };
}

/** The index in the chain of the timeline that holds `target`, given the resolved forks. */
function targetIndex(chain: RestoreChain, forks: PlanFork[], target: RestoreTarget): number {
  for (let k = chain.timelines.length - 1; k > 0; k--) {
    const f = forks[k - 1]!;
    switch (target.kind) {
      case 'latest':
      case 'position':
        return k;
      case 'time':
        if (target.time >= f.forkTransaction.commitTime) return k;
        break;
      case 'to-gtid':
      case 'before-gtid': {
        if (!/^\d+-\d+-\d+$/.test(target.gtid)) return k;
        const lost = f.lost.find((t) => t.gtid === target.gtid);
        if (lost) {
          throw new TargetOutOfRangeError(
            'diverged',
            `${describeRestoreTarget(target)}: ${trxText(lost)} was archived from timeline ${f.parent} after the fork ` +
              `(${f.forkGtid}) and timeline ${f.timeline} never received it: it was lost in the failover. Restore ` +
              `that history with --timeline ${f.parent}, or pick a target on the chain`,
          );
        }
        const g = parseMariadbGtid(target.gtid);
        const mine = MariadbGtidPos.parse(f.forkGtid).get(g.domainId);
        if (mine === undefined || g.seqNo > mine.seqNo) return k;
        break;
      }
    }
  }
  return 0;
}

function chainState(catalog: RestoreCatalog, chain: RestoreChain): PlanFork[] {
  return chain.links.map((l, i) => resolveFork(catalog, chain.timelines[i]!, chain.timelines[i + 1]!, l));
}

function planAcrossChain(
  catalog: RestoreCatalog,
  target: RestoreTarget,
  opts: PlanRestoreOptions,
  chain: RestoreChain,
  places: Placements,
): RestorePlan {
  let forks: PlanFork[];
  try {
    forks = chainState(catalog, chain);
  } catch (err) {
    // the fork cannot be found: restores on the newest timeline alone may still work
    try {
      return planOnTimeline(catalog, target, opts, places);
    } catch {
      throw err;
    }
  }
  const k = targetIndex(chain, forks, target);
  const tl = chain.timelines[k]!;
  if (k === 0) {
    const plan = planOnTimeline(catalog, target, { ...opts, timeline: tl.id }, places);
    const f = forks[0];
    if (f && comparePoints(plan.stop, f.cut) > 0) {
      throw new TargetOutOfRangeError(
        'diverged',
        `${describeRestoreTarget(target)} stops at ${at(plan.stop)} on timeline ${tl.id}, after its fork at ${at(f.cut)} ` +
          `(${f.forkGtid}): the transactions after the fork were lost in the failover (${f.lost.map((t) => t.gtid).join(', ')}). ` +
          `Add --timeline ${tl.id} to restore that history as it was`,
      );
    }
    return plan;
  }
  const fork = forks[k - 1]!;
  const located = locate(catalog, target, { timeline: tl.id });
  let stop = resolveStop(catalog, target, located);
  if (comparePoints(stop.point, fork.resume) < 0) {
    // a time in the quiet between the old primary's last commit and the new one's first
    stop = { point: fork.resume, lastIncluded: fork.forkTransaction, firstExcluded: fork.firstNew };
  }
  // a backup on the stop point's own timeline wins; else the newest one before a fork
  const own = places.placed.filter(
    (x) => x.place.timeline === tl.id && comparePoints(x.place.point, stop.point) <= 0,
  );
  if (opts.backupId === undefined ? own.length > 0 : own.some((x) => x.backup.id === opts.backupId)) {
    return planOnTimeline(catalog, target, { ...opts, timeline: tl.id }, places);
  }
  let j = k - 1;
  let backup: Placed | undefined;
  for (; j >= 0 && !backup; j--) {
    const cut = forks[j]!.cut;
    const eligible = places.placed
      .filter((x) => x.place.timeline === chain.timelines[j]!.id && comparePoints(x.place.point, cut) <= 0)
      .filter((x) => opts.backupId === undefined || x.backup.id === opts.backupId)
      .sort((a, b) => comparePoints(a.place.point, b.place.point) || (a.backup.id < b.backup.id ? -1 : 1));
    backup = eligible.at(-1);
  }
  j += 1;
  if (!backup) return planOnTimeline(catalog, target, { ...opts, timeline: tl.id }, places);
  const chosen = backup;
  const files: PlanFile[] = [];
  const crossed: PlanFork[] = [];
  let gtid: MariadbGtidPos | null = startGtid(chosen.backup);
  let from: BinlogPoint = chosen.place.point;
  for (let m = j; m <= k; m++) {
    const t = chain.timelines[m]!;
    const to = m === k ? stop.point : forks[m]!.cut;
    if (m > j) {
      const f = forks[m - 1]!;
      crossed.push(f);
      from = f.resume;
    }
    if (comparePoints(from, to) >= 0) continue;
    const part = walkFiles(t, from, to, (missing, lastGood) =>
      gapError(t, chosen, to, missing, lastGood, places, target),
    ).map((f) => ({ ...f, timeline: t.id, to: f.file === to.file && m < k ? to.position : f.to }));
    files.push(...part);
    gtid = gtid && gtidAfter(gtid, part, t, catalog, to);
  }
  return assemblePlan(
    target,
    tl.id,
    chosen,
    stop,
    true,
    files,
    gtid ? gtid.toString() || null : null,
    crossed,
  );
}

/** Scan requests of a chain plan (two rounds: the forks, then the target's file). */
function chainScans(
  catalog: RestoreCatalog,
  target: RestoreTarget,
  chain: RestoreChain,
  opts: PlanRestoreOptions,
): ScanRequest[] {
  const forkReqs = chain.links.flatMap((_, i) =>
    forkScanRequests(chain.timelines[i]!, chain.timelines[i + 1]!),
  );
  const missing = forkReqs.filter((r) => !isScanned(catalog, r));
  if (missing.length > 0) return missing;
  let forks: PlanFork[];
  try {
    forks = chainState(catalog, chain);
  } catch {
    // planRestore falls back to the newest timeline alone (and reports the fork's error if that fails too)
    const { timeline, segment } = locate(catalog, target, opts);
    return segment ? [{ timeline: timeline.id, file: segment.file, upTo: segment.header.end }] : [];
  }
  const k = targetIndex(chain, forks, target);
  const { timeline, segment } = locate(catalog, target, { ...opts, timeline: chain.timelines[k]!.id });
  return segment ? [{ timeline: timeline.id, file: segment.file, upTo: segment.header.end }] : [];
}

function isScanned(catalog: RestoreCatalog, r: ScanRequest): boolean {
  return catalog.scanned.some((x) => x.timeline === r.timeline && x.file === r.file && x.scannedTo >= r.upTo);
}

/**
 * Plans a point-in-time restore: the newest complete backup before the target, the binlog files
 * and segments to apply after it, and the exact stop point (a transaction boundary). Pure: the
 * catalog must hold the files `filesToScan` asks for.
 *
 * @throws PitrError TARGET_OUT_OF_RANGE for a target after the newest archived transaction, before
 *   the oldest backup, on another timeline, or not in the archive; BINLOG_GAP when the binlogs
 *   between the backup and the target are not all archived; USAGE for `--to-position` off a
 *   transaction boundary (naming the nearest boundaries). Every message says what can be done instead.
 */
export function planRestore(
  catalog: RestoreCatalog,
  target: RestoreTarget,
  opts: PlanRestoreOptions = {},
): RestorePlan {
  const chain = opts.timeline === undefined ? restoreChainOf(catalog) : undefined;
  const places = placeBackups(catalog, chain ? chain.timelines : [chooseTimeline(catalog, opts)]);
  if (chain && chain.links.length > 0) return planAcrossChain(catalog, target, opts, chain, places);
  return planOnTimeline(catalog, target, opts, places);
}

function planOnTimeline(
  catalog: RestoreCatalog,
  target: RestoreTarget,
  opts: PlanRestoreOptions,
  places: Placements,
): RestorePlan {
  const located = locate(catalog, target, opts);
  const { timeline } = located;
  const stop = resolveStop(catalog, target, located);
  const backup = chooseBackup(catalog, timeline, stop, target, opts, places);
  const applying = comparePoints(backup.place.point, stop.point) < 0;
  const files = applying
    ? walkFiles(timeline, backup.place.point, stop.point, (missing, lastGood) =>
        gapError(timeline, backup, stop.point, missing, lastGood, places, target),
      )
    : [];
  const gtid =
    backup.backup.source.flavor === 'mariadb'
      ? gtidAfter(startGtid(backup.backup), files, timeline, catalog, stop.point)
      : null;
  return assemblePlan(
    target,
    timeline.id,
    backup,
    stop,
    applying,
    files,
    gtid !== null ? gtid.toString() || null : files.length === 0 ? backup.backup.gtidPosition : null,
    undefined,
  );
}

function startGtid(backup: BackupManifest): MariadbGtidPos {
  return backup.gtidPosition ? MariadbGtidPos.parse(backup.gtidPosition) : MariadbGtidPos.EMPTY;
}

function assemblePlan(
  target: RestoreTarget,
  timelineId: string,
  placed: Placed,
  stop: Stop,
  applying: boolean,
  files: PlanFile[],
  expectedGtidPosition: string | null,
  chain: PlanFork[] | undefined,
): RestorePlan {
  const binlogStored = files.reduce((a, f) => a + f.segments.reduce((b, s) => b + s.size, 0), 0);
  const binlog = files.reduce((a, f) => a + f.segments.reduce((b, s) => b + (s.end - s.start), 0), 0);
  const appliedBinlog = files.reduce((a, f) => a + ((f.to ?? f.segments.at(-1)!.end) - f.from), 0);
  const backup = placed.backup;
  const dumpBytes = backupSize(backup);
  const download = (dumpBytes.size + binlogStored) / ESTIMATE_RATES.download;
  const load = dumpBytes.uncompressedSize / ESTIMATE_RATES.loadSql;
  const apply = Math.max(0, appliedBinlog) / ESTIMATE_RATES.applyBinlog;
  const round = (x: number): number => Math.round(x * 10) / 10;

  return {
    target,
    targetText: describeRestoreTarget(target),
    timeline: timelineId,
    backup,
    placement: placed.place,
    start: { ...placed.place.point },
    stop: stop.point,
    lastIncluded: applying ? stop.lastIncluded : undefined,
    firstExcluded: stop.firstExcluded,
    files,
    ...(chain ? { chain } : {}),
    expectedGtidPosition,
    bytes: { dump: dumpBytes.size, dumpSql: dumpBytes.uncompressedSize, binlogStored, binlog },
    estimateSeconds: {
      download: round(download),
      load: round(load),
      apply: round(apply),
      total: round(download + load + apply),
    },
  };
}

/**
 * MariaDB: the GTID position `pos` advanced by every transaction of `files` (of `timeline`) up to
 * `stop`; null when it cannot be told (a file cut inside a segment that was not scanned).
 */
function gtidAfter(
  pos: MariadbGtidPos,
  files: PlanFile[],
  timeline: CatalogTimeline,
  catalog: RestoreCatalog,
  stop: BinlogPoint,
): MariadbGtidPos | null {
  const segs = headed(timeline);
  for (const f of files) {
    const scanned = catalog.scanned.find(
      (s) => s.timeline === timeline.id && s.file === f.file && (f.to === undefined || s.scannedTo >= f.to),
    );
    if ((f.file === stop.file || f.to !== undefined) && scanned) {
      const to = f.to ?? stop.position;
      for (const t of scanned.transactions) {
        if (t.endOffset <= to && t.startOffset >= f.from && t.gtid)
          pos = pos.advance(parseMariadbGtid(t.gtid));
      }
      continue;
    }
    for (const s of segs) {
      if (s.file !== f.file || s.header.end <= f.from) continue;
      if (f.to !== undefined && s.header.end > f.to) return null;
      for (const r of Object.values(s.header.gtids)) pos = pos.advance(parseMariadbGtid(r.last));
    }
  }
  return pos;
}

// ---- Where each backup lies on the archive: coordinates, else GTID position along the chain ------

/** A backup and one place it can start a restore from. */
interface Placed {
  backup: BackupManifest;
  place: BackupPlacement;
}

interface Placements {
  placed: Placed[];
  /** Backups no timeline of the chain can start from, with the reason. */
  unplaced: { backup: BackupManifest; reason: string }[];
  /** Files to scan before GTID placements can be decided. */
  scans: ScanRequest[];
}

const trxDomainSeq = (gtid: string): { domainId: number; seqNo: number } => parseMariadbGtid(gtid);

/**
 * Places every backup of the catalog: by its binlog coordinates on a timeline of its source
 * (`locateBackupTimeline`), and, when those do not place it on the oldest timeline of `chain`, by its
 * GTID position along `chain` (oldest first): the oldest archived copy of the last transaction it
 * holds, whose end is where applying starts. A GTID position that is not a point of the chain
 * (a sequence number another server wrote, transactions archived before the boundary that the
 * backup lacks, or after it that it holds) places nothing, with the reason. Pure; placements that
 * need a file not yet in `catalog.scanned` ask for it in `scans`.
 */
function placeBackups(catalog: RestoreCatalog, chain: readonly CatalogTimeline[]): Placements {
  const out: Placements = { placed: [], unplaced: [], scans: [] };
  for (const b of catalog.backups) {
    const t = locateBackupTimeline(b, catalog.timelines);
    if (t !== undefined) {
      out.placed.push({
        backup: b,
        place: {
          how: 'coordinates',
          timeline: t,
          point: { ...b.binlog },
          evidence: `binlog coordinates ${at(b.binlog)} of ${describeBackupSource(b)} on timeline ${t}`,
        },
      });
      if (chain.length === 0 || chain[0]!.id === t) continue;
    }
    const g = placeByGtid(catalog, b, chain, t);
    if ('place' in g) out.placed.push({ backup: b, place: g.place });
    else if ('scans' in g) out.scans.push(...g.scans.filter((r) => !out.scans.some((x) => sameScan(x, r))));
    else if (t === undefined) {
      out.unplaced.push({
        backup: b,
        reason:
          `its binlog coordinates ${at(b.binlog)} of ${describeBackupSource(b)} are on no archived timeline, and ` +
          g.reason,
      });
    }
  }
  return out;
}

const sameScan = (a: ScanRequest, b: ScanRequest): boolean =>
  a.timeline === b.timeline && a.file === b.file && a.upTo === b.upTo;

function describeBackupSource(b: BackupManifest): string {
  const from =
    b.takenFrom?.role === 'replica' ? ` (taken on its replica server_id ${b.takenFrom.serverId})` : '';
  return `server_id ${b.source.serverId}${from}`;
}

/** The GTID placement of one backup along `chain` (see placeBackups). */
function placeByGtid(
  catalog: RestoreCatalog,
  b: BackupManifest,
  chain: readonly CatalogTimeline[],
  coordinatesTimeline: string | undefined,
): { place: BackupPlacement } | { scans: ScanRequest[] } | { reason: string } {
  const found = findBackupGtidCandidates(b, chain);
  if ('reason' in found) return found;
  // a backup placed by coordinates needs no second place on the same timeline
  if (found.domains.every((d) => d.candidates.every((c) => c.timeline === coordinatesTimeline))) {
    return { reason: 'its GTID position lies on the timeline its coordinates place it on' };
  }
  const want = found.domains.flatMap((d) => d.candidates).filter((c) => !isScanned(catalog, c));
  if (want.length > 0) return { scans: want };
  const chainIndex = (id: string): number => chain.findIndex((t) => t.id === id);
  const located: { chainIdx: number; scanned: ScannedFile; i: number }[] = [];
  for (const d of found.domains) {
    let hit: { chainIdx: number; scanned: ScannedFile; i: number } | undefined;
    for (const c of d.candidates) {
      const sc = scannedFor(catalog, c.timeline, c.file, c.upTo);
      const i = sc.transactions.findIndex((x) => x.gtid === d.gtid);
      if (i >= 0) {
        hit = { chainIdx: chainIndex(c.timeline), scanned: sc, i };
        break;
      }
    }
    if (!hit) {
      const c = d.candidates[0]!;
      const { domainId, seqNo } = trxDomainSeq(d.gtid);
      const other = scannedFor(catalog, c.timeline, c.file, c.upTo).transactions.find(
        (x) =>
          x.gtid !== undefined && x.gtid.startsWith(`${domainId}-`) && trxDomainSeq(x.gtid).seqNo === seqNo,
      );
      return {
        reason:
          `its GTID position holds ${d.gtid}, which is not on the chain of timelines ` +
          `${chain.map((x) => x.id).join(', ')}` +
          (other
            ? ` (timeline ${c.timeline} has ${other.gtid} there, at ${other.file}:${other.startOffset})`
            : '') +
          `: the backup's server has transactions this history never had (errant GTIDs, or another history)`,
      };
    }
    located.push(hit);
  }
  const anchor = located.reduce((a, x) =>
    x.chainIdx > a.chainIdx ||
    (x.chainIdx === a.chainIdx &&
      comparePoints(
        { file: x.scanned.file, position: x.scanned.transactions[x.i]!.endOffset },
        { file: a.scanned.file, position: a.scanned.transactions[a.i]!.endOffset },
      ) > 0)
      ? x
      : a,
  );
  const pos = MariadbGtidPos.parse(b.gtidPosition!);
  const timeline = chain[anchor.chainIdx]!;
  const trx = anchor.scanned.transactions[anchor.i]!;
  // the backup holds exactly the transactions of its timeline before the boundary (header-level for
  // earlier files, exact in the anchor's file)
  for (const s of headed(timeline)) {
    if (compareBinlogFiles(s.file, anchor.scanned.file) >= 0) break;
    for (const r of Object.values(s.header.gtids)) {
      const last = parseMariadbGtid(r.last);
      const mine = pos.get(last.domainId);
      if (mine === undefined || mine.seqNo < last.seqNo) {
        return {
          reason:
            `its GTID position ${b.gtidPosition} lacks ${r.last}, archived on timeline ${timeline.id} before ` +
            `${trx.gtid} (in ${s.file}): it is not a point of this history`,
        };
      }
    }
  }
  for (const [k, x] of anchor.scanned.transactions.entries()) {
    if (!x.gtid) continue;
    const g = parseMariadbGtid(x.gtid);
    const mine = pos.get(g.domainId);
    const holds = mine !== undefined && mine.seqNo >= g.seqNo;
    if (k <= anchor.i && !holds) {
      return {
        reason:
          `its GTID position ${b.gtidPosition} lacks ${x.gtid}, archived on timeline ${timeline.id} at ` +
          `${x.file}:${x.startOffset}, before ${trx.gtid}: it is not a point of this history`,
      };
    }
    if (k > anchor.i && holds) {
      return {
        reason:
          `its GTID position ${b.gtidPosition} holds ${x.gtid}, archived on timeline ${timeline.id} at ` +
          `${x.file}:${x.startOffset}, after ${trx.gtid}: it is not a point of this history`,
      };
    }
  }
  return {
    place: {
      how: 'gtid',
      timeline: timeline.id,
      point: { file: trx.file, position: trx.endOffset },
      evidence:
        `GTID position ${b.gtidPosition}: its last transaction along the chain, ${trx.gtid}, is archived at ` +
        `${trx.file}:${trx.startOffset}..${trx.endOffset} of timeline ${timeline.id}` +
        (coordinatesTimeline === undefined
          ? `; its binlog coordinates ${at(b.binlog)} of ${describeBackupSource(b)} are on no archived timeline`
          : ''),
    },
  };
}
