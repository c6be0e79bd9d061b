import { backupManifestKey, backupObjects, isBackupId, readBackupManifest } from '../catalog/index.js';
import { ConfigError } from '../config/index.js';
import { isPitrError } from '../errors/index.js';
import type { CliCommand } from './cli-command.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';
import { StorageError } from '../storage/index.js';

export const backupShow: CliCommand = {
  words: ['backup', 'show'],
  summary: 'Show the manifest of one backup',
  usage: 'ID --repo URL [--json]',
  details: 'ID is a backup id as `backup list` prints it, e.g. 20261125T193000123Z-1a2b3c.',
  options: [
    ...REPO_OPTIONS,
    { key: 'json', flag: 'json', type: 'boolean', env: false, description: 'Print JSON' },
  ],
  async run(ctx) {
    const [id, ...extra] = ctx.config.positionals;
    if (!id || extra.length > 0)
      throw new ConfigError('give exactly one backup id (see `mysql-pitr backup list`)');
    if (!isBackupId(id))
      throw new ConfigError(`"${id}" is not a backup id (e.g. 20261125T193000123Z-1a2b3c)`);
    const store = openRepository(ctx.options, ctx.logger);
    let m;
    try {
      m = await readBackupManifest(store, id);
    } catch (err) {
      if (isPitrError(err, 'OBJECT_NOT_FOUND')) {
        throw new StorageError(
          'OBJECT_NOT_FOUND',
          `backup ${id} has no manifest in ${store.describe()}: it does not exist or is incomplete ` +
            '(a failed or running dump). Run `mysql-pitr backup list` to see the backups.',
          { store: store.describe(), key: backupManifestKey(id) },
          { cause: err },
        );
      }
      throw err;
    }
    if (ctx.options.boolean('json')) {
      ctx.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
      return;
    }
    const lines = [
      `backup        ${m.id}`,
      `timeline      ${m.timeline}`,
      `source        ${m.source.flavor} ${m.source.version} at ${m.source.address}, server_id ${m.source.serverId}` +
        (m.source.serverUuid ? `, server_uuid ${m.source.serverUuid}` : '') +
        (m.source.gtidDomainId !== undefined ? `, gtid_domain_id ${m.source.gtidDomainId}` : ''),
      `started       ${m.startedAt}`,
      `finished      ${m.finishedAt}`,
      `binlog        ${m.binlog.file}:${m.binlog.position}`,
      `gtid          ${m.gtidPosition ?? '(none)'}`,
      `databases     ${m.databases ? m.databases.join(', ') : '(all)'}`,
      ...backupObjects(m).map(
        (o) =>
          `${m.dump ? 'dump ' : 'part '}         ${o.key}: ${o.size} bytes zstd (sha256 ${o.sha256}), ` +
          `${o.uncompressedSize} bytes SQL` +
          (o.uncompressedSha256 !== undefined ? ` (sha256 ${o.uncompressedSha256})` : ''),
      ),
      `tool          ${m.tool.path} ${m.tool.args.join(' ')}`,
      ...(m.tool.version ? [`tool version  ${m.tool.version}`] : []),
      ...m.warnings.map((w) => `warning       ${w}`),
    ];
    ctx.stdout.write(`${lines.join('\n')}\n`);
  },
};
