import {
  describeSourceIdentity,
  findDivergedHistories,
  readBinlogCatalog,
  summarizeTimeline,
  type TimelineSummary,
} from '../catalog/index.js';
import type { CliCommand } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

function gtidText(gtids: Record<string, { first: string; last: string }>): string {
  const parts = Object.values(gtids).map((r) => (r.first === r.last ? r.first : `${r.first}..${r.last}`));
  return parts.length ? `  gtid ${parts.join(',')}` : '';
}

/** The text listing of one timeline. */
export function formatTimelineSummary(t: TimelineSummary): string {
  const lines: string[] = [];
  const r = t.record;
  const who = r ? `${describeSourceIdentity(r.source)} (${r.source.address})` : '(no timeline record)';
  lines.push(`timeline ${t.id}  ${who}`);
  if (r) {
    lines.push(`  created ${r.createdAt}: ${r.reason}`);
    const p = r.parent;
    if (typeof p === 'object')
      lines.push(`  forked from timeline ${p.timeline} after ${p.file}:${p.position}`);
    else if (p) lines.push(`  follows timeline ${p}`);
    if (r.forkGtid) lines.push(`  fork GTID position ${r.forkGtid} (transactions in it are the parent's)`);
    if (r.startedBy) lines.push(`  started by ${r.startedBy}`);
  }
  for (const f of t.files) {
    const times = f.firstCommit ? `  ${f.firstCommit} .. ${f.lastCommit}` : '';
    const holes = f.holes.map((h) => `  ${h.overlap ? 'OVERLAP' : 'HOLE'} ${h.from}-${h.to}`).join('');
    lines.push(
      `  ${f.file}  ${f.start}-${f.end}  ${f.segments} seg  ${f.transactions} trx${times}${gtidText(f.gtids)}` +
        `${f.closed ? '  closed' : ''}${holes}`,
    );
    const u = f.unclosedEnd;
    if (u) {
      lines.push(
        u.verdict === 'source-restarted'
          ? `    source restarted after a crash: no ROTATE, the next file continues it (${u.evidence})`
          : `    BREAK: no ROTATE and ${u.evidence}; no restore can cross it`,
      );
    }
  }
  for (const g of t.gaps) {
    lines.push(
      `  GAP ${g.file} from ${g.from}: ${g.reason} (detected ${g.detectedAt}, resumed at ${g.resumedAt})`,
    );
  }
  return lines.join('\n');
}

export const binlogList: CliCommand = {
  words: ['binlog', 'list'],
  summary: 'List archived binlogs per timeline: files, offsets, time and GTID ranges, gaps',
  usage: '--repo URL [--timeline T] [--json]',
  details:
    'Reads the header of every segment (one small ranged GET each). A GAP is a file the source purged before ' +
    'it was archived: no restore can cross it. HOLE/OVERLAP inside a file means damaged segments. "diverged" names transactions a timeline\'s parent ' +
    'holds after the fork that the later timeline lacks (lost in a failover, or errant on a returning old primary).',
  options: [
    ...REPO_OPTIONS,
    { key: 'timeline', flag: 'timeline', type: 'string', valueName: 'T', description: 'Only this timeline' },
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const o = ctx.options;
    const store = openRepository(o, ctx.logger);
    const timeline = o.optionalString('timeline');
    const catalog = await readBinlogCatalog(store, {
      headers: true,
      ...(timeline ? { timeline } : {}),
    });
    const summaries = catalog.timelines.map(summarizeTimeline);
    // with --timeline only that one is read: no fork to compare
    const diverged = findDivergedHistories(catalog.timelines);
    if (o.boolean('json')) {
      ctx.stdout.write(
        `${JSON.stringify({ repository: store.describe(), timelines: summaries, diverged }, null, 2)}\n`,
      );
      return;
    }
    if (summaries.length === 0) ctx.stdout.write(`no archived binlogs in ${store.describe()}\n`);
    ctx.stdout.write(summaries.map(formatTimelineSummary).join('\n\n') + (summaries.length ? '\n' : ''));
    for (const d of diverged) ctx.stdout.write(`\n${d.message}\n`);
  },
};
