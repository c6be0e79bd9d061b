import { formatEndpoint } from '../config/index.js';
import { restoreBackup, selectBackup, type RestoreBackupReport } from '../restore/index.js';
import type { CliCommand } from './cli-command.js';
import { confirm } from './confirm.js';
import { openLoadTarget } from './load-target.js';
import { LOAD_THREADS_OPTION, NO_DEFER_KEYS_OPTION, readLoadThreads } from './load-threads-option.js';
import { PROGRESS_OPTIONS } from './progress-options.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';
import { readServer, serverOptions } from './server-options.js';

function formatReport(r: RestoreBackupReport): string {
  const lines = [
    `restored backup ${r.backup} (${r.loadThreads} load session(s), ${r.seconds.load.toFixed(1)} s)`,
    `binlog position  ${r.binlog.file}:${r.binlog.position}`,
    `gtid position    ${r.gtidPosition ?? '(none)'}`,
    ...(r.server ? [`gtid_slave_pos   ${r.server.gtidSlavePos || '(empty)'}`] : []),
    'rows per table:',
    ...Object.entries(r.tables).map(([t, n]) => `  ${t}  ${n}`),
    ...r.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}

export const restoreBackupCommand: CliCommand = {
  words: ['restore', 'backup'],
  summary: 'Load one backup into a target server (no binlog apply), in parallel sessions',
  usage:
    '--repo URL --backup ID|latest --target mysql://USER@HOST:PORT [--load-threads N] [--yes] [--force] [--json]',
  details: [
    "Loads the backup's dump into the target with the session binary log off: --load-threads tables at once,",
    'each on its own session, which reads its own copy of the stored dump; the first session also runs the',
    'schema (databases, views, routines, triggers, events) in dump order, waiting for the data before it.',
    'The stored dump is checked against its manifest (size, SHA-256); a mismatch is found at the end, when',
    "the target is already loaded. On MariaDB, gtid_slave_pos is then set to the backup's GTID position.",
    'Ends with the binlog and GTID position and row counts per table.',
    'A target that already holds user databases is refused unless --force (asks first, unless --yes).',
    'The password of the target user comes from MYSQL_PITR_TARGET_PASSWORD or --target-password-file.',
    '',
    'Example: mysql-pitr restore backup --repo s3://bucket/pitr/db1 --backup latest --target mysql://admin@restore-host:3306',
  ].join('\n'),
  options: [
    ...REPO_OPTIONS,
    ...serverOptions('target', 'Server to restore into'),
    {
      key: 'backup',
      flag: 'backup',
      type: 'string',
      env: false,
      default: 'latest',
      valueName: 'ID',
      description: 'Backup to load, or latest (the newest complete one)',
    },
    LOAD_THREADS_OPTION,
    NO_DEFER_KEYS_OPTION,
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
      key: 'json',
      flag: 'json',
      type: 'boolean',
      env: false,
      description: 'Print the report as JSON (progress as JSON lines on stderr)',
    },
    ...PROGRESS_OPTIONS,
  ],
  async run(ctx) {
    const o = ctx.options;
    const { endpoint, password } = readServer(o, 'target');
    const threads = readLoadThreads(o);
    const store = openRepository(o, ctx.logger);
    const backup = await selectBackup(store, o.string('backup'));
    const targetName = formatEndpoint(endpoint);
    const force = o.boolean('force');
    if (force) {
      await confirm(
        ctx,
        `--force: backup ${backup.id} will be loaded into ${targetName} over the databases it already holds.`,
        o.boolean('yes'),
      );
    }
    const t = await openLoadTarget(ctx, endpoint, password, threads);
    try {
      const report = await restoreBackup(backup, { ...t.load, store, force });
      t.progress.close();
      ctx.stdout.write(o.boolean('json') ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    } finally {
      await t.close();
    }
  },
};
