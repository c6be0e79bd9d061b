import type { OptionSpec, OptionValues } from '../config/index.js';
import {
  RESTORE_TARGET_HELP,
  loadRestorePlan,
  parseRestoreTarget,
  type RestorePlan,
  type RestoreTargetFlags,
} from '../restore/index.js';
import type { CliCommand, CommandContext } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

/** The target flags shared by the restore commands (see RESTORE_TARGET_HELP). */
export const RESTORE_TARGET_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'to',
    flag: 'to',
    type: 'string',
    env: false,
    valueName: 'TIME|latest',
    description:
      'Restore every transaction committed at or before TIME (UTC unless a zone is given), or everything archived',
  },
  {
    key: 'toGtid',
    flag: 'to-gtid',
    type: 'string',
    env: false,
    valueName: 'GTID',
    description: 'Restore up to and including this transaction',
  },
  {
    key: 'beforeGtid',
    flag: 'before-gtid',
    type: 'string',
    env: false,
    valueName: 'GTID',
    description: 'Restore up to, not including, this transaction',
  },
  {
    key: 'toPosition',
    flag: 'to-position',
    type: 'string',
    env: false,
    valueName: 'FILE:POS',
    description: 'Restore up to this transaction boundary',
  },
  {
    key: 'timeline',
    flag: 'timeline',
    type: 'string',
    env: false,
    valueName: 'ID',
    description:
      'Restore only this timeline (default: the newest, following the chain of timelines back across failovers by GTID)',
  },
  {
    key: 'backup',
    flag: 'backup',
    type: 'string',
    env: false,
    valueName: 'ID',
    description: 'Backup to start from (default: the newest before the target)',
  },
];

/**
 * The stop-point flags of RESTORE_TARGET_OPTIONS, for `parseRestoreTarget` (`restore pitr`,
 * `restore plan`, `restore apply`).
 *
 * @throws PitrError INTERNAL when the command does not declare RESTORE_TARGET_OPTIONS
 */
export function readRestoreTarget(options: OptionValues): RestoreTargetFlags {
  return {
    to: options.optionalString('to'),
    toGtid: options.optionalString('toGtid'),
    beforeGtid: options.optionalString('beforeGtid'),
    toPosition: options.optionalString('toPosition'),
  };
}

/** Reads the target flags and plans against the repository. */
export async function planFromFlags(ctx: CommandContext): Promise<RestorePlan> {
  const o = ctx.options;
  const target = parseRestoreTarget(readRestoreTarget(o));
  const store = openRepository(o, ctx.logger);
  return loadRestorePlan(store, target, {
    timeline: o.optionalString('timeline'),
    backupId: o.optionalString('backup'),
    signal: ctx.signal,
  });
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** The plan as text, for an operator. */
export function formatPlan(p: RestorePlan): string {
  const lines = [
    `target    ${p.targetText} (timeline ${p.timeline})`,
    `backup    ${p.backup.id}  finished ${p.backup.finishedAt}  binlog ${p.start.file}:${p.start.position}` +
      `${p.backup.gtidPosition ? `  gtid ${p.backup.gtidPosition}` : ''}  dump ${mib(p.bytes.dump)} (${mib(p.bytes.dumpSql)} SQL)`,
    `placed    ${p.placement.how === 'gtid' ? 'by GTID position' : 'by binlog coordinates'} on timeline ${p.placement.timeline} at ${p.placement.point.file}:${p.placement.point.position}: ${p.placement.evidence}`,
    `stop at   ${p.stop.file}:${p.stop.position}`,
  ];
  if (p.lastIncluded) {
    lines.push(
      `last applied   ${p.lastIncluded.gtid ?? '(no GTID)'} at ${p.lastIncluded.file}:${p.lastIncluded.startOffset} committed ${new Date(p.lastIncluded.commitTime).toISOString()}`,
    );
  }
  if (p.firstExcluded) {
    lines.push(
      `first skipped  ${p.firstExcluded.gtid ?? '(no GTID)'} at ${p.firstExcluded.file}:${p.firstExcluded.startOffset} committed ${new Date(p.firstExcluded.commitTime).toISOString()}`,
    );
  }
  for (const c of p.chain ?? []) {
    lines.push(
      `chain     timeline ${c.parent} up to ${c.cut.file}:${c.cut.position} (fork ${c.forkGtid} after ` +
        `${c.forkTransaction.gtid ?? '?'}, ${c.how === 'recorded' ? 'recorded' : 'inferred by GTID continuity'}), then ` +
        `timeline ${c.timeline} from ${c.resume.file}:${c.resume.position}` +
        `${c.firstNew ? ` (first new transaction ${c.firstNew.gtid ?? '?'})` : ' (nothing new on it yet)'}`,
    );
    for (const t of c.lost) {
      lines.push(
        `LOST      ${t.gtid ?? '(no GTID)'} at ${t.file}:${t.startOffset} committed ${new Date(t.commitTime).toISOString()}: ` +
          `archived from timeline ${c.parent} after the fork, never received by timeline ${c.timeline}; not applied ` +
          `(restore --timeline ${c.parent} to see that history)`,
      );
    }
  }
  lines.push(p.files.length ? 'binlogs:' : 'binlogs   none to apply: the backup is the target');
  for (const f of p.files) {
    lines.push(
      `  ${f.timeline ? `timeline ${f.timeline}  ` : ''}${f.file}  ${f.from}..${f.to ?? 'end'}  ${f.segments.length} segment(s), ${mib(f.segments.reduce((a, s) => a + s.size, 0))} stored`,
    );
  }
  if (p.expectedGtidPosition) lines.push(`gtid after restore  ${p.expectedGtidPosition}`);
  lines.push(
    `to fetch  ${mib(p.bytes.dump + p.bytes.binlogStored)} (dump ${mib(p.bytes.dump)}, binlogs ${mib(p.bytes.binlogStored)})`,
    `estimate  ~${Math.ceil(p.estimateSeconds.total)} s (download ${p.estimateSeconds.download} s, load ${p.estimateSeconds.load} s, apply ${p.estimateSeconds.apply} s)`,
  );
  return `${lines.join('\n')}\n`;
}

export const restorePlan: CliCommand = {
  words: ['restore', 'plan'],
  summary: 'Show what a point-in-time restore would do: backup, binlog range, stop point, bytes, estimate',
  usage:
    '--repo URL (--to TIME|latest | --to-gtid GTID | --before-gtid GTID | --to-position FILE:POS) [--json]',
  details: `${RESTORE_TARGET_HELP}\n\nReads the repository only; nothing is changed. Example:\n  mysql-pitr restore plan --repo s3://bucket/pitr/db1 --before-gtid 0-1-48213`,
  options: [
    ...REPO_OPTIONS,
    ...RESTORE_TARGET_OPTIONS,
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print the plan as JSON' },
  ],
  async run(ctx) {
    const plan = await planFromFlags(ctx);
    ctx.stdout.write(ctx.options.boolean('json') ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  },
};
