import { ConfigError } from './config-error.js';
import { readAlarmRoutingSection } from './deployment-alarm-routing.js';
import { readClusterDefaults } from './deployment-cluster-defaults.js';
import { readClusters } from './deployment-clusters.js';
import type { ClusterConfig, DeploymentConfig, RepositoryConfig } from './deployment-config-sections.js';
import { readDeploymentConfigSource, type DeploymentConfigSource } from './deployment-config-source.js';
import { readEnvSection } from './deployment-env.js';
import { readImageSection } from './deployment-image.js';
import { readJobsSection } from './deployment-jobs.js';
import { readLogRetentionDays } from './deployment-log-retention.js';
import { readNetworkSection } from './deployment-network.js';
import { DEPLOYMENT_PATTERNS } from './deployment-patterns.js';
import { readRepositorySection } from './deployment-repository.js';
import { SectionFields } from './deployment-section-fields.js';
import { Validator } from './deployment-validator.js';

/**
 * The clusters config of one AWS deployment (the CDK app in `cdk/` and the Lambda handlers in
 * `lambdas/` read the same file): where the repository lives, which network the archivers and job
 * workers run in, and, per MySQL/MariaDB cluster, its source endpoint, credentials, schedules,
 * retention, archiver tuning, worker kinds and alarm thresholds.
 *
 * `loadDeploymentConfig` validates everything up front and reports every problem at once, each
 * naming its field path (`clusters[2].schedules.dump`) and what is allowed. Unknown fields are
 * errors, so a typo never silently falls back to a default. Each section has its own reader
 * (`deployment-<section>.ts`, a cluster's in `deployment-cluster-<section>.ts`); this file only
 * puts them together.
 */

export * from './deployment-config-sections.js';
export { checkScheduleExpression } from './schedule-expression.js';
export type { DeploymentConfigSource } from './deployment-config-source.js';

const TOP_KEYS = [
  'deployment',
  'env',
  'image',
  'repository',
  'network',
  'jobs',
  'alarms',
  'logRetentionDays',
  'defaults',
  'clusters',
] as const;

/**
 * Reads and validates a deployment config.
 *
 * `source` is a path or `file:` URL of a JSON file, JSON text (a string starting with `{`), or an
 * already parsed object. Returns a deeply frozen config with every default filled in.
 *
 * Throws ConfigError (code CONFIG_INVALID) when the file cannot be read or parsed, or listing every
 * invalid, missing or unknown field with its path and what is allowed.
 */
export function loadDeploymentConfig(source: DeploymentConfigSource): DeploymentConfig {
  const { origin, data } = readDeploymentConfigSource(source);
  const v = new Validator();
  const config = readConfig(v, data);
  if (v.problems.length > 0 || config === undefined) {
    const n = v.problems.length;
    throw new ConfigError(
      `${origin} is invalid (${n} problem${n === 1 ? '' : 's'}):\n` +
        v.problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
  return deepFreeze(config);
}

/** `prefix + cluster + '/'`: the key prefix of one cluster's repository inside the bucket. */
export function clusterRepositoryPrefix(
  repository: Pick<RepositoryConfig, 'prefix'>,
  cluster: string,
): string {
  return `${repository.prefix}${cluster}/`;
}

/** `s3://bucket/prefix/cluster/`: the repository URL of one cluster, as the CLI's `--repo` takes it. */
export function clusterRepositoryUrl(
  bucketName: string,
  repository: Pick<RepositoryConfig, 'prefix'>,
  cluster: string,
): string {
  return `s3://${bucketName}/${clusterRepositoryPrefix(repository, cluster)}`;
}

/** `mysql://user@host:3306/?ssl=true` (or `mariadb://`): the CLI's `--source`, never with a password. */
export function clusterSourceUrl(cluster: Pick<ClusterConfig, 'source' | 'flavour'>): string {
  const { host, port, user, tls } = cluster.source;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `${cluster.flavour}://${encodeURIComponent(user)}@${hostPart}:${port}/${tls ? '?ssl=true' : ''}`;
}

/** The whole config, section by section in the order their problems are listed. */
function readConfig(v: Validator, data: unknown): DeploymentConfig | undefined {
  const top = v.object(data, '(top level)', TOP_KEYS);
  if (!top) return undefined;
  const { re, hint } = DEPLOYMENT_PATTERNS.dnsName;
  const f = new SectionFields(v, (key) => ({ value: top[key], path: key }));
  const deployment = f.required('deployment', (x, p) => v.string(x, p, re, hint));
  const env = readEnvSection(v, top['env']);
  const image = readImageSection(v, top['image']);
  const jobs = readJobsSection(v, top['jobs']);
  const alarms = readAlarmRoutingSection(v, top['alarms']);
  const network = readNetworkSection(v, top['network'], env);
  const logRetentionDays = readLogRetentionDays(v, top['logRetentionDays']);
  const defaults = readClusterDefaults(v, top['defaults']);
  const clusters = readClusters(v, top['clusters'], defaults);
  const repository = readRepositorySection(v, top['repository']);
  if (
    deployment === undefined ||
    image === undefined ||
    jobs === undefined ||
    alarms === undefined ||
    network === undefined ||
    logRetentionDays === undefined ||
    clusters === undefined ||
    repository === undefined
  ) {
    return undefined;
  }
  return { deployment, env, image, repository, network, jobs, alarms, logRetentionDays, clusters };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
