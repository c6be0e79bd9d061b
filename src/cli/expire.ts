import { expireRepository, type ExpireResult } from '../maintenance/index.js';
import { DEFAULT_INCOMPLETE_GRACE_MS } from '../catalog/index.js';
import type { CliCommand } from './cli-command.js';
import { formatBytes } from './format-bytes.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

/** The text report of an expire run (or dry run). */
export function formatExpireResult(r: ExpireResult): string {
  const p = r.plan;
  const verb = r.dryRun ? 'would expire' : 'expired';
  const lines: string[] = [];
  for (const b of p.expireBackups) lines.push(`${verb} backup ${b.id} (started ${b.startedAt}): ${b.reason}`);
  for (const i of p.expireIncomplete)
    lines.push(
      `${r.dryRun ? 'would remove' : 'removed'} incomplete backup ${i.id} (${i.keys.length} objects): ${i.reason}`,
    );
  for (const t of p.expireBinlogs) {
    const first = t.segments[0];
    const last = t.segments.at(-1);
    const range = first && last ? ` ${first.file}..${last.file}` : '';
    const what = t.whole ? `the whole timeline ${t.timeline}` : `binlogs of timeline ${t.timeline}`;
    lines.push(
      `${verb} ${what}:${range} ${t.segments.length} segments (${formatBytes(t.segments.reduce((a, s) => a + s.size, 0))})` +
        `${t.gapKeys.length ? `, ${t.gapKeys.length} gap records` : ''}: ${t.reason}`,
    );
  }
  if (lines.length === 0) lines.push('nothing to expire');
  for (const k of p.keep) lines.push(`kept backup ${k.id} (started ${k.startedAt}): ${k.reason}`);
  if (p.keepBinlogsFrom) {
    lines.push(`binlogs kept from timeline ${p.keepBinlogsFrom.timeline} ${p.keepBinlogsFrom.file}:0 on`);
  }
  for (const n of p.notes) lines.push(`note: ${n}`);
  const w = p.windowStart;
  lines.push(
    w
      ? `restorable window now starts at ${w.time} (backup ${w.backup} at ${w.file}:${w.position}` +
          `${w.timeline ? `, timeline ${w.timeline}` : ''})`
      : 'no complete backup: nothing is restorable',
  );
  if (!r.dryRun) lines.push(`${r.deleted.length} objects deleted`);
  return lines.join('\n');
}

export const expire: CliCommand = {
  words: ['expire'],
  summary: 'Delete backups and archived binlogs the retention policy no longer needs (crash-safe)',
  usage: '[--keep-days N] [--keep-backups N] [--dry-run] [--json] --repo URL',
  details:
    'Keeps the newest backup always, every backup started within --keep-days, the newest one before that ' +
    'cutoff (so any point of the last N days stays restorable), and the newest --keep-backups. Binlogs are kept ' +
    'from the start of the binlog file of the oldest kept backup on; older binlogs and older timelines go. ' +
    "A backup's manifest is deleted before its data, and segments oldest first, so an interrupted expire never " +
    'leaves a complete-looking backup with missing data nor a hole in the archive; run it again to finish. ' +
    'See docs/retention.md.',
  options: [
    ...REPO_OPTIONS,
    {
      key: 'keepDays',
      flag: 'keep-days',
      type: 'number',
      valueName: 'N',
      description: 'Keep every point of the last N days restorable',
    },
    {
      key: 'keepBackups',
      flag: 'keep-backups',
      type: 'integer',
      valueName: 'N',
      description: 'Keep the newest N complete backups',
    },
    {
      key: 'incompleteGrace',
      flag: 'incomplete-grace',
      type: 'duration',
      default: DEFAULT_INCOMPLETE_GRACE_MS,
      description: 'Remove backup folders without a manifest only when last written longer ago than this',
    },
    {
      key: 'dryRun',
      flag: 'dry-run',
      type: 'boolean',
      env: false,
      description: 'List what would go; delete nothing',
    },
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const o = ctx.options;
    const store = openRepository(o, ctx.logger);
    const result = await expireRepository(
      store,
      {
        keepDays: o.optionalNumber('keepDays'),
        keepBackups: o.optionalNumber('keepBackups'),
        incompleteGraceMs: o.number('incompleteGrace'),
      },
      { dryRun: o.boolean('dryRun'), logger: ctx.logger, signal: ctx.signal },
    );
    if (o.boolean('json')) {
      ctx.stdout.write(
        `${JSON.stringify(
          {
            repository: store.describe(),
            dryRun: result.dryRun,
            deleted: result.deleted,
            segmentBytes: result.segmentBytes,
            windowStart: result.plan.windowStart,
            plan: result.plan,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      ctx.stdout.write(`${formatExpireResult(result)}\n`);
    }
  },
};
