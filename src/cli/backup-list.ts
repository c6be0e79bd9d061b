import { backupSize, readBackupCatalog, type BackupManifest } from '../catalog/index.js';
import type { CliCommand } from './cli-command.js';
import { formatBytes } from './format-bytes.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

/** One line of the text listing. */
export function formatBackupLine(m: BackupManifest): string {
  const gtid = m.gtidPosition ? `  gtid ${m.gtidPosition}` : '';
  const warn =
    m.warnings.length > 0 ? `  (${m.warnings.length} warning${m.warnings.length > 1 ? 's' : ''})` : '';
  return (
    `${m.id}  ${m.finishedAt}  ${m.source.flavor} ${m.source.address}  ` +
    `binlog ${m.binlog.file}:${m.binlog.position}${gtid}  ${formatBytes(backupSize(m).size)}${warn}`
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
    const store = openRepository(ctx.options, ctx.logger);
    const catalog = await readBackupCatalog(store);
    if (ctx.options.boolean('json')) {
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
