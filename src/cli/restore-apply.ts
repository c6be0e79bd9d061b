import { formatEndpoint } from '../config/index.js';
import { PitrError } from '../errors/index.js';
import { connectMysql } from '../mysql/index.js';
import {
  BatchBinlogApplier,
  EventBinlogApplier,
  RESTORE_TARGET_HELP,
  loadApplyPlan,
  locateAfterGtids,
  parseRestoreTarget,
  rollForward,
  targetGtids,
  type BinlogPoint,
  type RestorePlan,
  type RollForwardReport,
} from '../restore/index.js';
import { isBinlogFileName } from '../catalog/index.js';
import { APPLIER_OPTION, SKIP_GTIDS_OPTION, readApplierKind } from './applier-option.js';
import { confirm } from './confirm.js';
import { formatBytes } from './format-bytes.js';
import { PROGRESS_OPTIONS, openProgress } from './progress-options.js';
import { readServer, serverOptions } from './server-options.js';
import type { CliCommand } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';
import { connectionOptions } from './archive.js';
import { RESTORE_TARGET_OPTIONS, readRestoreTarget } from './restore-plan.js';

/** `--from FILE:POS`. */
function parseFrom(text: string): BinlogPoint {
  const m = /^(.+):(\d+)$/.exec(text.trim());
  if (!m || !isBinlogFileName(m[1]!) || !Number.isSafeInteger(Number(m[2])) || Number(m[2]) < 4) {
    throw new PitrError(
      'USAGE',
      `--from "${text}" is not FILE:POS such as mysql-bin.000042:1234: give the binlog position the target's data ` +
        'is at (the backup coordinates from `mysql-pitr backup show`, or the stop point of the previous restore)',
    );
  }
  return { file: m[1]!, position: Number(m[2]) };
}

const rangeBytes = (p: RestorePlan): number =>
  p.files.reduce((a, f) => a + Math.max(0, (f.to ?? f.segments.at(-1)?.end ?? f.from) - f.from), 0);

function formatApplyPlan(p: RestorePlan): string {
  const lines = [
    `target    ${p.targetText} (timeline ${p.timeline})`,
    `apply     ${p.start.file}:${p.start.position} .. ${p.stop.file}:${p.stop.position} (${formatBytes(rangeBytes(p))} of binlog)`,
  ];
  if (p.lastIncluded)
    lines.push(
      `last applied   ${p.lastIncluded.gtid ?? '(no GTID)'} at ${p.lastIncluded.file}:${p.lastIncluded.startOffset}`,
    );
  if (p.firstExcluded)
    lines.push(
      `first skipped  ${p.firstExcluded.gtid ?? '(no GTID)'} at ${p.firstExcluded.file}:${p.firstExcluded.startOffset}`,
    );
  for (const f of p.files)
    lines.push(`  ${f.file}  ${f.from}..${f.to ?? 'end'}  ${f.segments.length} segment(s)`);
  return `${lines.join('\n')}\n`;
}

function formatReport(r: RollForwardReport): string {
  const lines = [
    `applied ${r.transactionsApplied} transaction(s) from ${r.from.file}:${r.from.position} up to ${r.stop.file}:${r.stop.position} in ${r.seconds.toFixed(1)} s`,
    `last gtid  ${r.lastGtid ?? '(none)'}`,
    ...(r.server
      ? [
          `server gtid_binlog_pos ${r.server.gtidBinlogPos || '(empty)'}, gtid_slave_pos ${r.server.gtidSlavePos || '(empty)'}`,
        ]
      : []),
    ...r.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}

export const restoreApply: CliCommand = {
  words: ['restore', 'apply'],
  summary: 'Roll an existing server forward: apply the archived binlogs from a position to a point in time',
  usage:
    '--repo URL --target mysql://USER@HOST:PORT (--from FILE:POS | --from-gtid-of-target) (--to TIME|latest | --to-gtid G | --before-gtid G | --to-position F:P) [--binlog] [--yes] [--json]',
  details: [
    RESTORE_TARGET_HELP,
    '',
    'The target already holds the data up to --from (a server restored earlier, or loaded from a dump taken at',
    'those binlog coordinates); the archived binlogs from there to the stop point are applied to it, whole',
    'transactions per round trip, in binlog order. --from-gtid-of-target (MariaDB) starts right after the',
    "transaction the target's GTID position ends at (with several GTID domains: after the latest of their",
    'transactions in binlog order). Without --binlog the applying session has sql_log_bin=0 and gtid_slave_pos is',
    "advanced over every GTID domain afterwards; with --binlog the target logs the source's transactions with their",
    'own GTIDs (for a server that becomes a primary). On an SQL error the failing transaction is named; every',
    'transaction before it is applied, and the same command with --from at that transaction continues.',
    '',
    'Example: mysql-pitr restore apply --repo s3://bucket/pitr/db1 --target mysql://admin@db2:3306 --from-gtid-of-target --to latest --yes',
  ].join('\n'),
  options: [
    ...REPO_OPTIONS,
    ...RESTORE_TARGET_OPTIONS.filter((o) => o.key !== 'backup'),
    ...serverOptions('target', 'Server to roll forward'),
    {
      key: 'from',
      flag: 'from',
      type: 'string',
      env: false,
      valueName: 'FILE:POS',
      description: 'Binlog position the target holds everything before (a transaction boundary)',
    },
    {
      key: 'fromGtidOfTarget',
      flag: 'from-gtid-of-target',
      type: 'boolean',
      env: false,
      description: "Start after the transaction the target's GTID position ends at (MariaDB)",
    },
    {
      key: 'binlog',
      flag: 'binlog',
      type: 'boolean',
      env: false,
      description: "Keep the target's binary log on while applying (it logs the source's GTIDs)",
    },
    {
      key: 'yes',
      flag: 'yes',
      short: 'y',
      type: 'boolean',
      env: false,
      description: 'Apply without asking; required off a terminal',
    },
    { ...APPLIER_OPTION, valueName: 'events|batch' },
    SKIP_GTIDS_OPTION,
    {
      key: 'binlogProgram',
      flag: 'binlog-program',
      type: 'string',
      default: 'mariadb-binlog',
      valueName: 'PATH',
      description: 'Binlog decoder used by --applier batch',
    },
    {
      key: 'json',
      flag: 'json',
      type: 'boolean',
      env: false,
      description: 'Print the plan and report as JSON (progress as JSON lines on stderr)',
    },
    ...PROGRESS_OPTIONS,
  ],
  async run(ctx) {
    const o = ctx.options;
    const { endpoint, password } = readServer(o, 'target');
    const fromText = o.optionalString('from');
    const fromGtid = o.boolean('fromGtidOfTarget');
    if ((fromText !== undefined && fromText !== '') === fromGtid) {
      throw new PitrError(
        'USAGE',
        'say where the target is: --from FILE:POS (the binlog position its data is at) or --from-gtid-of-target, not both',
      );
    }
    const from = fromText ? parseFrom(fromText) : undefined;
    const applierKind = readApplierKind(o);
    if (applierKind === 'batch') {
      ctx.logger.warn(
        '--applier batch re-splits mariadb-binlog text and restores strings holding "/*!*/;" and a newline wrong; ' +
          'use the default (events)',
      );
    }
    if (applierKind === 'client') {
      throw new PitrError(
        'USAGE',
        'restore apply takes --applier events (default) or batch; pipe `mysql-pitr binlog fetch` output through ' +
          'mariadb-binlog into the target, or use `restore pitr --applier client`, for the client path',
      );
    }
    const target = parseRestoreTarget(readRestoreTarget(o));
    const store = openRepository(o, ctx.logger);
    const options = connectionOptions(endpoint, password);
    const conn = await connectMysql(options);
    try {
      const timeline = o.optionalString('timeline');
      const start =
        from ?? (await locateAfterGtids(store, await targetGtids(conn), { timeline, signal: ctx.signal }));
      const plan = await loadApplyPlan(store, start, target, { timeline, signal: ctx.signal });
      const json = o.boolean('json');
      const binlog = o.boolean('binlog');
      if (!json && !o.boolean('quiet')) ctx.stderr.write(formatApplyPlan(plan));
      await confirm(
        ctx,
        `${formatBytes(rangeBytes(plan))} of archived binlog (${plan.start.file}:${plan.start.position} .. ` +
          `${plan.stop.file}:${plan.stop.position}) will be applied to ${formatEndpoint(endpoint)}` +
          `${binlog ? ' with its binary log on' : ''}.`,
        o.boolean('yes'),
      );
      const progress = openProgress(ctx, { json });
      const report = await rollForward(plan, {
        store,
        target: conn,
        targetName: formatEndpoint(endpoint),
        binlog,
        applier:
          applierKind === 'batch'
            ? new BatchBinlogApplier(() => connectMysql(options), {
                binlog,
                binlogProgram: o.string('binlogProgram'),
                logger: progress.logger,
              })
            : new EventBinlogApplier(() => connectMysql(options), {
                binlog,
                gtids: !o.boolean('skipGtids'),
                logger: progress.logger,
              }),
        signal: ctx.signal,
        onProgress: progress.listener,
      }).finally(() => progress.close());
      ctx.stdout.write(json ? `${JSON.stringify({ plan, report }, null, 2)}\n` : formatReport(report));
    } finally {
      await conn.end().catch(() => undefined);
    }
  },
};
