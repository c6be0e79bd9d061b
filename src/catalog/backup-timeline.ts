import { MariadbGtidPos, parseMariadbGtid } from '../gtid/index.js';
import type { BackupManifest } from './backup-manifest.js';
import type { CatalogTimeline } from './binlog-catalog.js';

/**
 * The timeline of the archive that holds a backup's binlog coordinates: one whose source identity
 * matches the backup's (when the timeline record is known) and with a segment of the backup's
 * binlog file covering its position (`start <= position <= end`, so a backup taken while the source
 * was idle, at the very end of the archive, counts). When several match (RESET MASTER reuses file
 * names), those whose GTIDs agree with the backup's GTID position are preferred (MariaDB), then the
 * newest one created at or before the backup started. Shared by restore planning, expire and verify. Undefined when no timeline holds
 * the position: the archive has not reached it yet, or it started after the backup. Pure.
 *
 * Segments without a header are ignored (their end is unknown).
 */
export function locateBackupTimeline(
  backup: BackupManifest,
  timelines: readonly CatalogTimeline[],
): string | undefined {
  const matches = timelines.filter((t) => {
    const r = t.record;
    if (r) {
      const s = r.source;
      const b = backup.source;
      if (s.flavor !== b.flavor || s.serverId !== b.serverId) return false;
      if (s.flavor === 'mysql' && s.serverUuid && b.serverUuid && s.serverUuid !== b.serverUuid) return false;
      if ((s.gtidDomainId ?? 0) !== (b.gtidDomainId ?? 0)) return false;
    }
    return t.segments.some(
      (s) =>
        s.header !== undefined &&
        s.file === backup.binlog.file &&
        s.start <= backup.binlog.position &&
        backup.binlog.position <= s.header.end,
    );
  });
  if (matches.length <= 1) return matches[0]?.id;
  const consistent = matches.filter((t) => gtidConsistent(t, backup));
  const candidates = consistent.length > 0 ? consistent : matches;
  const started = Date.parse(backup.startedAt);
  const before = candidates.filter((t) => !t.record || Date.parse(t.record.createdAt) <= started);
  return (before.at(-1) ?? candidates.at(-1))!.id;
}

/**
 * MariaDB: true unless the timeline's GTIDs around the backup position contradict the backup's
 * GTID position (transactions before it must be in it, transactions after it must not).
 */
function gtidConsistent(t: CatalogTimeline, backup: BackupManifest): boolean {
  if (backup.source.flavor !== 'mariadb' || !backup.gtidPosition) return true;
  const pos = MariadbGtidPos.parse(backup.gtidPosition);
  return t.segments
    .filter((s) => s.header !== undefined && s.file === backup.binlog.file)
    .every((s) =>
      Object.values(s.header!.gtids).every((r) => {
        const first = parseMariadbGtid(r.first);
        const last = parseMariadbGtid(r.last);
        const mine = pos.get(first.domainId)?.seqNo;
        if (s.header!.end <= backup.binlog.position) return mine !== undefined && mine >= last.seqNo;
        if (s.start >= backup.binlog.position) return mine === undefined || mine < first.seqNo;
        return true;
      }),
    );
}

/** A place in the archive to scan for a GTID: bytes [0, upTo) of `file` on `timeline`. */
export interface GtidCandidate {
  timeline: string;
  file: string;
  /** The end of the segment whose header range holds the GTID's sequence number. */
  upTo: number;
}

/**
 * Where a backup's GTID position may lie along a chain of timelines, from segment headers: for each
 * GTID domain of the position that the chain archives, its GTID and the segments (oldest along the
 * chain first) whose header range holds its sequence number. See `findBackupGtidCandidates`.
 */
export interface BackupGtidCandidates {
  domains: { gtid: string; candidates: GtidCandidate[] }[];
}

/**
 * Finds where a MariaDB backup's GTID position may lie along `chain` (oldest timeline first), by
 * the per-domain first/last GTIDs of the segment headers. A segment whose first or last GTID has
 * the position's sequence number but another server id is left out (another server wrote that
 * number there: the position is not in that history). Which candidate holds the exact GTID, and the
 * transaction boundary after it, is decided by scanning the files. Pure.
 *
 * @returns the candidates, or `reason` why the position cannot be on this chain (no GTID position,
 *   MySQL, a position before or after the archive, or in none of its segments)
 */
export function findBackupGtidCandidates(
  backup: BackupManifest,
  chain: readonly CatalogTimeline[],
): BackupGtidCandidates | { reason: string } {
  if (!backup.gtidPosition) {
    return { reason: 'it has no GTID position, so only its binlog coordinates can place it' };
  }
  if (backup.source.flavor !== 'mariadb') {
    return { reason: 'MySQL backups are placed by binlog coordinates only (GTID sets are not chained yet)' };
  }
  let pos: MariadbGtidPos;
  try {
    pos = MariadbGtidPos.parse(backup.gtidPosition);
  } catch {
    return { reason: `its GTID position ${backup.gtidPosition} cannot be read` };
  }
  const ids = chain.map((t) => t.id).join(', ');
  const domains: BackupGtidCandidates['domains'] = [];
  for (const g of pos.gtids()) {
    const text = `${g.domainId}-${g.serverId}-${g.seqNo}`;
    let min: number | undefined;
    let max: number | undefined;
    const candidates: GtidCandidate[] = [];
    for (const t of chain) {
      for (const s of t.segments) {
        const r = s.header?.gtids[String(g.domainId)];
        if (!s.header || !r) continue;
        const first = parseMariadbGtid(r.first);
        const last = parseMariadbGtid(r.last);
        min = Math.min(min ?? first.seqNo, first.seqNo);
        max = Math.max(max ?? last.seqNo, last.seqNo);
        if (g.seqNo < first.seqNo || g.seqNo > last.seqNo) continue;
        if (g.seqNo === first.seqNo && first.serverId !== g.serverId) continue;
        if (g.seqNo === last.seqNo && last.serverId !== g.serverId) continue;
        if (!candidates.some((c) => c.timeline === t.id && c.file === s.file && c.upTo >= s.header!.end)) {
          const same = candidates.findIndex((c) => c.timeline === t.id && c.file === s.file);
          if (same >= 0) candidates.splice(same, 1);
          candidates.push({ timeline: t.id, file: s.file, upTo: s.header.end });
        }
      }
    }
    if (min === undefined || max === undefined) continue; // a domain the chain never archived: nothing to apply there
    if (candidates.length > 0) {
      domains.push({ gtid: text, candidates });
      continue;
    }
    if (g.seqNo < min) {
      return {
        reason:
          `its GTID position holds ${text}, older than the archive of timelines ${ids}, whose first ` +
          `transaction of domain ${g.domainId} has sequence number ${min}: the transactions between are not archived`,
      };
    }
    if (g.seqNo > max) {
      return {
        reason:
          `its GTID position holds ${text}, after the newest archived transaction of domain ${g.domainId} ` +
          `(sequence number ${max}) on timelines ${ids}: the archive has not reached it yet, or the backup's ` +
          'server has transactions this history never had (errant GTIDs)',
      };
    }
    return {
      reason:
        `its GTID position holds ${text}, but timelines ${ids} archive sequence number ${g.seqNo} of domain ` +
        `${g.domainId} from another server, or not at all (a gap): the backup's server has transactions this ` +
        'history never had (errant GTIDs), or the archive misses them',
    };
  }
  if (domains.length === 0) {
    return { reason: `its GTID position ${backup.gtidPosition} shares no GTID domain with timelines ${ids}` };
  }
  return { domains };
}

/**
 * Header-level GTID placement for readers that do not scan files (verify, status): when a backup's
 * coordinates place it on no timeline, the segment of `timelines` (oldest first) holding the last
 * transaction of its GTID position along them, as `{ timeline, file, position }` where position
 * is that segment's end (the exact boundary, found by the restore planner's scan, lies inside the
 * segment). Undefined when the headers cannot place it (see findBackupGtidCandidates). The planner
 * may still refuse such a backup when the scan shows another server's transaction at that
 * sequence number (an errant position the headers cannot see). Pure.
 */
export function locateBackupByGtidHeaders(
  backup: BackupManifest,
  timelines: readonly CatalogTimeline[],
): { timeline: string; file: string; position: number } | undefined {
  const found = findBackupGtidCandidates(backup, timelines);
  if ('reason' in found) return undefined;
  const order = (c: GtidCandidate): [number, string, number] => [
    timelines.findIndex((t) => t.id === c.timeline),
    c.file,
    c.upTo,
  ];
  let best: GtidCandidate | undefined;
  for (const d of found.domains) {
    const c = d.candidates[0]!;
    if (!best) best = c;
    else {
      const [a, b] = [order(c), order(best)];
      if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) best = c;
    }
  }
  return best && { timeline: best.timeline, file: best.file, position: best.upTo };
}
