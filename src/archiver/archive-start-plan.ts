import { MariadbGtidPos, MysqlGtidSet, parseMariadbGtid } from '../gtid/index.js';
import {
  binlogFileAfter,
  compareBinlogFiles,
  describeSourceIdentity,
  isBinlogFileName,
  nextTimelineId,
  parseBinlogFileName,
  sameSourceIdentity,
  type SegmentHeader,
  type SourceIdentity,
  type TimelineFork,
  type TimelineRecord,
} from '../catalog/index.js';

/** What the source says about itself when the archiver (re)connects. */
export interface SourceState {
  identity: SourceIdentity;
  /** SHOW BINARY LOGS, oldest first. */
  binaryLogs: readonly { name: string; size: number }[];
  /** MariaDB @@gtid_binlog_pos. */
  gtidBinlogPos?: string;
  /** MySQL @@gtid_executed. */
  gtidExecuted?: string;
  /** MariaDB @@gtid_binlog_state: the last GTID per (domain, server_id) the source logged. */
  gtidBinlogState?: string;
  /** MariaDB: per binlog file, the GTID position at its start (BINLOG_GTID_POS(file, 4)). */
  fileStartGtidPos?: Readonly<Record<string, string>>;
}

/** What the repository says about the newest timeline. */
export interface RepositoryState {
  /** Every timeline id in the repository (to number a new one). */
  timelineIds: readonly string[];
  /** The newest timeline and its record, if any. */
  newest?: { id: string; record: TimelineRecord | undefined };
  /** The header of the newest timeline's last segment, if it has one. */
  last?: SegmentHeader;
  /**
   * MariaDB: the last archived GTID per domain on the newest timeline (from its last segments that
   * end transactions), as gtid list text; absent when unknown.
   */
  archivedGtidPos?: string;
}

/** A file (from an offset) the source no longer has. */
export interface PlannedGap {
  file: string;
  from: number;
}

/** Where to start streaming. */
export type ArchiveStartPlan =
  | {
      kind: 'resume';
      timeline: string;
      file: string;
      position: number;
      /** Files purged before they were archived, to record before streaming. */
      gaps: PlannedGap[];
      /** The continuity the plan relies on, for logs. */
      detail: string;
    }
  | {
      kind: 'new-timeline';
      timeline: string;
      file: string;
      position: number;
      reason: string;
      parent?: TimelineFork;
      /**
       * When the source continues the parent's history by GTID (a failover, a switchover, another
       * server behind the address): the archived GTID position at the fork. The new timeline
       * starts at the source's file holding the first transaction after it.
       */
      forkGtid?: string;
    };

/** At most this many purged files are recorded as gaps one by one (a longer run is recorded by its first file). */
const MAX_GAP_FILES = 10_000;

/**
 * Decides where the archiver continues: exactly after the last stored byte of the newest timeline
 * when the source still continues that history, or at the oldest file the source has on a new
 * timeline when it does not (another server, RESET MASTER, a restored server). Files purged on the
 * source before they were archived become gaps. Pure.
 *
 * The history continues when: the server identity matches the timeline record; the next file is
 * on the source and at least as long as what is archived of it (or, when it is gone, every file
 * the source has comes after it: a purge); and the source's GTID position has not gone back.
 *
 * @throws Error when the source lists no binary logs (the caller checks log_bin first)
 */
export function planArchiveStart(repo: RepositoryState, source: SourceState): ArchiveStartPlan {
  const logs = source.binaryLogs;
  const oldest = logs[0];
  if (!oldest) throw new Error('planArchiveStart: the source lists no binary logs');
  const fresh = (reason: string, parent?: TimelineFork): ArchiveStartPlan => ({
    kind: 'new-timeline',
    timeline: nextTimelineId(repo.timelineIds),
    file: oldest.name,
    position: 4,
    reason,
    ...(parent ? { parent } : {}),
  });
  const newest = repo.newest;
  if (!newest) return fresh('first timeline of this repository');
  const record = newest.record;
  const last = repo.last;
  const fork: TimelineFork | undefined = last
    ? { timeline: newest.id, file: last.file, position: last.end }
    : undefined;
  if (!record)
    return fresh(
      `timeline ${newest.id} has no record (timelines/${newest.id}.json); not appending to it`,
      fork,
    );
  if (!sameSourceIdentity(record.source, source.identity)) {
    const follow = fork && followByGtid(repo, source);
    if (follow) {
      return {
        kind: 'new-timeline',
        timeline: nextTimelineId(repo.timelineIds),
        file: follow.file,
        position: 4,
        reason:
          `the source is ${describeSourceIdentity(source.identity)} but timeline ${newest.id} was written by ` +
          `${describeSourceIdentity(record.source)}, and the source continues its GTIDs: a failover or switchover; ` +
          `continuing after GTID ${follow.forkGtid} at ${follow.file}, the file holding the first transaction not archived`,
        parent: fork,
        forkGtid: follow.forkGtid,
      };
    }
    return fresh(
      `the source is ${describeSourceIdentity(source.identity)} but timeline ${newest.id} was written by ` +
        `${describeSourceIdentity(record.source)}`,
      fork,
    );
  }
  const byName = new Map(logs.map((l) => [l.name, l]));
  if (!last) {
    // the timeline record was written, then the archiver stopped before its first segment
    if (byName.has(record.firstFile)) {
      return {
        kind: 'resume',
        timeline: newest.id,
        file: record.firstFile,
        position: 4,
        gaps: [],
        detail: `timeline ${newest.id} has no segment yet; starting at its first file`,
      };
    }
    return fresh(
      `timeline ${newest.id} has no segment and the source no longer has its first file ${record.firstFile}`,
    );
  }

  const regression = gtidRegression(last, source);
  if (regression) return fresh(regression, fork);

  const file = last.closesFile ? (last.nextFile ?? safeFileAfter(last.file)) : last.file;
  const position = last.closesFile ? 4 : last.end;
  if (file === undefined) return fresh(`cannot name the file after ${last.file}`, fork);
  const onSource = byName.get(file);
  if (onSource) {
    if (!last.closesFile && onSource.size < last.end) {
      return fresh(
        `the source's ${file} is ${onSource.size} bytes but ${last.end} bytes of it are archived: ` +
          'the source was reset or replaced (its binlog history is not the archived one)',
        fork,
      );
    }
    return {
      kind: 'resume',
      timeline: newest.id,
      file,
      position,
      gaps: [],
      detail: `continuing ${file} at ${position}`,
    };
  }
  const newestLog = logs[logs.length - 1]!;
  if (
    isBinlogFileName(file) &&
    isBinlogFileName(oldest.name) &&
    parseBinlogFileName(file).base === parseBinlogFileName(oldest.name).base &&
    compareBinlogFiles(oldest.name, file) > 0
  ) {
    // purged: every file the source has comes after the one we need
    const gaps: PlannedGap[] = [{ file, from: position }];
    let f = safeFileAfter(file);
    while (f !== undefined && compareBinlogFiles(f, oldest.name) < 0 && gaps.length < MAX_GAP_FILES) {
      gaps.push({ file: f, from: 0 });
      f = safeFileAfter(f);
    }
    return {
      kind: 'resume',
      timeline: newest.id,
      file: oldest.name,
      position: 4,
      gaps,
      detail: `the source purged ${file}${gaps.length > 1 ? ` to ${gaps[gaps.length - 1]!.file}` : ''} before it was archived; continuing at ${oldest.name}`,
    };
  }
  return fresh(
    `the source has ${oldest.name}..${newestLog.name} but the archive continues at ${file}: ` +
      'its binlog history was reset (RESET MASTER) or it is another server',
    fork,
  );
}

/**
 * MariaDB: when the source's binlog holds the archived history (its gtid_binlog_state has a GTID of
 * the archived server in every archived domain: it replicated from it), the newest of its files
 * that starts at or before the archived GTID position (per domain, by sequence number), so that
 * nothing after the fork is skipped and little that is archived is archived again. Undefined when
 * GTIDs do not tell (MySQL, no GTIDs, an unrelated server, or no file starts early enough).
 */
function followByGtid(
  repo: RepositoryState,
  source: SourceState,
): { file: string; forkGtid: string } | undefined {
  if (!repo.archivedGtidPos || source.gtidBinlogState === undefined || !source.fileStartGtidPos)
    return undefined;
  try {
    const archived = MariadbGtidPos.parse(repo.archivedGtidPos);
    if (archived.isEmpty) return undefined;
    const state = source.gtidBinlogState
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .map((t) => parseMariadbGtid(t));
    for (const g of archived.gtids()) {
      if (!state.some((x) => x.domainId === g.domainId && x.serverId === g.serverId)) return undefined;
    }
    let file: string | undefined;
    for (const log of source.binaryLogs) {
      const text = source.fileStartGtidPos[log.name];
      if (text === undefined) continue;
      const start = MariadbGtidPos.parse(text);
      const notAfter = start.gtids().every((g) => {
        const a = archived.get(g.domainId);
        return a !== undefined && g.seqNo <= a.seqNo;
      });
      if (notAfter) file = log.name;
    }
    return file === undefined ? undefined : { file, forkGtid: archived.toString() };
  } catch {
    return undefined; // unparsable GTID text: no verdict
  }
}

function safeFileAfter(file: string): string | undefined {
  return isBinlogFileName(file) ? binlogFileAfter(file) : undefined;
}

/** Why the source's GTID position shows it is not the archived history, or undefined. */
function gtidRegression(last: SegmentHeader, source: SourceState): string | undefined {
  try {
    if (source.gtidBinlogPos !== undefined && Object.keys(last.gtids).length > 0) {
      const pos = MariadbGtidPos.parse(source.gtidBinlogPos);
      for (const [domain, range] of Object.entries(last.gtids)) {
        const archived = parseMariadbGtid(range.last);
        const now = pos.get(Number(domain));
        if (!now || now.seqNo < archived.seqNo) {
          return (
            `the source's gtid_binlog_pos ${source.gtidBinlogPos || '(empty)'} is behind the archived GTID ${range.last}: ` +
            'its binlog history was reset (RESET MASTER) or it is another server'
          );
        }
      }
    }
    if (source.gtidExecuted !== undefined && last.gtidSet) {
      const executed = MysqlGtidSet.parse(source.gtidExecuted);
      if (!executed.contains(MysqlGtidSet.parse(last.gtidSet))) {
        return `the source's gtid_executed does not contain the archived GTIDs ${last.gtidSet}: it is another history`;
      }
    }
  } catch {
    // unparsable GTID text: no verdict from GTIDs; the file checks still apply
  }
  return undefined;
}
