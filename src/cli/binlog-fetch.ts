import { fetchArchivedBinlogs } from '../maintenance/index.js';
import { ConfigError } from '../config/index.js';
import type { CliCommand } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

export const binlogFetch: CliCommand = {
  words: ['binlog', 'fetch'],
  summary: 'Write archived binlogs as plain files, byte-identical to the source, checksums verified',
  usage: '(--all | --file NAME...) --dest DIR --repo URL [--timeline T]',
  details:
    'Each file is rebuilt from its segments, each verified against its SHA-256, and appears under its name ' +
    'only when complete. A damaged segment fails with exit code 5 naming the object; a missing range with 6. ' +
    "The copy of the source's active file differs from the source's only in the in-use flag of its first event. " +
    'mysqlbinlog / mariadb-binlog read the result.',
  options: [
    ...REPO_OPTIONS,
    { key: 'all', flag: 'all', type: 'boolean', env: false, description: 'Every file of the timeline' },
    {
      key: 'file',
      flag: 'file',
      type: 'list',
      env: false,
      valueName: 'NAME',
      description: 'These files (repeat or comma-separate)',
    },
    {
      key: 'dest',
      flag: 'dest',
      type: 'string',
      required: true,
      valueName: 'DIR',
      description: 'Directory to write to',
    },
    {
      key: 'timeline',
      flag: 'timeline',
      type: 'string',
      valueName: 'T',
      description: 'Timeline (default: the newest)',
    },
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const o = ctx.options;
    const files = o.list('file');
    const all = o.boolean('all');
    if (!all && files.length === 0) throw new ConfigError('say which binlogs: --all or --file NAME');
    if (all && files.length > 0) throw new ConfigError('--all and --file exclude each other');
    const store = openRepository(o, ctx.logger);
    const timeline = o.optionalString('timeline');
    const fetched = await fetchArchivedBinlogs({
      store,
      dest: o.string('dest'),
      ...(timeline ? { timeline } : {}),
      ...(files.length ? { files } : {}),
      logger: ctx.logger,
    });
    if (o.boolean('json')) {
      ctx.stdout.write(`${JSON.stringify(fetched, null, 2)}\n`);
      return;
    }
    for (const f of fetched)
      ctx.stdout.write(`${f.path}  ${f.size} bytes  ${f.segments} segments${f.closed ? '' : '  (open)'}\n`);
  },
};
