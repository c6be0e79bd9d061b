import { archiveBinlogs, DEFAULT_FLUSH_INTERVAL_MS } from '../archiver/index.js';
import { CompactAfterClose, DEFAULT_COMPACT_AFTER_MS } from '../maintenance/index.js';
import { ConfigError, formatEndpoint, parseMysqlUrl, splitMysqlUrls } from '../config/index.js';
import type { MysqlConnectionOptions, MysqlEndpoint } from '../mysql/index.js';
import { readServer, serverOptions } from './server-options.js';
import type { CliCommand } from './cli-command.js';
import { METRICS_CHOICES, METRICS_OPTION, chooseMetricsFormat, metricsSink } from './metrics-option.js';
import { REPO_OPTIONS, openRepository } from './repo-options.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * `64MiB`, `512k`, `1048576` -> bytes (binary units).
 *
 * @throws ConfigError for anything else
 */
export function parseByteSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new ConfigError(`${what} "${text}" is not a size such as 64MiB, 512KiB or 1048576`);
  return Math.round(Number(m[1]) * unit);
}

/** mysql2 connection options for an endpoint and its password. */
export function connectionOptions(e: MysqlEndpoint, password: string | undefined): MysqlConnectionOptions {
  return {
    user: e.user,
    ...(e.socket ? { socketPath: e.socket } : { host: e.host, port: e.port }),
    ...(password !== undefined ? { password } : {}),
    ...(e.tls ? { tls: e.tls } : {}),
  };
}

export const archive: CliCommand = {
  words: ['archive'],
  summary: 'Stream the source binlogs into the repository as they are written (or until caught up)',
  usage:
    '--source mysql://USER@HOST:PORT[,HOST2:PORT...] --repo URL [--until-caught-up] [--flush-interval 400ms] [--segment-size 64MiB]',
  details: [
    'Connects to the source as a replica and stores its binlogs as zstd segments of binlogs/<timeline>/<file>/,',
    'each flushed at most --flush-interval after its first transaction committed (at once when the stream goes',
    'idle, but never more than one flush per interval), at --segment-size, and at',
    'every rotation. Kill it at any moment: it resumes exactly after the last stored segment. Only one archiver',
    'may write to a repository (locks/archiver.json); a second one exits with code 7. SIGTERM flushes and exits 0.',
    '',
    'With several servers (--source mysql://repl@db1:3306,db2:3306) it streams from the primary (read_only off,',
    'not replicating, newest GTIDs) and, after a failover or switchover, continues on the new primary from the',
    'file holding the first transaction it has not archived, on a new timeline that records the fork GTID.',
    '',
    'The user needs REPLICATION SLAVE and BINLOG MONITOR (MariaDB) or REPLICATION CLIENT (MySQL). The password',
    'comes from MYSQL_PITR_SOURCE_PASSWORD or --source-password-file. Each flush reports ArchiveLagSeconds,',
    'ArchivedBytes and Segments: as a CloudWatch Embedded Metric Format line on stderr inside Lambda or ECS',
    '(or with --metrics emf), as a log line elsewhere.',
    '',
    'Example: MYSQL_PITR_SOURCE_PASSWORD=... mysql-pitr archive --source mysql://repl@db1:3306 --repo s3://bucket/pitr/db1',
  ].join('\n'),
  options: [
    ...serverOptions('source', 'Source server'),
    ...REPO_OPTIONS,
    METRICS_OPTION,
    {
      key: 'untilCaughtUp',
      flag: 'until-caught-up',
      type: 'boolean',
      description: 'Exit 0 once everything the source had at start is stored',
    },
    {
      key: 'flushInterval',
      flag: 'flush-interval',
      type: 'duration',
      default: DEFAULT_FLUSH_INTERVAL_MS,
      description: 'Store a segment at most this long after its first transaction (RPO)',
    },
    {
      key: 'segmentSize',
      flag: 'segment-size',
      type: 'string',
      default: '64MiB',
      valueName: 'SIZE',
      description: 'Largest segment before a flush (uncompressed)',
    },
    {
      key: 'serverId',
      flag: 'server-id',
      type: 'integer',
      description: 'Replica server_id to register with (default 1346981970); unique per source',
    },
    {
      key: 'rotateInterval',
      flag: 'rotate-interval',
      type: 'duration',
      default: 0,
      description:
        'Run FLUSH BINARY LOGS on the source this often while it is written to (needs RELOAD); 0: never',
    },
    {
      key: 'purgeSource',
      flag: 'purge-source',
      type: 'boolean',
      description:
        'Purge source binlogs once archived (PURGE BINARY LOGS TO; needs BINLOG ADMIN). Off by default',
    },
    {
      key: 'purgeKeep',
      flag: 'purge-keep',
      type: 'integer',
      default: 2,
      description: 'With --purge-source: archived files to keep on the source',
    },
    {
      key: 'compressionLevel',
      flag: 'compression-level',
      type: 'integer',
      default: 1,
      description: 'zstd level of the segments',
    },
    {
      key: 'cluster',
      flag: 'cluster',
      type: 'string',
      valueName: 'NAME',
      description: 'Cluster name added to metric lines as the Cluster dimension (set by the CDK deployment)',
    },
    {
      key: 'heartbeatPeriod',
      flag: 'heartbeat-period',
      type: 'duration',
      default: 30_000,
      description:
        'Source heartbeat period; no event and no heartbeat for twice this long drops the connection and reconnects',
    },
    {
      key: 'compactAfter',
      flag: 'compact-after',
      type: 'duration',
      default: DEFAULT_COMPACT_AFTER_MS,
      description:
        'Compact closed binlog files (as `binlog compact --older-than`) this long after a file closes; 0: never',
    },
    {
      key: 'leaseTtl',
      flag: 'lease-ttl',
      type: 'duration',
      default: 60_000,
      description: 'How long the repository lease lasts without renewal',
    },
  ],
  async run(ctx) {
    const o = ctx.options;
    const serverId = o.optionalNumber('serverId');
    const cluster = o.optionalString('cluster');
    // several servers of one topology: the archiver streams from the primary among them
    const urls = splitMysqlUrls(o.string('source'), '--source');
    const { endpoint, password } = readServer(o, 'source', urls[0]);
    const candidates =
      urls.length > 1
        ? urls.map((u) => {
            const e = parseMysqlUrl(u, '--source');
            return { source: connectionOptions(e, password), address: formatEndpoint(e) };
          })
        : undefined;
    const segmentSize = parseByteSize(o.string('segmentSize'), '--segment-size');
    if (segmentSize < 4096)
      throw new ConfigError(`--segment-size ${segmentSize} is too small; use at least 4KiB`);
    const store = openRepository(o, ctx.logger);
    const metrics = metricsSink(
      chooseMetricsFormat(o.choice('metrics', METRICS_CHOICES), ctx.env),
      ctx.stderr,
      ctx.logger,
    );
    const result = await archiveBinlogs({
      source: connectionOptions(endpoint, password),
      sourceAddress: candidates ? candidates.map((c) => c.address).join(',') : formatEndpoint(endpoint),
      ...(candidates ? { candidates } : {}),
      store,
      ...(serverId !== undefined ? { serverId } : {}),
      flushIntervalMs: o.number('flushInterval'),
      segmentSize,
      compressionLevel: o.number('compressionLevel'),
      untilCaughtUp: o.boolean('untilCaughtUp'),
      leaseTtlMs: o.number('leaseTtl'),
      afterStore: (ctx) => new CompactAfterClose({ ...ctx, delayMs: o.number('compactAfter') }),
      heartbeatPeriodMs: o.number('heartbeatPeriod'),
      rotateIntervalMs: o.number('rotateInterval'),
      ...(o.boolean('purgeSource') ? { purgeSourceKeep: o.number('purgeKeep') } : {}),
      logger: ctx.logger,
      signal: ctx.signal,
      ...(metrics ? { metrics } : {}),
      ...(cluster !== undefined ? { cluster } : {}),
    });
    const where = result.file
      ? `${result.file}:${result.position} on timeline ${result.timeline}`
      : 'nothing yet';
    ctx.logger.info(result.stopped ? 'archiver stopped' : 'archive caught up', {
      timeline: result.timeline,
      file: result.file,
      position: result.position,
      segments: result.segments,
      bytes: result.bytes,
    });
    ctx.stdout.write(
      `archived up to ${where} (${result.segments} segments, ${result.bytes} bytes this run)\n`,
    );
  },
};
