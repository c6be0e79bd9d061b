import { readArchiveStatus, type ArchiveStatus } from '../archiver/index.js';
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
  details: 'Exits 6 (NOT_RECOVERABLE) when the archive has gaps, so that monitoring can alert on it.',
  options: [
    ...REPO_OPTIONS,
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const store = openRepository(ctx.config.values, ctx.logger);
    const s = await readArchiveStatus(store);
    ctx.stdout.write(
      ctx.config.values['json'] ? `${JSON.stringify(s, null, 2)}\n` : `${formatArchiveStatus(s)}\n`,
    );
    return s.gaps.length > 0 ? 6 : 0;
  },
};
