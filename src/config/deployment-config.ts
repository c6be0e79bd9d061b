import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config-error.js';

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

/** Server family of a source; MariaDB and MySQL differ in GTIDs and dump tooling. */
export type Flavour = 'mariadb' | 'mysql';
/** Scheduled jobs run against a cluster's repository. */
export type JobKind = 'dump' | 'expire' | 'verify' | 'compact';
/**
 * Where a job runs. `lambda`: the container-image job worker Lambda, fed by the SQS job queue; cheap
 * and quick to start, but killed after at most 15 minutes. `fargate`: a one-off ECS Fargate task
 * started by the dispatcher; no time limit, about a minute to start. Use `fargate` for dumps that
 * can take longer than ~10 minutes.
 */
export type WorkerKind = 'lambda' | 'fargate';
/** Object Lock retention mode; `governance` can be lifted by a privileged user, `compliance` by no one. */
export type ObjectLockMode = 'governance' | 'compliance';

/** Every job kind, in schedule order. */
export const JOB_KINDS: readonly JobKind[] = Object.freeze(['dump', 'expire', 'verify', 'compact']);
/** Every worker kind. */
export const WORKER_KINDS: readonly WorkerKind[] = Object.freeze(['lambda', 'fargate']);
/** Every flavour. */
export const FLAVOURS: readonly Flavour[] = Object.freeze(['mariadb', 'mysql']);

/** The validated, frozen deployment config. */
export interface DeploymentConfig {
  /** Deployment name: DNS-safe, unique per account and region; it names the CloudFormation stack. */
  readonly deployment: string;
  /** Target account and region; absent fields leave the stack environment-agnostic. */
  readonly env: { readonly account: string | undefined; readonly region: string | undefined };
  /** The mysql-pitr container image (archiver, job worker); pushed to ECR before deploying. */
  readonly image: ImageConfig;
  readonly repository: RepositoryConfig;
  readonly network: NetworkConfig;
  readonly jobs: JobsConfig;
  readonly alarms: AlarmRoutingConfig;
  /** Days CloudWatch keeps the archiver, worker and dispatcher logs. */
  readonly logRetentionDays: number;
  /** At least one cluster; names are unique. */
  readonly clusters: readonly ClusterConfig[];
}

export interface ImageConfig {
  /** ECR repository name (`mysql-pitr`) or ARN, in the deployment's account and region unless an ARN says otherwise. */
  readonly repository: string;
  /** Image tag (`0.1.0`) or digest (`sha256:…`); `cdk deploy -c imageTag=…` overrides it. */
  readonly tag: string;
}

export interface RepositoryConfig {
  /** True: the stack creates and owns the bucket. False: `bucketName` names an existing bucket that the stack only grants access to. */
  readonly create: boolean;
  /** Bucket name; required when `create` is false, otherwise CloudFormation generates one when absent. */
  readonly bucketName: string | undefined;
  /** Key prefix for every cluster's repository: `` (bucket root) or `path/` (always ends in `/`). Each cluster lives under `prefix + name + '/'`. */
  readonly prefix: string;
  /** Customer-managed KMS key ARN to encrypt with; when absent and `create`, the stack creates a key with rotation on. */
  readonly kmsKeyArn: string | undefined;
  /** Object Lock (WORM) on the created bucket. Can only be chosen when the bucket is created. */
  readonly objectLock: {
    readonly enabled: boolean;
    readonly mode: ObjectLockMode;
    /** Default retention of every object version, in days. */
    readonly retentionDays: number;
  };
  /** Days a replaced or deleted object version is kept before the lifecycle removes it for good. */
  readonly noncurrentVersionExpirationDays: number;
  /** Days before an interrupted multipart upload's parts are removed. */
  readonly abortIncompleteUploadDays: number;
}

/** Run in an existing VPC (ids from the config; no lookup at synth time) or create one. */
export type NetworkConfig = ExistingNetworkConfig | CreatedNetworkConfig;

export interface ExistingNetworkConfig {
  readonly kind: 'existing';
  readonly vpcId: string;
  /** Private subnets with a route to S3, SQS, Secrets Manager, ECR and CloudWatch (NAT or VPC endpoints) and to the databases. */
  readonly subnetIds: readonly string[];
  /** Extra security groups attached to every archiver and job worker, e.g. one the databases already admit. */
  readonly securityGroupIds: readonly string[];
}

export interface CreatedNetworkConfig {
  readonly kind: 'create';
  readonly cidr: string;
  readonly maxAzs: number;
  readonly natGateways: number;
  /** Explicit zones; required when both env.account and env.region are set (otherwise CDK would look them up). */
  readonly availabilityZones: readonly string[] | undefined;
}

export interface JobsConfig {
  /** Memory of the job worker Lambda, MiB (128–10240). */
  readonly lambdaMemoryMiB: number;
  /** Timeout of the job worker Lambda, seconds (60–900); the queue's visibility timeout is derived from it. */
  readonly lambdaTimeoutSeconds: number;
  /** /tmp size of the job worker Lambda, MiB (512–10240). */
  readonly lambdaEphemeralStorageMiB: number;
  /** Most jobs the Lambda worker runs at once across all clusters (2–1000). */
  readonly maxConcurrency: number;
  /** Fargate job task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384). */
  readonly fargateCpu: number;
  /** Fargate job task memory, MiB; must be valid for `fargateCpu`. */
  readonly fargateMemoryMiB: number;
  /** Fargate job task ephemeral storage, GiB (21–200). */
  readonly fargateEphemeralStorageGiB: number;
}

export interface AlarmRoutingConfig {
  /** Existing SNS topic for every alarm; when absent the stack creates one. */
  readonly topicArn: string | undefined;
  /** Addresses subscribed to the alarm topic (each must confirm the subscription e-mail). */
  readonly emails: readonly string[];
}

export interface ClusterConfig {
  /** DNS-safe, unique: lowercase letters, digits and `-`, 1–32 characters, starting with a letter. */
  readonly name: string;
  readonly source: SourceConfig;
  readonly flavour: Flavour;
  readonly credentials: CredentialsConfig;
  /** EventBridge schedule expressions (UTC); `verify` and `compact` are undefined when turned off. */
  readonly schedules: {
    readonly dump: string;
    readonly expire: string;
    readonly verify: string | undefined;
    /** `binlog compact` of the closed binlog files; hourly unless set (`off` turns it off). */
    readonly compact: string | undefined;
  };
  readonly retention: RetentionConfig;
  readonly archiver: ArchiverConfig;
  /** Where each job kind runs for this cluster. */
  readonly workers: Readonly<Record<JobKind, WorkerKind>>;
  readonly alarms: ClusterAlarmsConfig;
}

export interface SourceConfig {
  /** Host name or IP address of the source server (no scheme, no port). */
  readonly host: string;
  readonly port: number;
  /** Replication user (REPLICATION SLAVE, REPLICATION CLIENT, and SELECT/RELOAD/LOCK for dumps). */
  readonly user: string;
  /** Connect with TLS (`?ssl=true`). */
  readonly tls: boolean;
  /** Security group of the database; when set, the stack adds an ingress rule from the archiver and job workers on `port`. */
  readonly securityGroupId: string | undefined;
}

export interface CredentialsConfig {
  /** Secrets Manager secret holding the password: its name or ARN. */
  readonly secret: string;
  /** JSON key of the password inside the secret (`password` for RDS-managed secrets). */
  readonly passwordKey: string;
}

export interface RetentionConfig {
  /** Keep every backup (and the binlogs to replay from it) younger than this many days. */
  readonly keepDays: number;
  /** And always keep at least this many most recent backups, however old. */
  readonly keepBackups: number;
}

export interface ArchiverConfig {
  /** Longest time, seconds, that streamed binlog events wait before they are uploaded (default 1). */
  readonly flushIntervalSeconds: number;
  /** Size at which a binlog segment object is closed and a new one started, MiB. */
  readonly segmentSizeMiB: number;
  /** Fargate CPU units of the archiver task. */
  readonly cpu: number;
  /** Fargate memory of the archiver task, MiB; must be valid for `cpu`. */
  readonly memoryMiB: number;
}

export interface ClusterAlarmsConfig {
  /** Alarm when the archive falls more than this many seconds behind the source. */
  readonly archiveLagSeconds: number;
  /** Alarm when no backup succeeded for this many hours (1-168). */
  readonly maxBackupAgeHours: number;
  /** Extra SNS topic for this cluster's alarms (besides the deployment's topic). */
  readonly topicArn: string | undefined;
}

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

/**
 * Checks an EventBridge schedule expression: `rate(N unit)` or the six-field
 * `cron(minutes hours day-of-month month day-of-week year)`. Returns undefined when valid, else why not.
 * See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
export function checkScheduleExpression(expr: string): string | undefined {
  const rate = /^rate\((.*)\)$/.exec(expr);
  if (rate) return checkRate(rate[1]!.trim());
  const cron = /^cron\((.*)\)$/.exec(expr);
  if (cron) return checkCron(cron[1]!.trim());
  return 'is not a cron or rate expression; use cron(0 3 * * ? *) or rate(1 day)';
}

function checkRate(body: string): string | undefined {
  const m = /^(\d+)\s+(minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!m)
    return 'is not a valid rate expression; use rate(N minutes|hours|days), e.g. rate(1 day) or rate(6 hours)';
  const n = Number(m[1]);
  const unit = m[2]!;
  if (n < 1) return 'has a rate of 0; the rate must be a positive whole number';
  const singular = !unit.endsWith('s');
  if (n === 1 && !singular) return `must use the singular unit for 1: rate(1 ${unit.slice(0, -1)})`;
  if (n > 1 && singular) return `must use the plural unit for ${n}: rate(${n} ${unit}s)`;
  return undefined;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  question?: boolean;
  /** Day-of-month extras: L, LW, nW. */
  dom?: boolean;
  /** Day-of-week extras: nL, n#k. */
  dow?: boolean;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true, dom: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, question: true, dow: true },
  { name: 'year', min: 1970, max: 2199 },
];

function checkCron(body: string): string | undefined {
  const fields = body.split(/\s+/).filter(Boolean);
  if (fields.length !== 6) {
    return (
      `has ${fields.length} field${fields.length === 1 ? '' : 's'}; EventBridge cron needs 6 ` +
      '(minutes hours day-of-month month day-of-week year), e.g. cron(0 3 * * ? *)'
    );
  }
  for (let i = 0; i < 6; i++) {
    const why = checkCronField(fields[i]!, CRON_FIELDS[i]!);
    if (why) return `has an invalid ${CRON_FIELDS[i]!.name} field '${fields[i]}': ${why}`;
  }
  const domQ = fields[2] === '?';
  const dowQ = fields[4] === '?';
  if (domQ === dowQ) {
    return 'must have ? in exactly one of day-of-month and day-of-week, e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON *)';
  }
  return undefined;
}

function checkCronField(text: string, f: CronField): string | undefined {
  if (text === '?') return f.question ? undefined : '? is allowed only in day-of-month and day-of-week';
  for (const item of text.split(',')) {
    if (item === '') return 'has an empty list item';
    if (item === '*') continue;
    if (f.dom && /^(?:L|LW|\d{1,2}W)$/.test(item)) {
      const n = Number(item.replace(/W$/, ''));
      if (item.endsWith('W') && item !== 'LW' && (n < 1 || n > 31)) return `${item}: day must be 1-31`;
      continue;
    }
    if (f.dow && /^(?:L|\w+L|\w+#[1-5])$/.test(item)) {
      const day = item.replace(/(?:L|#[1-5])$/, '');
      if (day !== '' && valueOf(day, f) === undefined) return `${item}: day must be 1-7 or SUN-SAT`;
      continue;
    }
    const m = /^(\*|\w+)(?:-(\w+))?(?:\/(\d+))?$/.exec(item);
    if (!m) return `'${item}' is not a value, range (a-b), or increment (a/b)`;
    const [, start, end, step] = m;
    if (start !== '*' && valueOf(start!, f) === undefined) return `${start} is out of range ${rangeText(f)}`;
    if (end !== undefined) {
      if (start === '*') return `'${item}': * cannot start a range`;
      if (valueOf(end, f) === undefined) return `${end} is out of range ${rangeText(f)}`;
    }
    if (step !== undefined && Number(step) < 1) return `'${item}': the increment must be at least 1`;
  }
  return undefined;
}

function valueOf(token: string, f: CronField): number | undefined {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    return n >= f.min && n <= f.max ? n : undefined;
  }
  const i = f.names?.indexOf(token.toUpperCase()) ?? -1;
  return i >= 0 ? i + 1 : undefined;
}

function rangeText(f: CronField): string {
  return `${f.min}-${f.max}${f.names ? ` or ${f.names[0]}-${f.names[f.names.length - 1]}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Reading and validating

class Validator {
  readonly problems: string[] = [];

  fail(path: string, what: string): undefined {
    const problem = `${path}: ${what}`;
    // A bad value in `defaults` is seen once per cluster; report it once.
    if (!this.problems.includes(problem)) this.problems.push(problem);
    return undefined;
  }

  /** An object with only `allowed` keys; reports each unknown key (with a suggestion) and returns the object. */
  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(path, `must be an object, not ${describe(value)}`);
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        const guess = closest(key, allowed);
        this.fail(
          joinPath(path, key),
          `unknown field${guess ? `; did you mean ${guess}?` : '.'} Allowed here: ${allowed.join(', ')}`,
        );
      }
    }
    return obj;
  }

  string(value: unknown, path: string, re?: RegExp, hint?: string): string | undefined {
    if (typeof value !== 'string' || value === '') {
      return this.fail(path, `must be a non-empty string${hint ? ` (${hint})` : ''}, not ${describe(value)}`);
    }
    if (re && !re.test(value))
      return this.fail(path, `'${value}' is not valid${hint ? `; expected ${hint}` : ''}`);
    return value;
  }

  integer(value: unknown, path: string, min: number, max: number, unit = ''): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return this.fail(path, `must be a whole number from ${min} to ${max}${unit}, not ${describe(value)}`);
    }
    if (value < min || value > max)
      return this.fail(path, `${value} is out of range; allowed ${min} to ${max}${unit}`);
    return value;
  }

  number(value: unknown, path: string, minExclusive: number, max: number, unit = ''): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return this.fail(
        path,
        `must be a number above ${minExclusive} and at most ${max}${unit}, not ${describe(value)}`,
      );
    }
    if (value <= minExclusive || value > max) {
      return this.fail(path, `${value} is out of range; allowed above ${minExclusive} up to ${max}${unit}`);
    }
    return value;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (typeof value !== 'boolean') return this.fail(path, `must be true or false, not ${describe(value)}`);
    return value;
  }

  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T | undefined {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      return this.fail(
        path,
        `${describe(value)} is not allowed; use one of ${choices.map((c) => `'${c}'`).join(', ')}`,
      );
    }
    return value as T;
  }

  stringList(value: unknown, path: string, re: RegExp, hint: string, minLength = 0): string[] | undefined {
    if (!Array.isArray(value)) return this.fail(path, `must be a list of ${hint}, not ${describe(value)}`);
    if (value.length < minLength) return this.fail(path, `must list at least ${minLength} ${hint}`);
    const out: string[] = [];
    value.forEach((item, i) => {
      const s = this.string(item, `${path}[${i}]`, re, hint);
      if (s !== undefined) out.push(s);
    });
    if (new Set(out).size !== out.length) this.fail(path, 'lists the same value twice');
    return out;
  }
}

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

function required<T>(
  v: Validator,
  obj: Record<string, unknown>,
  key: string,
  read: (value: unknown, path: string) => T | undefined,
  path = key,
): T | undefined {
  if (obj[key] === undefined) return v.fail(path, 'is required');
  return read(obj[key], path);
}

function optional<T>(
  obj: Record<string, unknown>,
  key: string,
  fallback: T,
  read: (value: unknown, path: string) => T | undefined,
  path: string,
): T | undefined {
  return obj[key] === undefined ? fallback : read(obj[key], path);
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

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `'${value}'`;
  return `${typeof value} ${String(value)}`;
}

function joinPath(path: string, key: string): string {
  return path === '(top level)' ? key : `${path}.${key}`;
}

/** The allowed key nearest to a misspelt one (edit distance at most 2, or a case-only difference). */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
