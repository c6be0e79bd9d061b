import { ConfigError } from '../config/config-error.js';
import {
  FLAVOURS,
  JOB_KINDS,
  clusterRepositoryUrl,
  clusterSourceUrl,
  type ClusterConfig,
  type Flavour,
  type JobKind,
  type RepositoryConfig,
  type WorkerKind,
} from '../config/deployment-config.js';
import type { JobMessage } from './job-message.js';

/**
 * Environment variable of a job worker holding its clusters' settings (JSON array of
 * ClusterJobSettings), set by the CDK app: every cluster for the shared Lambda worker, only its
 * own cluster for a cluster's Fargate job task definition.
 */
export const JOB_CLUSTERS_ENV = 'MYSQL_PITR_JOB_CLUSTERS';

/**
 * Where the Dockerfile puts the CA bundle that MySQL connections of the deployment trust (the RDS
 * global bundle, plus any CA added at image build time); see docs/deployment.md.
 */
export const IMAGE_CA_BUNDLE = '/app/certs/mysql-ca.pem';

/** What a worker needs to run any job of one cluster: all of it from the deployment config, none from the message. */
export interface ClusterJobSettings {
  readonly cluster: string;
  /** The job kinds this worker runs for the cluster (those its `workers` config gives this worker kind). */
  readonly kinds: readonly JobKind[];
  /** `s3://bucket/prefix/cluster/`. */
  readonly repository: string;
  readonly source: {
    /** `mysql://user@host:port/` (or `mariadb://`), never with a password. */
    readonly url: string;
    readonly flavour: Flavour;
  };
  /** Where the source password is: a Secrets Manager secret (name or ARN) and the JSON key inside it. */
  readonly credentials: { readonly secret: string; readonly passwordKey: string };
  readonly retention: { readonly keepDays: number; readonly keepBackups: number };
  /** TLS to the source, as `--tls-mode` / `--tls-ca`. */
  readonly tls: { readonly mode: string; readonly caFile?: string };
}

/** A job message with its cluster's settings: what runJob and the job functions get. */
export type ResolvedJob = JobMessage & Omit<ClusterJobSettings, 'cluster' | 'kinds'>;

/**
 * The settings of every cluster of a deployment that runs at least one job kind on `worker`
 * (every cluster when omitted), with the kinds it runs there (pure). TLS: `verify-identity`
 * against IMAGE_CA_BUNDLE when the cluster's `source.tls` is on (the default), else `preferred`.
 */
export function clusterJobSettings(
  config: {
    readonly clusters: readonly ClusterConfig[];
    readonly repository: Pick<RepositoryConfig, 'prefix'>;
  },
  repositoryBucket: string,
  worker?: WorkerKind,
): ClusterJobSettings[] {
  const kindsOf = (c: ClusterConfig): JobKind[] =>
    JOB_KINDS.filter((k) => worker === undefined || c.workers[k] === worker);
  return config.clusters
    .filter((c) => kindsOf(c).length > 0)
    .map((c) => ({
      cluster: c.name,
      kinds: kindsOf(c),
      repository: clusterRepositoryUrl(repositoryBucket, config.repository, c.name),
      source: { url: clusterSourceUrl(c), flavour: c.flavour },
      credentials: { secret: c.credentials.secret, passwordKey: c.credentials.passwordKey },
      retention: { keepDays: c.retention.keepDays, keepBackups: c.retention.keepBackups },
      tls: c.source.tls ? { mode: 'verify-identity', caFile: IMAGE_CA_BUNDLE } : { mode: 'preferred' },
    }));
}

/**
 * Parses JOB_CLUSTERS_ENV into a map by cluster name.
 *
 * @throws ConfigError when it is missing or malformed: the worker's deployment is broken, redeploy it
 */
export function parseClusterJobSettings(text: string | undefined): ReadonlyMap<string, ClusterJobSettings> {
  const broken = (why: string): never => {
    throw new ConfigError(
      `${JOB_CLUSTERS_ENV} ${why}; the CDK app sets it on every job worker: redeploy the stack`,
    );
  };
  if (text === undefined || text === '') return broken('is not set');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return broken('is not JSON');
  }
  if (!Array.isArray(data)) return broken('is not a JSON array');
  const out = new Map<string, ClusterJobSettings>();
  for (const [i, item] of (data as unknown[]).entries()) {
    const o = item as Record<string, Record<string, unknown> | undefined> | null;
    const s = (v: unknown, what: string): string =>
      typeof v === 'string' && v !== '' ? v : broken(`entry ${i}: ${what} must be a non-empty string`);
    const n = (v: unknown, what: string): number =>
      typeof v === 'number' && Number.isInteger(v) && v > 0
        ? v
        : broken(`entry ${i}: ${what} must be a positive whole number`);
    if (typeof o !== 'object' || o === null) return broken(`entry ${i} is not an object`);
    const cluster = s(o['cluster'], 'cluster');
    const flavour = s(o['source']?.['flavour'], 'source.flavour');
    if (!(FLAVOURS as readonly string[]).includes(flavour))
      broken(`entry ${i}: source.flavour ${flavour} is not mariadb or mysql`);
    const caFile = o['tls']?.['caFile'];
    const kinds = (o as Record<string, unknown>)['kinds'];
    if (!Array.isArray(kinds) || !kinds.every((k) => (JOB_KINDS as readonly unknown[]).includes(k)))
      broken(`entry ${i}: kinds must be a list of ${JOB_KINDS.join(', ')}`);
    out.set(
      cluster,
      Object.freeze({
        cluster,
        kinds: kinds as JobKind[],
        repository: s(o['repository'], 'repository'),
        source: { url: s(o['source']?.['url'], 'source.url'), flavour: flavour as Flavour },
        credentials: {
          secret: s(o['credentials']?.['secret'], 'credentials.secret'),
          passwordKey: s(o['credentials']?.['passwordKey'], 'credentials.passwordKey'),
        },
        retention: {
          keepDays: n(o['retention']?.['keepDays'], 'retention.keepDays'),
          keepBackups: n(o['retention']?.['keepBackups'], 'retention.keepBackups'),
        },
        tls: {
          mode: s(o['tls']?.['mode'], 'tls.mode'),
          ...(caFile !== undefined ? { caFile: s(caFile, 'tls.caFile') } : {}),
        },
      }),
    );
  }
  return out;
}

/**
 * The job with its cluster's settings.
 *
 * @throws ConfigError for a cluster this worker does not serve (the message was not sent by this
 *   deployment's dispatcher, or names a cluster removed from it), or a job kind it does not run
 *   for that cluster: nothing is run
 */
export function resolveJob(
  message: JobMessage,
  clusters: ReadonlyMap<string, ClusterJobSettings>,
): ResolvedJob {
  const settings = clusters.get(message.cluster);
  if (!settings) {
    throw new ConfigError(
      `job for unknown cluster '${message.cluster}': this worker serves ${[...clusters.keys()].join(', ') || 'no cluster'}. ` +
        'Nothing was run; the message goes to the dead-letter queue. A removed cluster leaves such messages ' +
        'until the queue drains; otherwise someone sent it who should not have sqs:SendMessage on the queue',
    );
  }
  if (!settings.kinds.includes(message.kind)) {
    throw new ConfigError(
      `job '${message.kind}' for cluster '${message.cluster}' does not run on this worker (it runs ` +
        `${settings.kinds.join(', ')} for that cluster; see workers.${message.kind} in the deployment config). ` +
        'Nothing was run; the message goes to the dead-letter queue',
    );
  }
  const { cluster: _name, kinds: _kinds, ...rest } = settings;
  return Object.freeze({ ...message, ...rest });
}
