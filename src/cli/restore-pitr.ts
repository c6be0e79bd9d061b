import { formatEndpoint } from '../config/index.js';
import { PitrError } from '../errors/index.js';
import { connectMysql, type MysqlEndpoint } from '../mysql/index.js';
import {
  BatchBinlogApplier,
  EventBinlogApplier,
  MariadbBinlogApplier,
  RESTORE_TARGET_HELP,
  executeRestore,
  openMysqlLoadSession,
  parseTableList,
  planApplyBytes,
  restoreTables,
  type RestorePlan,
  type RestoreReport,
} from '../restore/index.js';
import { APPLIER_OPTION, SKIP_GTIDS_OPTION, readApplierKind } from './applier-option.js';
import { confirm } from './confirm.js';
import { openLoadTarget } from './load-target.js';
import { LOAD_THREADS_OPTION, NO_DEFER_KEYS_OPTION, readLoadThreads } from './load-threads-option.js';
import { formatBytes } from './format-bytes.js';
import { PROGRESS_OPTIONS } from './progress-options.js';
import { readServer, serverOptions } from './server-options.js';
import type { CliCommand, CommandContext } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';
import { connectionOptions } from './archive.js';
import { RESTORE_TARGET_OPTIONS, formatPlan, planFromFlags } from './restore-plan.js';

const perSecond = (n: number, seconds: number): number => (seconds > 0 ? n / seconds : 0);

/** Where the time went: each step's seconds, bytes and rate. */
function formatTimings(plan: RestorePlan, r: RestoreReport): string[] {
  const { load, apply } = r.seconds;
  const applied = planApplyBytes(plan);
  const rate = (n: number, seconds: number): string => `${formatBytes(Math.round(perSecond(n, seconds)))}/s`;
  return [
    `load ${load.toFixed(1)} s, apply ${apply.toFixed(1)} s`,
    `  load   ${formatBytes(plan.bytes.dumpSql)} of SQL (${formatBytes(plan.bytes.dump)} stored) in ` +
      `${load.toFixed(1)} s: ${rate(plan.bytes.dumpSql, load)}`,
    `  apply  ${formatBytes(applied)} of binlog, ${r.transactionsApplied} trx in ${apply.toFixed(1)} s: ` +
      `${rate(applied, apply)}, ${Math.round(perSecond(r.transactionsApplied, apply))} trx/s ` +
      `(${formatBytes(plan.bytes.binlogStored)} downloaded meanwhile)`,
  ];
}

function formatReport(plan: RestorePlan, r: RestoreReport): string {
  const lines = [
    `restored backup ${r.backup} + ${r.transactionsApplied} transaction(s) up to ${r.stop.file}:${r.stop.position}`,
    `gtid position  ${r.gtidPosition ?? '(unknown)'}`,
    ...formatTimings(plan, r),
    'rows per table:',
    ...Object.entries(r.tables).map(([t, n]) => `  ${t}  ${n}`),
    ...r.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Flags of a whole restore that a table restore does not use, and why: `--tables` refuses them when
 * given on the command line instead of ignoring them. The same settings from the environment or a
 * config file are shared with whole restores and left alone.
 */
const NOT_WITH_TABLES: readonly { key: string; flag: string; why: string }[] = [
  {
    key: 'applier',
    flag: 'applier',
    why: "a table restore applies the listed tables' rows events itself (the events applier), there is no other",
  },
  {
    key: 'skipGtids',
    flag: 'skip-gtids',
    why: 'a table restore never sets GTIDs on the target (they are always left out)',
  },
  {
    key: 'clientProgram',
    flag: 'client-program',
    why: 'a table restore loads the tables through its own sessions, not through the SQL client',
  },
  {
    key: 'binlogProgram',
    flag: 'binlog-program',
    why: 'a table restore reads the archived events itself, it does not run mariadb-binlog',
  },
  {
    key: 'noDeferKeys',
    flag: 'no-defer-keys',
    why: 'a table restore creates each table with its keys, as the dump has them; it never defers them',
  },
];

/**
 * Refuses a flag `--tables` would ignore.
 *
 * @throws PitrError USAGE naming the flag and why
 */
function refuseWholeRestoreFlags(ctx: CommandContext): void {
  for (const { key, flag, why } of NOT_WITH_TABLES) {
    if (ctx.config.sources[key] !== 'flag') continue;
    throw new PitrError(
      'USAGE',
      `--${flag} does not go with --tables: ${why}. Drop --${flag}, or restore the whole backup without --tables`,
    );
  }
}

/** `restore pitr --tables`: only the listed tables, into `--into-schema` when given. */
async function restoreTablesFromFlags(
  ctx: CommandContext,
  plan: RestorePlan,
  endpoint: MysqlEndpoint,
  password: string | undefined,
): Promise<void> {
  const o = ctx.options;
  const tables = parseTableList(o.string('tables'));
  const into = o.optionalString('intoSchema');
  if (o.boolean('force')) {
    const names = tables.map((t) => `${into ?? t.database}.${t.table}`).join(', ');
    await confirm(
      ctx,
      `--force: ${names} on ${formatEndpoint(endpoint)} will be replaced if they exist.`,
      o.boolean('yes'),
    );
  }
  const options = connectionOptions(endpoint, password);
  const target = await connectMysql(options);
  try {
    const report = await restoreTables(plan, {
      store: openRepository(o, ctx.logger),
      target,
      targetName: formatEndpoint(endpoint),
      openLoadSession: () => openMysqlLoadSession(options),
      loadThreads: readLoadThreads(o),
      connect: () => connectMysql(options),
      tables,
      intoSchema: into,
      force: o.boolean('force'),
      binlog: o.boolean('binlog'),
      logger: ctx.logger,
      signal: ctx.signal,
    });
    for (const w of report.warnings) ctx.logger.warn(w);
    const lines = [
      `restored ${Object.entries(report.restored)
        .map(([a, b]) => (a === b ? a : `${a} as ${b}`))
        .join(', ')} ` +
        `from backup ${report.backup} + ${report.transactionsApplied} transaction(s) up to ${report.stop.file}:${report.stop.position}`,
      `load ${report.seconds.load.toFixed(1)} s, apply ${report.seconds.apply.toFixed(1)} s`,
      'rows per table:',
      ...Object.entries(report.rows).map(([t, n]) => `  ${t}  ${n}`),
      ...report.warnings.map((w) => `warning: ${w}`),
    ];
    ctx.stdout.write(
      o.boolean('json') ? `${JSON.stringify({ plan, report }, null, 2)}\n` : `${lines.join('\n')}\n`,
    );
  } finally {
    await target.end().catch(() => undefined);
  }
}

export const restorePitr: CliCommand = {
  words: ['restore', 'pitr'],
  summary: 'Restore a backup into a target server and apply archived binlogs up to a point in time',
  usage:
    '--repo URL --target mysql://USER@HOST:PORT (--to TIME|latest | --to-gtid G | --before-gtid G | --to-position F:P) [--tables DB.TBL[,...] [--into-schema NAME] [--binlog]] [--force] [--dry-run] [--json] [--no-progress]',
  details: [
    RESTORE_TARGET_HELP,
    '',
    'Plans as `restore plan` does, then loads the backup dump into the target with the session binary log off,',
    'and applies the archived binlogs from the backup position to the stop point, whole transactions per round trip.',
    'The default applier (--applier events) sends each statement as its exact bytes in the session context its event',
    'carries and row events as BINLOG statements built from the raw events; --applier client pipes mariadb-binlog',
    'into the SQL client (the fallback, e.g. for LOAD DATA events).',
    'A target that already holds user databases is refused unless --force. The password of the target user comes',
    'from MYSQL_PITR_TARGET_PASSWORD or --target-password-file. Ends with the GTID position, row counts and',
    'where the time went (load and apply seconds and rates).',
    '',
    'With --tables DB.TBL[,...] only those tables are restored, into --into-schema NAME when given, on any server',
    '(typically the live primary): the dump is streamed and only their CREATE TABLE and data are loaded, then only',
    "their rows events are applied, with no GTIDs set and the binary log off unless --binlog, so the target's binary",
    'log and GTID position stay as they were. Other databases are not touched; a listed table that already exists',
    'where it would be restored is refused unless --force. Foreign keys to tables not listed are warned about.',
    '--applier, --skip-gtids, --client-program, --binlog-program and --no-defer-keys do not apply to a table restore and are refused',
    'with --tables (--load-threads does: the rows parts of a split backup load on that many sessions).',
    '',
    'Progress goes to stderr: a bar per step (load, download, apply) with rate and ETA on a terminal, a plain',
    'line per step every 5 s and at its end otherwise, {"progress":{...}} JSON lines with --json (the report',
    'is JSON on stdout). --no-progress or --quiet turns it off; NO_COLOR turns off colours.',
    '',
    'Example: mysql-pitr restore pitr --repo s3://bucket/pitr/db1 --before-gtid 0-1-48213 --target mysql://admin@restore-host:3306',
  ].join('\n'),
  options: [
    ...REPO_OPTIONS,
    ...RESTORE_TARGET_OPTIONS,
    ...serverOptions('target', 'Server to restore into'),
    {
      key: 'force',
      flag: 'force',
      type: 'boolean',
      env: false,
      description: 'Load into a target that already holds user databases (asks first, unless --yes)',
    },
    {
      key: 'yes',
      flag: 'yes',
      short: 'y',
      type: 'boolean',
      env: false,
      description: 'Confirm destructive steps (--force) without asking; required off a terminal',
    },
    {
      key: 'clientProgram',
      flag: 'client-program',
      type: 'string',
      default: 'mariadb',
      valueName: 'PATH',
      description: 'SQL client used to load and apply',
    },
    {
      key: 'binlogProgram',
      flag: 'binlog-program',
      type: 'string',
      default: 'mariadb-binlog',
      valueName: 'PATH',
      description: 'Binlog decoder used by --applier client and batch',
    },
    APPLIER_OPTION,
    SKIP_GTIDS_OPTION,
    {
      key: 'tables',
      flag: 'tables',
      type: 'string',
      env: false,
      valueName: 'DB.TBL[,DB.TBL...]',
      description:
        'Restore only these tables (their dump data and rows events), GTIDs left out; other databases are untouched',
    },
    {
      key: 'intoSchema',
      flag: 'into-schema',
      type: 'string',
      env: false,
      valueName: 'NAME',
      description: 'With --tables: restore the tables into this schema instead of their own',
    },
    {
      key: 'binlog',
      flag: 'binlog',
      type: 'boolean',
      env: false,
      description: "With --tables: keep the target's binary log on for the writes (they replicate)",
    },
    {
      key: 'dryRun',
      flag: 'dry-run',
      type: 'boolean',
      env: false,
      description: 'Print the plan and stop; the target is not touched',
    },
    {
      key: 'json',
      flag: 'json',
      type: 'boolean',
      env: false,
      description: 'Print the plan and report as JSON (progress as JSON lines on stderr)',
    },
    LOAD_THREADS_OPTION,
    NO_DEFER_KEYS_OPTION,
    ...PROGRESS_OPTIONS,
  ],
  async run(ctx) {
    const o = ctx.options;
    if (o.optionalString('tables') !== undefined) refuseWholeRestoreFlags(ctx);
    const { endpoint, password } = readServer(o, 'target');
    const loadThreads = readLoadThreads(o);
    const applierKind = readApplierKind(o);
    if (applierKind === 'batch') {
      ctx.logger.warn(
        '--applier batch re-splits mariadb-binlog text and restores strings holding "/*!*/;" and a newline wrong; ' +
          'use the default (events) or --applier client',
      );
    }
    const plan = await planFromFlags(ctx);
    const json = o.boolean('json');
    if (o.boolean('dryRun')) {
      ctx.stdout.write(json ? `${JSON.stringify({ plan }, null, 2)}\n` : formatPlan(plan));
      return;
    }
    if (!json && !o.boolean('quiet')) ctx.stderr.write(formatPlan(plan));
    if (o.optionalString('tables') !== undefined) {
      await restoreTablesFromFlags(ctx, plan, endpoint, password);
      return;
    }
    if (o.optionalString('intoSchema') !== undefined || o.boolean('binlog')) {
      throw new PitrError('USAGE', '--into-schema and --binlog go with --tables DB.TBL[,...]');
    }
    if (o.boolean('force')) {
      await confirm(
        ctx,
        `--force: backup ${plan.backup.id} will be loaded into ${formatEndpoint(endpoint)} over the databases it already holds.`,
        o.boolean('yes'),
      );
    }
    const store = openRepository(o, ctx.logger);
    const t = await openLoadTarget(ctx, endpoint, password, loadThreads);
    try {
      const report = await executeRestore(plan, {
        ...t.load,
        store,
        applier:
          applierKind === 'client'
            ? new MariadbBinlogApplier(t.load.client, t.progress.logger, o.string('binlogProgram'))
            : applierKind === 'batch'
              ? new BatchBinlogApplier(() => connectMysql(connectionOptions(endpoint, password)), {
                  binlogProgram: o.string('binlogProgram'),
                  logger: t.progress.logger,
                })
              : new EventBinlogApplier(() => connectMysql(connectionOptions(endpoint, password)), {
                  gtids: !o.boolean('skipGtids'),
                  logger: t.progress.logger,
                }),
        force: o.boolean('force'),
      });
      t.progress.close();
      ctx.stdout.write(json ? `${JSON.stringify({ plan, report }, null, 2)}\n` : formatReport(plan, report));
    } finally {
      await t.close();
    }
  },
};
