import { readArchiveStatus, type ArchiveStatus } from '../maintenance/index.js';
import { describeSourceIdentity } from '../catalog/index.js';
import type { CliCommand } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

/** The text form of a status. */
export function formatArchiveStatus(s: ArchiveStatus): string {
  const lines = [`repository ${s.repository}`];
  const t = s.timeline;
  if (!t) lines.push('no archived binlogs yet');
  else {
    const who = t.record
      ? `${describeSourceIdentity(t.record.source)} (${t.record.source.address})`
      : '(no record)';
    lines.push(`timeline ${t.id} of ${s.timelines}: ${who}, ${t.files} files, ${t.segments} segments`);
  }
  const d = s.lastDurable;
  if (d) {
    lines.push(
      `last durable: ${d.file}:${d.position}${d.closesFile ? ' (file closed)' : ''}, stored ${d.storedAt}`,
    );
    lines.push(
      d.lastCommit
        ? `last commit archived: ${d.lastCommit} (${d.lagSeconds?.toFixed(1)} s ago)`
        : 'last commit archived: none yet',
    );
  }
  if (s.gaps.length === 0) lines.push('gaps: none');
  for (const g of s.gaps) {
    lines.push(
      `GAP timeline ${g.timeline} ${g.file} from ${g.from}: ${g.reason}. Take a new full backup: restores cannot cross it`,
    );
  }
  for (const u of s.unclosedFiles) {
    lines.push(
      u.verdict === 'source-restarted'
        ? `source restarted after a crash: timeline ${u.timeline} ${u.file} ends at ${u.end} without ROTATE and ` +
            `the next file continues it (${u.evidence}); nothing is missing`
        : `BREAK timeline ${u.timeline} ${u.file} ends at ${u.end} without ROTATE: ${u.evidence}. Restores cannot ` +
            'cross it: restore the missing objects from a copy, or take a new full backup',
    );
  }
  for (const k of s.links) {
    lines.push(
      `timeline ${k.timeline} continues timeline ${k.parent} (${k.how === 'recorded' ? `recorded fork ${k.forkGtid ?? ''}` : 'GTID continuity'}): restores cross it`,
    );
  }
  for (const b of s.breaks) {
    lines.push(`BREAK timeline ${b.timeline} does not continue timeline ${b.previous}: ${b.reason}`);
  }
  for (const d of s.diverged) lines.push(d.message);
  lines.push(s.windows.length ? 'restorable windows (UTC):' : 'restorable windows: none');
  for (const w of s.windows) {
    lines.push(
      `  timeline ${w.timeline}${w.through?.length ? ` then ${w.through.join(', ')}` : ''}: ${w.from} .. ${w.to} (from backup ${w.backup})`,
    );
  }
  for (const u of s.unrestorable) lines.push(`NOT RESTORABLE ${u.from} .. ${u.to}: ${u.reason}`);
  for (const h of s.holes) lines.push(`MISSING ${h.message}`);
  const l = s.lease;
  lines.push(
    l
      ? `archiver: ${l.valid ? 'running' : 'lease expired'} on ${l.host} pid ${l.pid} (${l.source}) since ${l.acquiredAt}, lease until ${l.expiresAt}`
      : 'archiver: not running (no lease)',
  );
  return lines.join('\n');
}

export const status: CliCommand = {
  words: ['status'],
  summary: 'Show the archive: last durable position and commit time, lag, gaps, lease holder',
  usage: '--repo URL [--json]',
  details:
    'Exits 6 (NOT_RECOVERABLE) when the archive has gaps, a missing segment or binlog file, or a file that ended without ROTATE whose GTIDs do not ' +
    'continue in the next file, so that monitoring can alert on it. A file ended by a source crash and restart ' +
    '(the GTIDs continue) is shown as information.',
  options: [
    ...REPO_OPTIONS,
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const store = openRepository(ctx.options, ctx.logger);
    const s = await readArchiveStatus(store);
    ctx.stdout.write(
      ctx.options.boolean('json') ? `${JSON.stringify(s, null, 2)}\n` : `${formatArchiveStatus(s)}\n`,
    );
    const breaks = s.unclosedFiles.some((u) => u.verdict !== 'source-restarted');
    return s.gaps.length > 0 || breaks || s.holes.length > 0 ? 6 : 0;
  },
};
