import { backupSize, type BackupManifest } from '../catalog/index.js';
import { formatEndpoint } from '../config/index.js';
import { PitrError } from '../errors/index.js';
import {
  checkReplicaDelay,
  restoreReplica,
  selectBackup,
  type RestoreReplicaReport,
} from '../restore/index.js';
import type { CliCommand } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';
import { confirm } from './confirm.js';
import { openLoadTarget } from './load-target.js';
import { LOAD_THREADS_OPTION, NO_DEFER_KEYS_OPTION, readLoadThreads } from './load-threads-option.js';
import { formatBytes } from './format-bytes.js';
import { PROGRESS_OPTIONS } from './progress-options.js';
import { readServer, serverOptions } from './server-options.js';

function formatReport(r: RestoreReplicaReport, backup: BackupManifest): string {
  const s = r.status;
  const start = r.start.kind === 'gtid' ? `GTID ${r.start.gtid}` : `${r.start.file}:${r.start.position}`;
  return (
    [
      `replica built from backup ${r.backup}, replicating from ${r.primary} starting at ${start}`,
      `Slave_IO_Running ${s.ioRunning}, Slave_SQL_Running ${s.sqlRunning}`,
      `Seconds_Behind_Master ${s.secondsBehindSource ?? 'NULL'}`,
      `SQL_Delay ${s.sqlDelay}`,
      `load ${r.seconds.load.toFixed(1)} s: ${formatBytes(backupSize(backup).uncompressedSize)} of SQL ` +
        `(${formatBytes(backupSize(backup).size)} stored) at ` +
        `${formatBytes(Math.round(r.seconds.load > 0 ? backupSize(backup).uncompressedSize / r.seconds.load : 0))}/s`,
      ...r.warnings.map((w) => `warning: ${w}`),
    ].join('\n') + '\n'
  );
}

export const restoreReplicaCommand: CliCommand = {
  words: ['restore', 'replica'],
  summary: 'Rebuild a replica (optionally delayed) from a backup and attach it to the primary',
  usage:
    '--repo URL --target mysql://USER@HOST:PORT --primary mysql://REPL@HOST:PORT [--delay SECONDS] [--backup ID] [--yes] [--force] [--json] [--no-progress]',
  details: [
    'Loads the newest complete backup (or --backup ID) into the target with the session binary log off, then',
    'points the target at the primary from the backup coordinates: MariaDB SET GLOBAL gtid_slave_pos and',
    'CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos (file and position when the backup has no GTID), with',
    'MASTER_DELAY=SECONDS for a delayed replica; starts replication and waits until both threads run.',
    'A target that already holds user databases is refused unless --force. Asks for confirmation on a terminal;',
    'scripts pass --yes. The target password comes from MYSQL_PITR_TARGET_PASSWORD or --target-password-file,',
    "the replication user's from MYSQL_PITR_PRIMARY_PASSWORD or --primary-password-file. The primary's",
    'host:port must be reachable from the target as written.',
    '',
    'Progress of the dump load goes to stderr: a bar with rate and ETA on a terminal, a plain line every 5 s',
    'and at the end otherwise, {"progress":{...}} JSON lines with --json. --no-progress or --quiet turns it off.',
    '',
    'Exit code 6 when the primary no longer has the binlogs the backup needs (error 1236): take a new backup,',
    'or restore pitr from the archive and attach the target by hand.',
    '',
    'Example: mysql-pitr restore replica --repo s3://bucket/pitr/db1 --target mysql://admin@replica2:3306 \\',
    '           --primary mysql://repl@db1:3306 --delay 3600 --yes',
  ].join('\n'),
  options: [
    ...REPO_OPTIONS,
    ...serverOptions('target', 'Server to build the replica on'),
    ...serverOptions('primary', 'Primary to replicate from, as the target reaches it (a replication user)'),
    {
      key: 'delay',
      flag: 'delay',
      type: 'integer',
      env: false,
      valueName: 'SECONDS',
      description: 'Make a delayed replica: apply transactions SECONDS after the primary committed them',
    },
    {
      key: 'backup',
      flag: 'backup',
      type: 'string',
      env: false,
      valueName: 'ID',
      description: 'Backup to build from (default: the newest complete one)',
    },
    {
      key: 'force',
      flag: 'force',
      type: 'boolean',
      env: false,
      description: 'Load into a target that already holds user databases',
    },
    {
      key: 'yes',
      flag: 'yes',
      short: 'y',
      type: 'boolean',
      env: false,
      description: 'Do not ask for confirmation',
    },
    {
      key: 'wait',
      flag: 'wait',
      type: 'duration',
      default: 60_000,
      env: false,
      valueName: 'DURATION',
      description: 'How long to wait for both replication threads to run',
    },
    {
      key: 'clientProgram',
      flag: 'client-program',
      type: 'string',
      default: 'mariadb',
      valueName: 'PATH',
      description: 'SQL client used to load the dump',
    },
    {
      key: 'json',
      flag: 'json',
      type: 'boolean',
      env: false,
      description: 'Print the report as JSON (progress as JSON lines on stderr)',
    },
    LOAD_THREADS_OPTION,
    NO_DEFER_KEYS_OPTION,
    ...PROGRESS_OPTIONS,
  ],
  async run(ctx) {
    const o = ctx.options;
    const { endpoint, password } = readServer(o, 'target');
    const loadThreads = readLoadThreads(o);
    const { endpoint: primary, password: primaryPassword } = readServer(o, 'primary');
    if (primary.socket) {
      throw new PitrError(
        'USAGE',
        '--primary names a Unix socket; a replica connects over TCP: give mysql://REPL_USER@HOST:PORT as the target reaches it',
      );
    }
    const delaySetting = o.optionalNumber('delay');
    const delay = delaySetting === undefined ? undefined : checkReplicaDelay(delaySetting);
    const force = o.boolean('force');
    const store = openRepository(o, ctx.logger);
    const backup = await selectBackup(store, o.optionalString('backup') ?? 'latest');
    const targetName = formatEndpoint(endpoint);
    await confirm(
      ctx,
      `restore replica will load backup ${backup.id} into ${targetName}${force ? ' (over its existing databases: --force)' : ''} ` +
        `and make it a replica of ${formatEndpoint(primary)}${delay !== undefined ? ` delayed by ${delay} s` : ''}.`,
      o.boolean('yes'),
    );
    const t = await openLoadTarget(ctx, endpoint, password, loadThreads);
    try {
      const report = await restoreReplica(backup, {
        ...t.load,
        store,
        primary: {
          host: primary.host,
          port: primary.port,
          user: primary.user,
          password: primaryPassword,
          tls: primary.tls,
        },
        delaySeconds: delay,
        force,
        waitMs: o.number('wait'),
      });
      t.progress.close();
      ctx.stdout.write(
        o.boolean('json') ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, backup),
      );
    } finally {
      await t.close();
    }
  },
};
