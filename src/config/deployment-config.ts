import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config-error.js';
import {
  WORKER_KINDS,
  FLAVOURS,
  type JobKind,
  type ObjectLockMode,
  type DeploymentConfig,
  type ImageConfig,
  type RepositoryConfig,
  type NetworkConfig,
  type JobsConfig,
  type AlarmRoutingConfig,
  type ClusterConfig,
} from './deployment-config-sections.js';
import { Validator, describe, optional, required } from './deployment-validator.js';
import { checkScheduleExpression } from './schedule-expression.js';

/**
 * The clusters config of one AWS deployment (the CDK app in `cdk/` and the Lambda handlers in
 * `lambdas/` read the same file): where the repository lives, which network the archivers and job
 * workers run in, and, per MySQL/MariaDB cluster, its source endpoint, credentials, schedules,
 * retention, archiver tuning, worker kinds and alarm thresholds.
 *
 * `loadDeploymentConfig` validates everything up front and reports every problem at once, each
 * naming its field path (`clusters[2].schedules.dump`) and what is allowed. Unknown fields are
 * errors, so a typo never silently falls back to a default.
 */

export * from './deployment-config-sections.js';
export { checkScheduleExpression } from './schedule-expression.js';

/** What can be handed to `loadDeploymentConfig`. */
export type DeploymentConfigSource = string | URL | Record<string, unknown>;

const NAME_RE = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const ACCOUNT_RE = /^\d{12}$/;
const REGION_RE = /^[a-z]{2}(?:-[a-z]+)+-\d$/;
const ECR_NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const ECR_ARN_RE = /^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository\/[a-z0-9]+(?:[._/-][a-z0-9]+)*$/;
const IMAGE_TAG_RE = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$/;
const KMS_KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const SNS_ARN_RE = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$/;
const SECRET_ARN_RE = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
const SECRET_NAME_RE = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const VPC_RE = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_RE = /^subnet-[0-9a-f]{8,17}$/;
const SG_RE = /^sg-[0-9a-f]{8,17}$/;
const AZ_RE = /^[a-z]{2}(?:-[a-z]+)+-\d[a-z]$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const PREFIX_RE = /^[A-Za-z0-9!_.*'()/-]*$/;
const CIDR_RE = /^(?:\d{1,3}\.){3}\d{1,3}\/(?:1[6-9]|2[0-8])$/;

/** Fargate's valid memory sizes (MiB) per CPU unit count. */
const FARGATE_MEMORY: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** Built-in per-cluster settings, overridden by `defaults` and then by the cluster's own entry. */
const BUILTIN_CLUSTER_DEFAULTS = {
  source: { port: 3306, tls: true },
  flavour: undefined,
  credentials: { passwordKey: 'password' },
  schedules: {
    dump: 'cron(0 3 * * ? *)',
    expire: 'cron(30 4 * * ? *)',
    verify: 'cron(0 6 ? * SUN *)',
    // hourly: the archiver's task role cannot delete, so in AWS this job compacts (issue 15)
    compact: 'cron(20 * * * ? *)',
  },
  retention: { keepDays: 14, keepBackups: 7 },
  archiver: { flushIntervalSeconds: 1, segmentSizeMiB: 64, cpu: 256, memoryMiB: 512 },
  workers: { dump: 'fargate', expire: 'lambda', verify: 'lambda', compact: 'lambda' },
  alarms: { archiveLagSeconds: 300, maxBackupAgeHours: 26 },
} as const;

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
const CLUSTER_SECTIONS = [
  'source',
  'flavour',
  'credentials',
  'schedules',
  'retention',
  'archiver',
  'workers',
  'alarms',
] as const;
const SECTION_KEYS: Record<string, readonly string[]> = {
  source: ['host', 'port', 'user', 'tls', 'securityGroupId'],
  credentials: ['secret', 'passwordKey'],
  schedules: ['dump', 'expire', 'verify', 'compact'],
  retention: ['keepDays', 'keepBackups'],
  archiver: ['flushIntervalSeconds', 'segmentSizeMiB', 'cpu', 'memoryMiB'],
  workers: ['dump', 'expire', 'verify', 'compact'],
  alarms: ['archiveLagSeconds', 'maxBackupAgeHours', 'topicArn'],
};
/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

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
  let data: unknown;
  let origin: string;
  if (typeof source === 'string' && source.trimStart().startsWith('{')) {
    origin = 'deployment config';
    data = parseJson(source, origin);
  } else if (typeof source === 'string' || source instanceof URL) {
    const path = source instanceof URL ? fileURLToPath(source) : source;
    origin = `deployment config ${path}`;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `cannot read ${origin}: ${(err as Error).message}. Check the path (cdk: -c config=FILE, relative to cdk/).`,
        { cause: err },
      );
    }
    data = parseJson(text, origin);
  } else {
    origin = 'deployment config';
    data = source;
  }
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

// ---------------------------------------------------------------------------------------------
// Reading and validating

function readConfig(v: Validator, data: unknown): DeploymentConfig | undefined {
  const top = v.object(data, '(top level)', TOP_KEYS);
  if (!top) return undefined;
  const deployment = required(v, top, 'deployment', (x, p) =>
    v.string(
      x,
      p,
      NAME_RE,
      "a DNS-safe name: lowercase letters, digits and '-', 1-32 characters, starting with a letter",
    ),
  );
  const env = readEnv(v, top['env']);
  const image = readImage(v, top['image']);
  const jobs = readJobs(v, top['jobs']);
  const alarms = readAlarmRouting(v, top['alarms']);
  const network = readNetwork(v, top['network'], env);
  const logRetentionDays =
    top['logRetentionDays'] === undefined
      ? 30
      : (() => {
          const n = v.integer(top['logRetentionDays'], 'logRetentionDays', 1, 3653, ' days');
          if (n !== undefined && !LOG_RETENTION_DAYS.includes(n)) {
            return v.fail(
              'logRetentionDays',
              `${n} is not a CloudWatch Logs retention; use one of ${LOG_RETENTION_DAYS.join(', ')}`,
            );
          }
          return n;
        })();
  const defaults = readDefaults(v, top['defaults']);
  const clusters = readClusters(v, top['clusters'], defaults);
  const repository = readRepository(v, top['repository']);
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

function readEnv(v: Validator, value: unknown): DeploymentConfig['env'] {
  if (value === undefined) return { account: undefined, region: undefined };
  const obj = v.object(value, 'env', ['account', 'region']);
  if (!obj) return { account: undefined, region: undefined };
  const account =
    obj['account'] === undefined
      ? undefined
      : v.string(obj['account'], 'env.account', ACCOUNT_RE, 'a 12-digit AWS account id');
  const region =
    obj['region'] === undefined
      ? undefined
      : v.string(obj['region'], 'env.region', REGION_RE, 'a region such as eu-west-1');
  return { account, region };
}

function readImage(v: Validator, value: unknown): ImageConfig | undefined {
  if (value === undefined)
    return v.fail('image', 'is required: { "repository": "mysql-pitr", "tag": "0.1.0" } (see cdk/README.md)');
  const obj = v.object(value, 'image', ['repository', 'tag']);
  if (!obj) return undefined;
  const repository = required(
    v,
    obj,
    'repository',
    (x, p) => {
      const s = v.string(x, p);
      if (s === undefined) return undefined;
      if (s.startsWith('arn:') ? !ECR_ARN_RE.test(s) : !ECR_NAME_RE.test(s) || s.length > 256) {
        return v.fail(p, `'${s}' is not an ECR repository name (e.g. mysql-pitr) or ARN`);
      }
      return s;
    },
    'image.repository',
  );
  const tag = required(
    v,
    obj,
    'tag',
    (x, p) => v.string(x, p, IMAGE_TAG_RE, 'an image tag such as 0.1.0 or a digest sha256:…'),
    'image.tag',
  );
  return repository !== undefined && tag !== undefined ? { repository, tag } : undefined;
}

function readJobs(v: Validator, value: unknown): JobsConfig | undefined {
  const d: JobsConfig = {
    lambdaMemoryMiB: 2048,
    lambdaTimeoutSeconds: 900,
    lambdaEphemeralStorageMiB: 2048,
    maxConcurrency: 5,
    fargateCpu: 1024,
    fargateMemoryMiB: 2048,
    fargateEphemeralStorageGiB: 21,
  };
  if (value === undefined) return d;
  const obj = v.object(value, 'jobs', Object.keys(d));
  if (!obj) return undefined;
  const p = (k: string) => `jobs.${k}`;
  const out = {
    lambdaMemoryMiB: optional(
      obj,
      'lambdaMemoryMiB',
      d.lambdaMemoryMiB,
      (x, q) => v.integer(x, q, 128, 10240, ' MiB'),
      p('lambdaMemoryMiB'),
    ),
    lambdaTimeoutSeconds: optional(
      obj,
      'lambdaTimeoutSeconds',
      d.lambdaTimeoutSeconds,
      (x, q) =>
        v.integer(
          x,
          q,
          60,
          900,
          ' seconds (Lambda stops at 15 minutes; use a fargate worker for longer jobs)',
        ),
      p('lambdaTimeoutSeconds'),
    ),
    lambdaEphemeralStorageMiB: optional(
      obj,
      'lambdaEphemeralStorageMiB',
      d.lambdaEphemeralStorageMiB,
      (x, q) => v.integer(x, q, 512, 10240, ' MiB'),
      p('lambdaEphemeralStorageMiB'),
    ),
    maxConcurrency: optional(
      obj,
      'maxConcurrency',
      d.maxConcurrency,
      (x, q) => v.integer(x, q, 2, 1000),
      p('maxConcurrency'),
    ),
    fargateCpu: optional(
      obj,
      'fargateCpu',
      d.fargateCpu,
      (x, q) => v.integer(x, q, 256, 16384, ' CPU units'),
      p('fargateCpu'),
    ),
    fargateMemoryMiB: optional(
      obj,
      'fargateMemoryMiB',
      d.fargateMemoryMiB,
      (x, q) => v.integer(x, q, 512, 122880, ' MiB'),
      p('fargateMemoryMiB'),
    ),
    fargateEphemeralStorageGiB: optional(
      obj,
      'fargateEphemeralStorageGiB',
      d.fargateEphemeralStorageGiB,
      (x, q) => v.integer(x, q, 21, 200, ' GiB'),
      p('fargateEphemeralStorageGiB'),
    ),
  };
  if (Object.values(out).some((x) => x === undefined)) return undefined;
  const jobs = out as JobsConfig;
  if (
    !checkFargateSize(v, jobs.fargateCpu, jobs.fargateMemoryMiB, 'jobs.fargateMemoryMiB', 'jobs.fargateCpu')
  )
    return undefined;
  return jobs;
}

function checkFargateSize(
  v: Validator,
  cpu: number,
  memory: number,
  memoryPath: string,
  cpuPath: string,
): boolean {
  const sizes = FARGATE_MEMORY.get(cpu);
  if (!sizes) {
    v.fail(cpuPath, `${cpu} is not a Fargate CPU size; use one of ${[...FARGATE_MEMORY.keys()].join(', ')}`);
    return false;
  }
  if (!sizes.includes(memory)) {
    const list =
      sizes.length <= 4
        ? sizes.join(', ')
        : `${sizes[0]} to ${sizes[sizes.length - 1]} in steps of ${sizes[1]! - sizes[0]!}`;
    v.fail(memoryPath, `${memory} MiB is not valid with ${cpu} CPU units on Fargate; use ${list}`);
    return false;
  }
  return true;
}

function readAlarmRouting(v: Validator, value: unknown): AlarmRoutingConfig | undefined {
  if (value === undefined) return { topicArn: undefined, emails: [] };
  const obj = v.object(value, 'alarms', ['topicArn', 'emails']);
  if (!obj) return undefined;
  const topicArn =
    obj['topicArn'] === undefined
      ? undefined
      : v.string(
          obj['topicArn'],
          'alarms.topicArn',
          SNS_ARN_RE,
          'an SNS topic ARN arn:aws:sns:REGION:ACCOUNT:NAME',
        );
  const emails = optional(
    obj,
    'emails',
    [],
    (x, p) => v.stringList(x, p, EMAIL_RE, 'e-mail addresses'),
    'alarms.emails',
  );
  if (obj['topicArn'] !== undefined && topicArn === undefined) return undefined;
  return emails === undefined ? undefined : { topicArn, emails };
}

function readNetwork(v: Validator, value: unknown, env: DeploymentConfig['env']): NetworkConfig | undefined {
  const example = '{ "vpcId": "vpc-…", "subnetIds": ["subnet-…"] } or { "createVpc": {} }';
  if (value === undefined) return v.fail('network', `is required: ${example}`);
  const obj = v.object(value, 'network', ['vpcId', 'subnetIds', 'securityGroupIds', 'createVpc']);
  if (!obj) return undefined;
  const existing =
    obj['vpcId'] !== undefined || obj['subnetIds'] !== undefined || obj['securityGroupIds'] !== undefined;
  if (existing && obj['createVpc'] !== undefined) {
    return v.fail('network', 'set either vpcId/subnetIds (use an existing VPC) or createVpc, not both');
  }
  if (obj['createVpc'] !== undefined) {
    const c = v.object(obj['createVpc'], 'network.createVpc', [
      'cidr',
      'maxAzs',
      'natGateways',
      'availabilityZones',
    ]);
    if (!c) return undefined;
    const azs =
      c['availabilityZones'] === undefined
        ? undefined
        : v.stringList(
            c['availabilityZones'],
            'network.createVpc.availabilityZones',
            AZ_RE,
            'availability zones such as eu-west-1a',
            1,
          );
    if (c['availabilityZones'] !== undefined && azs === undefined) return undefined;
    const maxAzs = optional(
      c,
      'maxAzs',
      azs?.length ?? 2,
      (x, p) => v.integer(x, p, 1, 6),
      'network.createVpc.maxAzs',
    );
    const natGateways = optional(
      c,
      'natGateways',
      1,
      (x, p) => v.integer(x, p, 1, 6),
      'network.createVpc.natGateways',
    );
    const cidr = optional(
      c,
      'cidr',
      '10.0.0.0/16',
      (x, p) => v.string(x, p, CIDR_RE, 'an IPv4 CIDR from /16 to /28 such as 10.0.0.0/16'),
      'network.createVpc.cidr',
    );
    if (maxAzs === undefined || natGateways === undefined || cidr === undefined) return undefined;
    if (azs && c['maxAzs'] !== undefined && maxAzs !== azs.length) {
      return v.fail(
        'network.createVpc.maxAzs',
        `${maxAzs} disagrees with the ${azs.length} availabilityZones listed; drop maxAzs`,
      );
    }
    if (natGateways > maxAzs) {
      return v.fail(
        'network.createVpc.natGateways',
        `${natGateways} is more than the ${maxAzs} availability zones; use 1 to ${maxAzs}`,
      );
    }
    if (!azs && env.account !== undefined && env.region !== undefined) {
      return v.fail(
        'network.createVpc.availabilityZones',
        'is required when env.account and env.region are both set (CDK would otherwise look the zones up over the network at synth time); ' +
          `e.g. ["${env.region}a", "${env.region}b"]`,
      );
    }
    return { kind: 'create', cidr, maxAzs, natGateways, availabilityZones: azs };
  }
  if (!existing) return v.fail('network', `must name an existing VPC or ask for a new one: ${example}`);
  const vpcId = required(
    v,
    obj,
    'vpcId',
    (x, p) => v.string(x, p, VPC_RE, 'a VPC id vpc-0123456789abcdef0'),
    'network.vpcId',
  );
  const subnetIds = required(
    v,
    obj,
    'subnetIds',
    (x, p) => v.stringList(x, p, SUBNET_RE, 'subnet ids subnet-…', 1),
    'network.subnetIds',
  );
  const securityGroupIds = optional(
    obj,
    'securityGroupIds',
    [],
    (x, p) => v.stringList(x, p, SG_RE, 'security group ids sg-…'),
    'network.securityGroupIds',
  );
  if (vpcId === undefined || subnetIds === undefined || securityGroupIds === undefined) return undefined;
  return { kind: 'existing', vpcId, subnetIds, securityGroupIds };
}

type RawSections = Partial<Record<(typeof CLUSTER_SECTIONS)[number], unknown>>;

function readDefaults(v: Validator, value: unknown): RawSections {
  if (value === undefined) return {};
  const obj = v.object(value, 'defaults', CLUSTER_SECTIONS);
  if (!obj) return {};
  const out: RawSections = {};
  for (const section of CLUSTER_SECTIONS) {
    const raw = obj[section];
    if (raw === undefined) continue;
    if (section === 'flavour') {
      out.flavour = raw;
      continue;
    }
    // A host or a per-cluster name in defaults would point every cluster at one server.
    const allowed =
      section === 'source' ? SECTION_KEYS.source!.filter((k) => k !== 'host') : SECTION_KEYS[section]!;
    const sec = v.object(raw, `defaults.${section}`, allowed);
    if (sec) out[section] = sec;
  }
  return out;
}

function readClusters(v: Validator, value: unknown, defaults: RawSections): ClusterConfig[] | undefined {
  if (value === undefined) return v.fail('clusters', 'is required: a list with at least one cluster');
  if (!Array.isArray(value) || value.length === 0) {
    return v.fail('clusters', `must be a list with at least one cluster, not ${describe(value)}`);
  }
  const out: ClusterConfig[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  value.forEach((raw, i) => {
    const c = readCluster(v, raw, i, defaults);
    if (!c) {
      ok = false;
      return;
    }
    const first = seen.get(c.name);
    if (first !== undefined) {
      v.fail(
        `clusters[${i}].name`,
        `'${c.name}' is already used by clusters[${first}]; cluster names must be unique`,
      );
      ok = false;
      return;
    }
    seen.set(c.name, i);
    out.push(c);
  });
  return ok ? out : undefined;
}

function readCluster(
  v: Validator,
  raw: unknown,
  index: number,
  defaults: RawSections,
): ClusterConfig | undefined {
  const base = `clusters[${index}]`;
  const obj = v.object(raw, base, ['name', ...CLUSTER_SECTIONS]);
  if (!obj) return undefined;
  const sections: Record<string, Record<string, unknown> | undefined> = {};
  for (const section of CLUSTER_SECTIONS) {
    if (section === 'flavour' || obj[section] === undefined) continue;
    sections[section] = v.object(obj[section], `${base}.${section}`, SECTION_KEYS[section]!);
  }
  const builtin = BUILTIN_CLUSTER_DEFAULTS as unknown as Record<string, Record<string, unknown> | undefined>;
  /** The value of section.key from the cluster, else defaults, else built in, with the path to blame. */
  const pick = (section: string, key: string): { value: unknown; path: string } => {
    const own = sections[section];
    if (own && own[key] !== undefined) return { value: own[key], path: `${base}.${section}.${key}` };
    const def = defaults[section as keyof RawSections] as Record<string, unknown> | undefined;
    if (def && def[key] !== undefined) return { value: def[key], path: `defaults.${section}.${key}` };
    return { value: builtin[section]?.[key], path: `${base}.${section}.${key}` };
  };
  const field = <T>(
    section: string,
    key: string,
    read: (value: unknown, path: string) => T | undefined,
  ): T | undefined => {
    const { value, path } = pick(section, key);
    if (value === undefined)
      return v.fail(path, `is required (set it in ${base}.${section} or in defaults.${section})`);
    return read(value, path);
  };
  const opt = <T>(
    section: string,
    key: string,
    read: (value: unknown, path: string) => T | undefined,
  ): T | undefined => {
    const { value, path } = pick(section, key);
    return value === undefined ? undefined : read(value, path);
  };
  let bad = false;
  const must = <T>(x: T | undefined): T => {
    if (x === undefined) bad = true;
    return x as T;
  };

  const name = must(
    required(
      v,
      obj,
      'name',
      (x, p) =>
        v.string(
          x,
          p,
          NAME_RE,
          "a DNS-safe name: lowercase letters, digits and '-', 1-32 characters, starting with a letter",
        ),
      `${base}.name`,
    ),
  );
  const host = must(field('source', 'host', (x, p) => readHost(v, x, p)));
  const port = must(field('source', 'port', (x, p) => v.integer(x, p, 1, 65535)));
  const user = must(field('source', 'user', (x, p) => v.string(x, p)));
  const tls = must(field('source', 'tls', (x, p) => v.boolean(x, p)));
  const sgRaw = pick('source', 'securityGroupId');
  const securityGroupId =
    sgRaw.value === undefined
      ? undefined
      : must(v.string(sgRaw.value, sgRaw.path, SG_RE, 'a security group id sg-…'));
  const flavourPick =
    obj['flavour'] !== undefined
      ? { value: obj['flavour'], path: `${base}.flavour` }
      : { value: defaults.flavour, path: 'defaults.flavour' };
  const flavour = must(
    flavourPick.value === undefined
      ? v.fail(`${base}.flavour`, `is required: 'mariadb' or 'mysql' (set it here or in defaults.flavour)`)
      : v.oneOf(flavourPick.value, flavourPick.path, FLAVOURS),
  );
  const secret = must(field('credentials', 'secret', (x, p) => readSecretRef(v, x, p)));
  const passwordKey = must(field('credentials', 'passwordKey', (x, p) => v.string(x, p)));
  const schedule = (key: JobKind, canBeOff: boolean) =>
    field('schedules', key, (x, p) => {
      if (canBeOff && x === 'off') return 'off';
      if (typeof x !== 'string') {
        return v.fail(
          p,
          `must be a schedule expression string such as cron(0 3 * * ? *) or rate(1 day)${canBeOff ? ", or 'off'" : ''}, not ${describe(x)}`,
        );
      }
      const why = checkScheduleExpression(x.trim());
      return why ? v.fail(p, `'${x}' ${why}`) : x.trim();
    });
  const dump = must(schedule('dump', false));
  const expire = must(schedule('expire', false));
  const verify = must(schedule('verify', true));
  const compact = must(schedule('compact', true));
  const keepDays = must(field('retention', 'keepDays', (x, p) => v.integer(x, p, 1, 3650, ' days')));
  const keepBackups = must(field('retention', 'keepBackups', (x, p) => v.integer(x, p, 1, 1000)));
  const flushIntervalSeconds = must(
    field('archiver', 'flushIntervalSeconds', (x, p) => v.number(x, p, 0, 300, ' seconds')),
  );
  const segmentSizeMiB = must(
    field('archiver', 'segmentSizeMiB', (x, p) => v.integer(x, p, 1, 1024, ' MiB')),
  );
  const cpuPick = pick('archiver', 'cpu');
  const memPick = pick('archiver', 'memoryMiB');
  const cpu = must(field('archiver', 'cpu', (x, p) => v.integer(x, p, 256, 16384, ' CPU units')));
  const memoryMiB = must(field('archiver', 'memoryMiB', (x, p) => v.integer(x, p, 512, 122880, ' MiB')));
  if (!bad && !checkFargateSize(v, cpu, memoryMiB, memPick.path, cpuPick.path)) bad = true;
  const workers = {
    dump: must(field('workers', 'dump', (x, p) => v.oneOf(x, p, WORKER_KINDS))),
    expire: must(field('workers', 'expire', (x, p) => v.oneOf(x, p, WORKER_KINDS))),
    verify: must(field('workers', 'verify', (x, p) => v.oneOf(x, p, WORKER_KINDS))),
    compact: must(field('workers', 'compact', (x, p) => v.oneOf(x, p, WORKER_KINDS))),
  };
  const archiveLagSeconds = must(
    field('alarms', 'archiveLagSeconds', (x, p) => v.integer(x, p, 10, 86400, ' seconds')),
  );
  const maxBackupAgeHours = must(
    // The alarm evaluates one-hour periods; CloudWatch limits an alarm's range to 7 days.
    field('alarms', 'maxBackupAgeHours', (x, p) =>
      v.integer(x, p, 1, 168, ' hours (CloudWatch alarms look back at most 7 days)'),
    ),
  );
  const topicRaw = opt('alarms', 'topicArn', (x, p) =>
    v.string(x, p, SNS_ARN_RE, 'an SNS topic ARN arn:aws:sns:REGION:ACCOUNT:NAME'),
  );
  if (pick('alarms', 'topicArn').value !== undefined && topicRaw === undefined) bad = true;
  if (bad) return undefined;
  return {
    name,
    source: { host, port, user, tls, securityGroupId },
    flavour,
    credentials: { secret, passwordKey },
    schedules: {
      dump,
      expire,
      verify: verify === 'off' ? undefined : verify,
      compact: compact === 'off' ? undefined : compact,
    },
    retention: { keepDays, keepBackups },
    archiver: { flushIntervalSeconds, segmentSizeMiB, cpu, memoryMiB },
    workers,
    alarms: { archiveLagSeconds, maxBackupAgeHours, topicArn: topicRaw },
  };
}

function readHost(v: Validator, value: unknown, path: string): string | undefined {
  const s = v.string(value, path, undefined, 'a host name or IP address');
  if (s === undefined) return undefined;
  if (/^[a-z]+:\/\//i.test(s))
    return v.fail(path, `'${s}' must be a host name only, without a scheme; e.g. db.example.com`);
  if (/^[^:]+:\d+$/.test(s))
    return v.fail(path, `'${s}' must be a host name only; put the port in source.port`);
  if (!HOST_RE.test(s) && !IPV4_RE.test(s) && !/^[0-9a-f:]+$/i.test(s)) {
    return v.fail(path, `'${s}' is not a host name or IP address`);
  }
  return s;
}

function readSecretRef(v: Validator, value: unknown, path: string): string | undefined {
  const s = v.string(value, path, undefined, 'a Secrets Manager secret name or ARN');
  if (s === undefined) return undefined;
  if (s.startsWith('arn:')) {
    return SECRET_ARN_RE.test(s)
      ? s
      : v.fail(
          path,
          `'${s}' is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf)`,
        );
  }
  return SECRET_NAME_RE.test(s)
    ? s
    : v.fail(path, `'${s}' is not a Secrets Manager secret name (letters, digits and /_+=.@- only) or ARN`);
}

function readRepository(v: Validator, value: unknown): RepositoryConfig | undefined {
  if (typeof value === 'object' && value !== null && 'safetyNetExpirationDays' in value) {
    // Removed: a lifecycle rule expiring current objects deleted what the tool still needed
    // (timeline records written once, segments of long-open files, backups keepBackups keeps).
    return v.fail(
      'repository.safetyNetExpirationDays',
      'was removed: no lifecycle rule expires current objects any more, `mysql-pitr expire` is the only retention ' +
        '(docs/retention.md). Delete the key',
    );
  }
  const obj =
    value === undefined
      ? {}
      : v.object(value, 'repository', [
          'create',
          'bucketName',
          'prefix',
          'kmsKeyArn',
          'objectLock',
          'noncurrentVersionExpirationDays',
          'abortIncompleteUploadDays',
        ]);
  if (!obj) return undefined;
  const create = optional(obj, 'create', true, (x, p) => v.boolean(x, p), 'repository.create');
  if (create === undefined) return undefined;
  const bucketName =
    obj['bucketName'] === undefined
      ? undefined
      : readBucketName(v, obj['bucketName'], 'repository.bucketName');
  if (obj['bucketName'] !== undefined && bucketName === undefined) return undefined;
  if (!create && bucketName === undefined) {
    return v.fail(
      'repository.bucketName',
      'is required when repository.create is false: name the existing bucket',
    );
  }
  const prefix = optional(obj, 'prefix', '', (x, p) => readPrefix(v, x, p), 'repository.prefix');
  const kmsKeyArn =
    obj['kmsKeyArn'] === undefined
      ? undefined
      : v.string(
          obj['kmsKeyArn'],
          'repository.kmsKeyArn',
          KMS_KEY_ARN_RE,
          'a KMS key ARN arn:aws:kms:REGION:ACCOUNT:key/UUID (not an alias)',
        );
  if (prefix === undefined || (obj['kmsKeyArn'] !== undefined && kmsKeyArn === undefined)) return undefined;

  if (!create) {
    const managed = ['objectLock', 'noncurrentVersionExpirationDays', 'abortIncompleteUploadDays'];
    let bad = false;
    for (const key of managed) {
      if (obj[key] !== undefined) {
        v.fail(
          `repository.${key}`,
          'applies only to a bucket this stack creates (repository.create is false); configure it on the existing bucket yourself, or remove it',
        );
        bad = true;
      }
    }
    if (bad) return undefined;
    return {
      create,
      bucketName,
      prefix,
      kmsKeyArn,
      objectLock: { enabled: false, mode: 'governance', retentionDays: 0 },
      noncurrentVersionExpirationDays: 0,
      abortIncompleteUploadDays: 0,
    };
  }

  let objectLock: RepositoryConfig['objectLock'] | undefined = {
    enabled: false,
    mode: 'governance',
    retentionDays: 0,
  };
  if (obj['objectLock'] !== undefined) {
    const ol = v.object(obj['objectLock'], 'repository.objectLock', ['enabled', 'mode', 'retentionDays']);
    if (!ol) return undefined;
    const enabled = optional(ol, 'enabled', true, (x, p) => v.boolean(x, p), 'repository.objectLock.enabled');
    const mode = optional(
      ol,
      'mode',
      'governance' as ObjectLockMode,
      (x, p) => v.oneOf(x, p, ['governance', 'compliance'] as const),
      'repository.objectLock.mode',
    );
    const retentionDays = enabled
      ? required(
          v,
          ol,
          'retentionDays',
          (x, p) => v.integer(x, p, 1, 36500, ' days'),
          'repository.objectLock.retentionDays',
        )
      : 0;
    objectLock =
      enabled === undefined || mode === undefined || retentionDays === undefined
        ? undefined
        : { enabled, mode, retentionDays };
  }
  if (!objectLock) return undefined;

  const noncurrentVersionExpirationDays = optional(
    obj,
    'noncurrentVersionExpirationDays',
    Math.max(7, objectLock.retentionDays),
    (x, p) => v.integer(x, p, 1, 36500, ' days'),
    'repository.noncurrentVersionExpirationDays',
  );
  const abortIncompleteUploadDays = optional(
    obj,
    'abortIncompleteUploadDays',
    3,
    (x, p) => v.integer(x, p, 1, 30, ' days'),
    'repository.abortIncompleteUploadDays',
  );
  if (noncurrentVersionExpirationDays === undefined || abortIncompleteUploadDays === undefined) {
    return undefined;
  }
  return {
    create,
    bucketName,
    prefix,
    kmsKeyArn,
    objectLock,
    noncurrentVersionExpirationDays,
    abortIncompleteUploadDays,
  };
}

function readBucketName(v: Validator, value: unknown, path: string): string | undefined {
  const s = v.string(value, path, undefined, 'an S3 bucket name');
  if (s === undefined) return undefined;
  const ok =
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s) &&
    !s.includes('..') &&
    !s.includes('.-') &&
    !s.includes('-.') &&
    !IPV4_RE.test(s);
  return ok
    ? s
    : v.fail(
        path,
        `'${s}' is not a valid S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`,
      );
}

function readPrefix(v: Validator, value: unknown, path: string): string | undefined {
  if (typeof value !== 'string')
    return v.fail(
      path,
      `must be a string such as 'pitr/' (or '' for the bucket root), not ${describe(value)}`,
    );
  if (value.startsWith('/'))
    return v.fail(path, `'${value}' must not start with '/'; S3 keys are relative, e.g. 'pitr/'`);
  if (!PREFIX_RE.test(value) || value.includes('//')) {
    return v.fail(
      path,
      `'${value}' may contain only letters, digits and !_.*'()/- and no empty segment ('//')`,
    );
  }
  return value === '' || value.endsWith('/') ? value : `${value}/`;
}

function parseJson(text: string, origin: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(
      `${origin} is not valid JSON: ${(err as Error).message}. Fix the syntax and try again.`,
      { cause: err },
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
