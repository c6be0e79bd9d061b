import type { OptionSpec } from '../config/index.js';
import { readBackupCatalog, type BackupManifest } from '../catalog/index.js';
import type { Logger } from '../log/index.js';
import { openObjectStore, type ObjectStore } from '../storage/index.js';
import type { CliCommand, CommandContext } from './cli-command.js';

/**
 * Options naming the repository, shared by the backup commands. (Candidates for a shared
 * `repo-options.ts` once other commands need them.)
 */
export const REPO_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'repo',
    flag: 'repo',
    type: 'string',
    required: true,
    valueName: 'URL',
    description: 'Repository URL: file:///absolute/path or s3://bucket/prefix',
  },
  {
    key: 's3Endpoint',
    flag: 's3-endpoint',
    type: 'string',
    valueName: 'URL',
    description: 'Endpoint of an S3-compatible store (MinIO, an emulator); default: AWS',
  },
  {
    key: 'region',
    flag: 'region',
    type: 'string',
    env: 'AWS_REGION',
    description: 'S3 region (default: the AWS SDK chain)',
  },
];

/** Opens the repository named by REPO_OPTIONS in `values`. Credentials come from the AWS SDK chain. */
export function openRepository(values: CommandContext['config']['values'], logger: Logger): ObjectStore {
  const endpoint = values['s3Endpoint'] as string | undefined;
  const region = values['region'] as string | undefined;
  return openObjectStore(values['repo'] as string, {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    logger,
  });
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** One line of the text listing. */
export function formatBackupLine(m: BackupManifest): string {
  const gtid = m.gtidPosition ? `  gtid ${m.gtidPosition}` : '';
  const warn =
    m.warnings.length > 0 ? `  (${m.warnings.length} warning${m.warnings.length > 1 ? 's' : ''})` : '';
  return (
    `${m.id}  ${m.finishedAt}  ${m.source.flavor} ${m.source.address}  ` +
    `binlog ${m.binlog.file}:${m.binlog.position}${gtid}  ${formatBytes(m.dump.size)}${warn}`
  );
}

export const backupList: CliCommand = {
  words: ['backup', 'list'],
  summary: 'List the backups in a repository (newest last); incomplete ones separately',
  usage: '--repo URL [--json]',
  details:
    'A backup counts only when its manifest exists (the manifest is written last). Folders under backups/ ' +
    'without a valid manifest are failed, stopped or running dumps: they are listed as incomplete and never used.',
  options: [
    ...REPO_OPTIONS,
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const store = openRepository(ctx.config.values, ctx.logger);
    const catalog = await readBackupCatalog(store);
    if (ctx.config.values['json']) {
      const out = {
        backups: catalog.complete,
        incomplete: catalog.incomplete.map((i) => ({
          id: i.id,
          reason: i.reason,
          objects: i.objects.map((o) => ({
            key: o.key,
            size: o.size,
            lastModified: o.lastModified.toISOString(),
          })),
        })),
      };
      ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    if (catalog.complete.length === 0) ctx.stdout.write(`no complete backups in ${store.describe()}\n`);
    for (const m of catalog.complete) ctx.stdout.write(`${formatBackupLine(m)}\n`);
    if (catalog.incomplete.length > 0) {
      ctx.stdout.write(`\nincomplete (never used for a restore):\n`);
      for (const i of catalog.incomplete) {
        const size = i.objects.reduce((a, o) => a + o.size, 0);
        ctx.stdout.write(`${i.id}  ${formatBytes(size)}  ${i.reason}\n`);
      }
    }
  },
};
