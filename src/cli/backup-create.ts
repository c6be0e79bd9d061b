import { createBackup, type BackupProgress } from '../backup/index.js';
import { parseByteSize } from './archive.js';
import { readServer, serverOptions } from './server-options.js';
import type { CliCommand, CommandContext } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}

/** A progress reporter: a rewritten line on a terminal, a log line every 30 s otherwise. */
function progressReporter(ctx: CommandContext): { report: (p: BackupProgress) => void; done: () => void } {
  if (ctx.stderr.isTTY) {
    let shown = false;
    return {
      report(p) {
        const rate = p.elapsedMs > 0 ? p.sqlBytes / 1048576 / (p.elapsedMs / 1000) : 0;
        ctx.stderr.write(
          `\r${mib(p.sqlBytes)} MiB SQL -> ${mib(p.storedBytes)} MiB stored, ${rate.toFixed(1)} MiB/s, ` +
            `${Math.round(p.elapsedMs / 1000)} s   `,
        );
        shown = true;
      },
      done() {
        if (shown) ctx.stderr.write('\n');
      },
    };
  }
  let last = 0;
  return {
    report(p) {
      if (p.elapsedMs - last < 30_000) return;
      last = p.elapsedMs;
      ctx.logger.info('dump progress', {
        sqlBytes: p.sqlBytes,
        storedBytes: p.storedBytes,
        mibPerSecond: Number((p.sqlBytes / 1048576 / (p.elapsedMs / 1000)).toFixed(1)),
      });
    },
    done() {},
  };
}

export const backupCreate: CliCommand = {
  words: ['backup', 'create'],
  summary: 'Take a consistent logical dump (mariadb-dump/mysqldump) into the repository',
  usage:
    '--source mysql://USER@HOST:PORT --repo URL [--databases a,b] [--single-file] [--chunk-size 64MiB] [--dump-extra-args=--opt] [--json]',
  details: [
    'Runs mariadb-dump (MariaDB) or mysqldump (MySQL) with --single-transaction, --master-data=2 or',
    '--source-data=2 (and --gtid on MariaDB), --routines --events --triggers --hex-blob, and stores',
    'its output as a split backup: one zstd object per table schema, per chunk of its rows (--chunk-size',
    'of SQL each) and per set of triggers, views, routines and events, under backups/<id>/parts/, so a',
    'restore loads tables in parallel and a table restore fetches one table alone. --single-file stores',
    'one object, backups/<id>/dump.sql.zst, instead. The manifest (backups/<id>/manifest.json) is',
    'written last, with the binlog file, position and GTID position of the snapshot; a dump that fails',
    'or is killed leaves no manifest and its data objects are removed.',
    '',
    'The password comes from MYSQL_PITR_SOURCE_PASSWORD or --source-password-file and reaches the dump',
    'tool through a temporary 0600 defaults file, never argv. The user needs SELECT, SHOW VIEW, TRIGGER,',
    'EVENT, LOCK TABLES, RELOAD (for --master-data) and BINLOG MONITOR / REPLICATION CLIENT.',
    '',
    'Example: MYSQL_PITR_SOURCE_PASSWORD=... mysql-pitr backup create --source mysql://backup@db1:3306 \\',
    '           --repo s3://bucket/pitr/db1',
  ].join('\n'),
  options: [
    ...serverOptions('source', 'Source server'),
    ...REPO_OPTIONS,
    {
      key: 'databases',
      flag: 'databases',
      type: 'list',
      valueName: 'A,B',
      description: 'Dump only these schemas (default: all)',
    },
    {
      key: 'dumpExtraArgs',
      flag: 'dump-extra-args',
      type: 'list',
      valueName: 'ARGS',
      description: 'Extra dump tool flags, comma-separated or repeated (write --dump-extra-args=--flag)',
    },
    {
      key: 'dumpProgram',
      flag: 'dump-program',
      type: 'string',
      valueName: 'PATH',
      description: 'Path of mariadb-dump/mysqldump (default: found on PATH by the source flavour)',
    },
    {
      key: 'compressionLevel',
      flag: 'compression-level',
      type: 'integer',
      default: 3,
      description: 'zstd level of the stored dump',
    },
    {
      key: 'singleFile',
      flag: 'single-file',
      type: 'boolean',
      description:
        'Store the dump as one object (dump.sql.zst, manifest format 1) instead of parts per table',
    },
    {
      key: 'chunkSize',
      flag: 'chunk-size',
      type: 'string',
      default: '64MiB',
      valueName: 'SIZE',
      description: 'Split backups: SQL per rows part of a table before the next chunk starts',
    },
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print the manifest as JSON' },
  ],
  async run(ctx) {
    const o = ctx.options;
    const { endpoint, password } = readServer(o, 'source');
    const store = openRepository(o, ctx.logger);
    const dumpProgram = o.optionalString('dumpProgram');
    const progress = progressReporter(ctx);
    let manifest;
    try {
      manifest = await createBackup({
        source: { ...endpoint, ...(password !== undefined ? { password } : {}) },
        store,
        databases: o.list('databases'),
        dumpExtraArgs: o.list('dumpExtraArgs'),
        ...(dumpProgram ? { dumpProgram } : {}),
        searchPath: ctx.env['PATH'] ?? '/usr/bin:/bin',
        env: ctx.env,
        compressionLevel: o.number('compressionLevel'),
        singleFile: o.boolean('singleFile'),
        chunkBytes: parseByteSize(o.string('chunkSize'), '--chunk-size'),
        logger: ctx.logger,
        signal: ctx.signal,
        onProgress: progress.report,
      });
    } finally {
      progress.done();
    }
    if (o.boolean('json')) ctx.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    else ctx.stdout.write(`${manifest.id}\n`);
  },
};
