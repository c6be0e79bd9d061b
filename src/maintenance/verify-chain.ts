import {
  binlogFileAfter,
  compareBinlogFiles,
  isBinlogFileName,
  judgeUnclosedFileEnd,
  locateBackupByGtidHeaders,
  locateBackupTimeline,
  segmentKey,
  type BackupManifest,
  type BinlogGap,
  type CatalogTimeline,
  type SegmentHeader,
  type TimelineBreak,
  type TimelineLink,
  type TimelineRecord,
} from '../catalog/index.js';

/**
 * What verify found wrong. `data` problems (a damaged or missing object) exit with DATA (5);
 * `chain` problems (the binlog chain has a hole, so a restore cannot cross it) with NOT_RECOVERABLE (6).
 */
export interface VerifyProblem {
  kind:
    | 'backup-object-missing'
    | 'backup-checksum'
    | 'backup-manifest-unreadable'
    | 'segment-corrupt'
    | 'segment-missing'
    | 'segment-overlap'
    | 'file-missing'
    | 'recorded-gap'
    | 'backup-not-archived'
    | 'backup-chain-broken'
    | 'timeline-break'
    | 'no-backup'
    | 'index-unreadable'
    | 'index-mismatch';
  severity: 'data' | 'chain';
  /** The object key concerned (the missing or damaged one), when there is one. */
  object?: string | undefined;
  backup?: string | undefined;
  timeline?: string | undefined;
  file?: string | undefined;
  /** Byte offset in `file`. */
  offset?: number | undefined;
  /** For the operator: what is wrong and what to do. */
  message: string;
}

/** A segment as verify checked it. */
export interface CheckedSegment {
  key: string;
  file: string;
  start: number;
  /** The decoded header; undefined when it could not be read. */
  header: SegmentHeader | undefined;
  /** Header read, matches the key, and the bytes decompress to the header's length and SHA-256. */
  ok: boolean;
}

/** A backup as verify checked it. */
export interface CheckedBackup {
  manifest: BackupManifest;
  /** The dump object exists and matches the manifest's size and SHA-256. */
  ok: boolean;
}

/** A binlog position. */
export interface ChainPoint {
  file: string;
  position: number;
}

/** A stretch of a timeline whose segments are all sound and join up with no hole. */
export interface ChainRun {
  timeline: string;
  from: ChainPoint;
  to: ChainPoint;
  /** Commit time of the last transaction in the run (ISO), null when none. */
  lastCommit: string | null;
}

/** "Any second from `from` to `to`" can be restored on `timeline`, starting from backup `backup`. */
export interface RestorableWindow {
  /** The timeline of the backup. */
  timeline: string;
  /**
   * The later timelines the window goes on through, across failovers (timelines linked by GTID:
   * a restore applies the backup's timeline up to the fork, then the next one); empty when none.
   */
  through?: string[];
  /** The oldest sound backup the window starts from. */
  backup: string;
  /** The backup's finishedAt (ISO). */
  from: string;
  /** The last archived commit reachable from it without crossing a hole (ISO); >= from. */
  to: string;
  /** The binlog position the window reaches. */
  end: ChainPoint;
}

/**
 * A file that ended without ROTATE because the source crashed and restarted (information, not a
 * problem): the next file continues its GTIDs, so restores go on to it.
 */
export interface SourceRestart {
  timeline: string;
  /** The file the crash ended, and where its archived bytes end. */
  file: string;
  end: number;
  /** The file the restarted source opened. */
  nextFile: string;
  /** The GTIDs that prove nothing is missing between them. */
  evidence: string;
}

/**
 * A timeline whose first archived file starts past byte 0 where no backup needs that file: what an
 * `expire` stopped while deleting that file's segments (oldest first) leaves. Information, not a
 * problem: the bytes before it were expired; the next `expire` removes the rest.
 */
export interface ExpireLeftover {
  timeline: string;
  file: string;
  /** Where the file's first remaining segment starts. */
  start: number;
  /** That segment's key. */
  key: string;
}

/** An interval (commit times, ISO) no restore can reach, and why. */
export interface UnrestorableInterval {
  /** The last restorable point before it (or the first archived commit); ISO. */
  from: string;
  /** The first restorable point after it (or the newest archived commit); ISO. */
  to: string;
  /** `before-oldest-backup`, `break` (a hole in the chain, see the problems) or `no-backup-after`. */
  kind: 'before-oldest-backup' | 'break' | 'not-covered';
  reason: string;
}

/** The outcome of checkChain. */
export interface ChainReport {
  /** Intervals between the first and the newest archived commit that no restore can reach. */
  unrestorable: UnrestorableInterval[];
  problems: VerifyProblem[];
  /** Files ended by a source crash and restart (not problems). */
  restarts: SourceRestart[];
  /** Leading files an interrupted expire left partly deleted (not problems). */
  expireLeftovers: ExpireLeftover[];
  runs: ChainRun[];
  windows: RestorableWindow[];
}

const cmp = (a: ChainPoint, b: ChainPoint): number =>
  compareBinlogFiles(a.file, b.file) || a.position - b.position;

const at = (p: ChainPoint): string => `${p.file}:${p.position}`;

function nextFileOf(header: SegmentHeader): string | undefined {
  if (header.nextFile) return header.nextFile;
  return isBinlogFileName(header.file) ? binlogFileAfter(header.file) : undefined;
}

/** The files strictly between `from` and `to` in sequence (`a.3`, `a.6` -> `a.4`, `a.5`), at most `limit`. */
function filesBetween(from: string, to: string, limit = 1000): string[] {
  const out: string[] = [];
  if (!isBinlogFileName(from) || !isBinlogFileName(to)) return out;
  let f = from;
  while (out.length < limit) {
    f = binlogFileAfter(f);
    if (compareBinlogFiles(f, to) >= 0) break;
    out.push(f);
  }
  return out;
}

interface TimelineInput {
  id: string;
  /** Ordered by file then start (as readBinlogCatalog returns them). */
  segments: readonly CheckedSegment[];
  gaps: readonly BinlogGap[];
  /** How it continues an earlier timeline (timelineLink), or the break before it; absent for the first. */
  link?: TimelineLink | undefined;
  break?: TimelineBreak | undefined;
  /** The timeline record: backups are located by the source identity too, as restore does. */
  record?: TimelineRecord | undefined;
}

/**
 * Checked timelines as the catalog's shape, for the rules shared with restore planning
 * (timelineLink, locateBackupTimeline): each segment with its header, or only the verified ones
 * (`verifiedOnly`). Sizes and times are not known here (0 and the epoch).
 */
export function headedTimelines(
  timelines: readonly Omit<TimelineInput, 'link' | 'break'>[],
  verifiedOnly: boolean,
): CatalogTimeline[] {
  return timelines.map((t) => ({
    id: t.id,
    record: t.record,
    gaps: [...t.gaps],
    segments: t.segments.flatMap((s) =>
      s.header && (s.ok || !verifiedOnly)
        ? [
            {
              key: s.key,
              timeline: t.id,
              file: s.file,
              start: s.start,
              size: 0,
              lastModified: new Date(0),
              header: s.header,
            },
          ]
        : [],
    ),
  }));
}

/**
 * Checks that each timeline's binlog chain joins up, and that each backup can be rolled forward to
 * the end of the archive. Pure: the caller has already read every header and checked every
 * segment's and backup's checksum (their failures are `ok: false`; the caller reports them).
 *
 * Within a file, each segment starts where the previous one ended, and the first starts at 0. A
 * file that is not the newest ends with its ROTATE/STOP (`closesFile`), and the next file is the
 * one the ROTATE names (else the next number); a file without ROTATE followed by a file whose
 * GTIDs continue its own is a source crash and restart (`restarts`, judgeUnclosedFileEnd). A break explained by a gap record (the source
 * purged the file before it was archived) is a `recorded-gap`, reported only when a backup's chain
 * crosses it; any other break is `segment-missing` / `file-missing`. A backup needs its binlog
 * file from offset 0 (the format description event) through its position in one run; its chain is
 * broken when a later run follows on its timeline.
 */
export function checkChain(
  timelines: readonly TimelineInput[],
  backups: readonly CheckedBackup[],
): ChainReport {
  const problems: VerifyProblem[] = [];
  const restarts: SourceRestart[] = [];
  const runs: ChainRun[] = [];
  const recordedBreaks: { timeline: string; after: ChainPoint; message: string; file: string }[] = [];
  /** First files that start past byte 0, with the problem reported for each. */
  const leadingPartial: LeadingPartialFile[] = [];

  for (const [timelineOrder, t] of timelines.entries()) {
    let run: ChainRun | undefined;
    /** The end of the previous segment whose header is known, and that header. */
    let prev: SegmentHeader | undefined;
    let prevUnknown = false;
    const headers = t.segments.flatMap((s) => (s.header ? [s.header] : []));
    /** Index of `prev` in `headers`. */
    let prevIndex = -1;
    const gapFor = (file: string): BinlogGap | undefined => t.gaps.find((g) => g.file === file);
    const closeRun = (): void => {
      if (run) runs.push(run);
      run = undefined;
    };
    for (const s of t.segments) {
      let joins = true;
      if (prevUnknown) {
        // the previous segment's header is unreadable: its end is unknown, it was reported already
        joins = false;
      } else if (!prev) {
        if (s.start !== 0) {
          joins = false;
          const problem: VerifyProblem = {
            kind: 'segment-missing',
            severity: 'chain',
            object: segmentKey(t.id, s.file, 0),
            timeline: t.id,
            file: s.file,
            offset: 0,
            message:
              `timeline ${t.id} ${s.file}: bytes 0..${s.start} are not archived (the first segment ${s.key} starts at ` +
              `${s.start}); the file cannot be decoded without its start. Restore the missing object from a copy, ` +
              'or take a new backup and let expire remove the older data',
          };
          problems.push(problem);
          // kept or taken back once the backups are placed (an interrupted expire leaves this)
          leadingPartial.push({ order: timelineOrder, problem, file: s.file, key: s.key, start: s.start });
        }
      } else if (prev.file === s.file) {
        if (s.start > prev.end) {
          joins = false;
          problems.push({
            kind: 'segment-missing',
            severity: 'chain',
            object: segmentKey(t.id, s.file, prev.end),
            timeline: t.id,
            file: s.file,
            offset: prev.end,
            message:
              `timeline ${t.id} ${s.file}: bytes ${prev.end}..${s.start} are missing (no object ` +
              `${segmentKey(t.id, s.file, prev.end)}); no restore can cross ${s.file}:${prev.end}. Restore the object ` +
              'from a copy (bucket versioning, a replica of the repository); otherwise take a new backup now',
          });
        } else if (s.start < prev.end) {
          joins = false;
          problems.push({
            kind: 'segment-overlap',
            severity: 'chain',
            object: s.key,
            timeline: t.id,
            file: s.file,
            offset: s.start,
            message:
              `timeline ${t.id} ${s.file}: segment ${s.key} starts at ${s.start}, inside the previous segment ` +
              `(which ends at ${prev.end}); objects were copied in from elsewhere. Move the foreign object aside`,
          });
        }
      } else {
        const expected = prev.closesFile ? nextFileOf(prev) : undefined;
        const gap = gapFor(prev.file) ?? (expected ? gapFor(expected) : undefined);
        const explained = gap !== undefined && gap.resumedAt === s.file;
        const end = !prev.closesFile && s.start === 0 ? judgeUnclosedFileEnd(headers, prevIndex) : undefined;
        if (end?.verdict === 'source-restarted') {
          restarts.push({
            timeline: t.id,
            file: prev.file,
            end: prev.end,
            nextFile: s.file,
            evidence: end.evidence,
          });
        } else if (!prev.closesFile || expected !== s.file || s.start !== 0) {
          joins = false;
          const missing: string[] = [];
          if (!prev.closesFile)
            missing.push(
              `${prev.file} from byte ${prev.end} to its end${end ? ` (it has no ROTATE, and ${end.evidence})` : ''}`,
            );
          const firstMissing = prev.closesFile ? expected : prev.file;
          if (firstMissing && firstMissing !== s.file) {
            const between = filesBetween(prev.file, s.file);
            if (between.length > 0) missing.push(between.join(', '));
          }
          if (s.start !== 0) missing.push(`${s.file} bytes 0..${s.start}`);
          const after = { file: prev.file, position: prev.end };
          if (explained) {
            recordedBreaks.push({
              timeline: t.id,
              after,
              file: gap.file,
              message:
                `timeline ${t.id}: recorded gap after ${at(after)}: ${missing.join('; ')} ` +
                `(${gap.reason || 'purged by the source before it was archived'}, detected ${gap.detectedAt})`,
            });
          } else {
            const file = prev.closesFile ? (firstMissing ?? s.file) : prev.file;
            const offset = prev.closesFile ? 0 : prev.end;
            problems.push({
              kind: 'file-missing',
              severity: 'chain',
              object: isBinlogFileName(file) ? segmentKey(t.id, file, offset) : undefined,
              timeline: t.id,
              file,
              offset,
              message:
                `timeline ${t.id}: after ${at(after)} the archive continues at ${s.file}:${s.start}; missing: ` +
                `${missing.join('; ')} (no gap record explains it). No restore can cross ${at(after)}. Restore the ` +
                'objects from a copy; otherwise take a new backup now',
            });
          }
        }
      }
      if (!s.header) {
        prevUnknown = true;
        prev = undefined;
        closeRun();
        continue;
      }
      prevUnknown = false;
      prev = s.header;
      prevIndex += 1;
      if (!s.ok) {
        closeRun();
        continue;
      }
      if (!joins) closeRun();
      if (!run) {
        run = {
          timeline: t.id,
          from: { file: s.file, position: s.start },
          to: { file: s.file, position: s.header.end },
          lastCommit: s.header.lastCommit,
        };
      } else {
        run.to = { file: s.file, position: s.header.end };
        if (s.header.lastCommit) run.lastCommit = s.header.lastCommit;
      }
    }
    closeRun();
  }

  // locate backups on the verified segments only
  const located = headedTimelines(timelines, true);
  const placements = new Map(backups.map((b) => [b, placeBackup(b.manifest, located)]));
  const expireLeftovers = takeExpireLeftovers(leadingPartial, problems, timelines, [...placements.values()]);
  const windows = new Map<ChainRun, RestorableWindow>();
  const oldestFirst = [...backups].sort((a, b) => (a.manifest.id < b.manifest.id ? -1 : 1));
  for (const b of oldestFirst) {
    const m = b.manifest;
    const { timeline: tl, pos } = placements.get(b)!;
    const tlRuns = runs.filter((r) => r.timeline === tl);
    const run = tlRuns.find((r) => cmp(r.from, { file: pos.file, position: 0 }) <= 0 && cmp(pos, r.to) <= 0);
    if (!tl || !run) {
      problems.push({
        kind: 'backup-not-archived',
        severity: 'chain',
        backup: m.id,
        file: pos.file,
        offset: pos.position,
        timeline: tl,
        message:
          `backup ${m.id} (at ${at(pos)}) cannot be rolled forward: ` +
          (tl
            ? `${pos.file} is not archived soundly from its start through ${pos.position} on timeline ${tl} (see the problems above)`
            : `no timeline of the archive holds ${at(pos)} (the archiver has not reached it yet, or it began after the backup; ` +
              'run `mysql-pitr archive --until-caught-up` and verify again)') +
          '. The backup alone can still be restored',
      });
      continue;
    }
    const later = tlRuns.filter((r) => cmp(r.from, run.to) >= 0);
    if (later.length > 0) {
      const recorded = recordedBreaks.find((r) => r.timeline === tl && cmp(r.after, run.to) === 0);
      if (recorded) {
        problems.push({
          kind: 'recorded-gap',
          severity: 'chain',
          backup: m.id,
          timeline: tl,
          file: recorded.file,
          offset: 0,
          message: `${recorded.message}. Restores from backup ${m.id} stop there; take a new backup to cover later points`,
        });
      }
      problems.push({
        kind: 'backup-chain-broken',
        severity: 'chain',
        backup: m.id,
        timeline: tl,
        file: run.to.file,
        offset: run.to.position,
        message:
          `backup ${m.id} (at ${at(pos)}) rolls forward only to ${at(run.to)} on timeline ${tl}; the archive goes on ` +
          `after a break to ${at(later.at(-1)!.to)}. Points after ${at(run.to)} need a backup taken after the break`,
      });
    }
    if (!b.ok || windows.has(run)) continue;
    const to =
      run.lastCommit && Date.parse(run.lastCommit) > Date.parse(m.finishedAt) ? run.lastCommit : m.finishedAt;
    windows.set(run, { timeline: tl, backup: m.id, from: m.finishedAt, to, end: run.to });
  }

  // across failovers: a window that reaches the end of its timeline goes on through the timelines
  // linked to it by GTID, as far as their first run goes from their start
  const lastRun = (tl: string): ChainRun | undefined => runs.filter((r) => r.timeline === tl).at(-1);
  const firstRun = (tl: string): ChainRun | undefined => runs.find((r) => r.timeline === tl);
  const firstSegment = (tl: string): CheckedSegment | undefined =>
    timelines.find((t) => t.id === tl)?.segments[0];
  for (const [run, w] of windows) {
    let current = run;
    for (;;) {
      if (current !== lastRun(current.timeline)) break;
      const next = timelines.find((t) => t.link?.parent === current.timeline);
      const r = next ? firstRun(next.id) : undefined;
      const first = next ? firstSegment(next.id) : undefined;
      if (!next || !r || !first || cmp(r.from, { file: first.file, position: 0 }) !== 0) break;
      (w.through ??= []).push(next.id);
      w.end = r.to;
      if (r.lastCommit && Date.parse(r.lastCommit) > Date.parse(w.to)) w.to = r.lastCommit;
      current = r;
    }
  }
  // a later timeline that does not continue the one before it is a break unless a backup starts on it
  for (const t of timelines) {
    if (!t.break) continue;
    const covered = [...windows.values()].some((w) => w.timeline === t.id || w.through?.includes(t.id));
    if (covered) continue;
    problems.push({
      kind: 'timeline-break',
      severity: 'chain',
      timeline: t.id,
      message:
        `timeline ${t.id} does not continue timeline ${t.break.previous}: ${t.break.reason}. No backup starts on it, ` +
        `so no point of timeline ${t.id} can be restored: take a backup now (\`mysql-pitr backup create\`)`,
    });
  }

  const ordered = [...windows.values()].sort((a, b) =>
    a.timeline !== b.timeline ? (a.timeline < b.timeline ? -1 : 1) : a.from < b.from ? -1 : 1,
  );
  return {
    problems,
    restarts,
    expireLeftovers,
    runs,
    windows: ordered,
    unrestorable: unrestorableIntervals(timelines, ordered, problems),
  };
}

/** A timeline's first file that starts past byte 0, and the `segment-missing` problem reported for it. */
interface LeadingPartialFile {
  /** The timeline's index in the chain. */
  order: number;
  problem: VerifyProblem;
  file: string;
  key: string;
  start: number;
}

/**
 * Where a backup stands: its coordinates' timeline, or where its GTID position places it when no
 * timeline holds the coordinates (as the restore planner does); `timeline` undefined when neither.
 */
function placeBackup(
  m: BackupManifest,
  located: ReturnType<typeof headedTimelines>,
): { timeline: string | undefined; pos: ChainPoint } {
  const timeline = locateBackupTimeline(m, located);
  const byGtid = timeline === undefined ? locateBackupByGtidHeaders(m, located) : undefined;
  if (byGtid) return { timeline: byGtid.timeline, pos: { file: byGtid.file, position: byGtid.position } };
  return { timeline, pos: { file: m.binlog.file, position: m.binlog.position } };
}

/**
 * Takes out of `problems` the partial first files that only an interrupted `expire` explains: expire
 * removes backups first, then each timeline's binlogs oldest first, so a stop midway leaves a first
 * file that starts past byte 0 before every kept backup. It is a leftover when there is a backup, every
 * backup is placed, none is on an earlier timeline, and none is in that file or before it on its own
 * timeline (so no restore needs its start). Anything else stays a `segment-missing` problem.
 */
function takeExpireLeftovers(
  partial: readonly LeadingPartialFile[],
  problems: VerifyProblem[],
  timelines: readonly TimelineInput[],
  placements: readonly { timeline: string | undefined; pos: ChainPoint }[],
): ExpireLeftover[] {
  if (partial.length === 0 || placements.length === 0) return [];
  // a backup nobody can place might need any file: keep every problem
  if (placements.some((b) => b.timeline === undefined)) return [];
  const order = (id: string | undefined): number => timelines.findIndex((t) => t.id === id);
  const taken = partial.filter(
    (p) =>
      !placements.some(
        (b) =>
          order(b.timeline) < p.order ||
          (order(b.timeline) === p.order && compareBinlogFiles(b.pos.file, p.file) <= 0),
      ),
  );
  const drop = new Set(taken.map((p) => p.problem));
  problems.splice(0, problems.length, ...problems.filter((x) => !drop.has(x)));
  return taken.map((p) => ({ timeline: p.problem.timeline!, file: p.file, start: p.start, key: p.key }));
}

/**
 * The intervals between the first and the newest archived commit (of any timeline) that no window
 * covers, each with the reason: before the oldest backup, or the break (problem) that ends the
 * window before it.
 */
function unrestorableIntervals(
  timelines: readonly TimelineInput[],
  windows: readonly RestorableWindow[],
  problems: readonly VerifyProblem[],
): UnrestorableInterval[] {
  const commits = timelines.flatMap((t) =>
    t.segments.flatMap((s) => [s.header?.firstCommit, s.header?.lastCommit]).filter((c): c is string => !!c),
  );
  if (commits.length === 0) return [];
  const ms = commits.map((c) => Date.parse(c));
  const first = Math.min(...ms);
  const newest = Math.max(...ms);
  const spans = windows
    .map((w) => ({ w, from: Date.parse(w.from), to: Date.parse(w.to) }))
    .sort((a, b) => a.from - b.from);
  const out: UnrestorableInterval[] = [];
  const iso = (x: number): string => new Date(x).toISOString();
  const breakAfter = (w: RestorableWindow | undefined): string => {
    if (!w) return 'no complete backup can be rolled forward to it';
    const last = w.through?.at(-1) ?? w.timeline;
    const following = timelines.find((t) => t.break?.previous === last)?.id;
    const p =
      problems.find((x) => x.severity === 'chain' && (x.timeline === last || x.backup === w.backup)) ??
      problems.find((x) => x.kind === 'timeline-break' && x.timeline === following);
    return p
      ? `the chain breaks after ${w.end.file}:${w.end.position} on timeline ${last}: ${p.message}`
      : `the archive of timeline ${last} stops being restorable from backup ${w.backup} at ${w.end.file}:${w.end.position}`;
  };
  let covered = first;
  let before: RestorableWindow | undefined;
  for (const s of spans) {
    if (s.from > covered) {
      out.push(
        before
          ? { from: iso(covered), to: iso(s.from), kind: 'break', reason: breakAfter(before) }
          : {
              from: iso(covered),
              to: iso(s.from),
              kind: 'before-oldest-backup',
              reason: `before the oldest usable backup (${s.w.backup}, finished ${s.w.from}): a restore starts from a backup`,
            },
      );
    }
    if (s.to > covered) {
      covered = s.to;
      before = s.w;
    }
  }
  if (newest > covered) {
    out.push({
      from: iso(covered),
      to: iso(newest),
      kind: before ? 'break' : 'not-covered',
      reason: breakAfter(before),
    });
  }
  return out;
}
