import { verifyRepository, type VerifyReport } from '../maintenance/index.js';
import type { CliCommand } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';
import { ExitCode } from '../errors/index.js';

/** `2026-11-20 03:00:12` (UTC), rounded up or down to the whole second. */
function second(iso: string, round: 'up' | 'down'): string {
  const ms = Date.parse(iso);
  const s = round === 'up' ? Math.ceil(ms / 1000) : Math.floor(ms / 1000);
  return new Date(s * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
}

/** The text report of a verify run. */
export function formatVerifyReport(r: VerifyReport): string {
  const lines = [`repository ${r.repository}`];
  const damaged = r.backups.filter((b) => !b.ok).length;
  lines.push(`backups: ${r.backups.length} checked, ${damaged} damaged`);
  lines.push(
    `segments: ${r.segments.checked} checked, ${r.segments.ok} sound (${r.segments.bytes} binlog bytes)`,
  );
  const unreadable = new Set(
    r.problems.filter((p) => p.kind === 'backup-manifest-unreadable').map((p) => p.backup),
  );
  for (const i of r.incomplete) {
    if (!unreadable.has(i.id)) lines.push(`incomplete backup ${i.id} (ignored): ${i.reason}`);
  }
  for (const x of r.restarts) {
    lines.push(
      `source restarted after a crash: timeline ${x.timeline} ${x.file} ends at ${x.end} without ROTATE and the ` +
        `source went on in ${x.nextFile} (${x.evidence}); nothing is missing`,
    );
  }
  for (const x of r.expireLeftovers) {
    lines.push(
      `expire was stopped midway: timeline ${x.timeline} ${x.file} starts at byte ${x.start} (${x.key}); no backup ` +
        'needs it, so nothing restorable is missing. Run `mysql-pitr expire` again to remove the rest',
    );
  }
  for (const d of r.diverged) lines.push(`WARNING ${d.message}`);
  for (const p of r.problems) lines.push(`PROBLEM ${p.kind}: ${p.message}`);
  if (r.windows.length === 0) lines.push('restorable windows: none');
  else lines.push('restorable windows (UTC):');
  for (const w of r.windows) {
    const from = second(w.from, 'up');
    const to = second(w.to, 'down');
    lines.push(
      `  timeline ${w.timeline}${w.through?.length ? ` then ${w.through.join(', ')}` : ''}: any second from ${from} ` +
        `to ${to < from ? from : to} (from backup ${w.backup}, binlogs up to ${w.through?.at(-1) ? `timeline ${w.through.at(-1)} ` : ''}` +
        `${w.end.file}:${w.end.position})`,
    );
  }
  for (const u of r.unrestorable) {
    lines.push(`NOT RESTORABLE ${second(u.from, 'down')} .. ${second(u.to, 'up')}: ${u.reason}`);
  }
  const warned = r.diverged.length
    ? ` (${r.diverged.length} warning${r.diverged.length > 1 ? 's' : ''})`
    : '';
  lines.push(
    r.ok ? `verify: OK${warned}` : `verify: ${r.problems.length} problem${r.problems.length > 1 ? 's' : ''}`,
  );
  return lines.join('\n');
}

/** DATA for damaged or missing objects, NOT_RECOVERABLE for breaks in the chain, OK otherwise. */
export function verifyExitCode(r: VerifyReport): number {
  if (r.problems.some((p) => p.severity === 'data')) return ExitCode.DATA;
  if (r.problems.length > 0) return ExitCode.NOT_RECOVERABLE;
  return ExitCode.OK;
}

export const verify: CliCommand = {
  words: ['verify'],
  summary:
    'Check every backup and binlog segment checksum and the binlog chain; print the restorable windows',
  usage: '[--json] --repo URL',
  details:
    'Streams every backup dump and every segment (nothing is held whole in memory) and checks its SHA-256; checks ' +
    "that each binlog file's segments join up from offset 0, that the file sequence has no hole a gap record " +
    'does not explain, and that each backup rolls forward to the end of its timeline. Exits 5 (DATA) when an ' +
    'object is damaged or missing, 6 (NOT_RECOVERABLE) when the chain has a break, 0 when all is well.',
  options: [
    ...REPO_OPTIONS,
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const store = openRepository(ctx.options, ctx.logger);
    const report = await verifyRepository(store, { logger: ctx.logger, signal: ctx.signal });
    ctx.stdout.write(
      ctx.options.boolean('json')
        ? `${JSON.stringify(report, null, 2)}\n`
        : `${formatVerifyReport(report)}\n`,
    );
    return verifyExitCode(report);
  },
};
