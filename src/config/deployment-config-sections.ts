/**
 * The sections of the deployment config (`loadDeploymentConfig` in deployment-config.ts reads and
 * validates them): the whole file, image, repository, network, jobs, alarm routing, and per
 * cluster its source, credentials, retention, archiver and alarms.
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
