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
