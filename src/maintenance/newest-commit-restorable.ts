import type { VerifyReport } from './verify-repository.js';

/**
 * Whether a restore can reach the newest archived commit, judged from a verify report: some
 * restorable window ends at it. The newest archived commit is the latest end of any window or
 * unrestorable interval (verify's intervals run between the first and the newest archived
 * commit). Undefined when nothing is archived yet (the backup-age alarm covers a new cluster).
 *
 * False means the most recent history cannot be restored: a break after the last backup (a
 * failover without GTIDs, a gap, a missing tail) or a timeline with no backup on it. The verify job
 * turns it into the NewestCommitUnrestorable metric, which the CDK alarms on.
 */
export function newestCommitRestorable(
  report: Pick<VerifyReport, 'windows' | 'unrestorable'>,
): boolean | undefined {
  const ends = [...report.windows.map((w) => w.to), ...report.unrestorable.map((u) => u.to)].map((t) =>
    Date.parse(t),
  );
  if (ends.length === 0) return undefined;
  const newest = Math.max(...ends);
  return report.windows.some((w) => Date.parse(w.to) >= newest);
}
