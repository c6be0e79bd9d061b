/**
 * Job worker Lambda: SQS job queue → one job function per message (dump, expire, verify).
 *
 * Runs from the mysql-pitr container image (the Dockerfile adds mariadb-client for dumps) through
 * lambdas/lambda-runtime.ts. The event source mapping has ReportBatchItemFailures on: the
 * handler returns the failed message ids in `batchItemFailures`, so only those are retried and,
 * after maxReceiveCount, moved to the dead-letter queue. Every job runs at most once per
 * idempotency key (src/jobs/run-job.ts), so a redelivered message never makes a second backup.
 *
 * A message names only a cluster and a job kind; everything else (endpoint, secret, repository,
 * retention, TLS) comes from the clusters table the CDK app puts in MYSQL_PITR_JOB_CLUSTERS. A
 * message carrying more, or naming a cluster not in the table, runs nothing and goes to the DLQ.
 */
import { createLogger, type Logger } from '../src/log/index.js';
import {
  JOB_CLUSTERS_ENV,
  parseClusterJobSettings,
  parseS3RepositoryUrl,
  runJob,
  runJobBatch,
  type BatchResponse,
  type ClusterJobSettings,
  type JobFunctions,
  type MetricsSink,
  type ResolvedJob,
} from '../src/jobs/index.js';
import type { ObjectStore } from '../src/storage/object-store.js';
import { S3ObjectStore } from '../src/storage/s3-object-store.js';
import { productionJobFunctions } from './job-functions.js';

/** The part of Lambda's SQS event the worker reads. */
export interface SqsEvent {
  Records?: Array<{ messageId: string; body: string; attributes?: { ApproximateReceiveCount?: string } }>;
}

/** The part of Lambda's context the worker reads. */
export interface LambdaContext {
  awsRequestId?: string;
  getRemainingTimeInMillis?: () => number;
}

export interface WorkerDeps {
  /** The clusters this worker serves, from its deployment config (JOB_CLUSTERS_ENV); messages name one. */
  readonly clusters: ReadonlyMap<string, ClusterJobSettings>;
  readonly functions: JobFunctions;
  /** Opens the repository of the job's cluster (`job.repository`, from the deployment config). */
  readonly openRepository: (job: ResolvedJob) => ObjectStore;
  readonly log: Logger;
  readonly metrics: MetricsSink;
  readonly now?: () => Date;
  /** Claim lease when the context gives no remaining time, seconds (default 960: Lambda's 15 minutes and a margin). */
  readonly leaseSeconds?: number;
}

/** Margin added to the invocation's remaining time for the claim's lease. */
const LEASE_MARGIN_SECONDS = 60;

/** The handler over explicit dependencies (tests pass an emulator-backed repository). */
export function createWorkerHandler(
  deps: WorkerDeps,
): (event: SqsEvent, context?: LambdaContext) => Promise<BatchResponse> {
  const now = deps.now ?? (() => new Date());
  return (event, context) => {
    const remaining = context?.getRemainingTimeInMillis?.();
    const leaseSeconds =
      remaining === undefined
        ? (deps.leaseSeconds ?? 900 + LEASE_MARGIN_SECONDS)
        : Math.ceil(remaining / 1000) + LEASE_MARGIN_SECONDS;
    const owner = `lambda:${context?.awsRequestId ?? 'local'}`;
    return runJobBatch(
      event.Records ?? [],
      deps.clusters,
      (job) =>
        runJob(job, {
          repository: deps.openRepository(job),
          functions: deps.functions,
          log: deps.log,
          metrics: deps.metrics,
          now,
          leaseSeconds,
          owner,
        }),
      deps.log,
    );
  };
}

/** Environment variable naming an S3-compatible endpoint (MinIO, an emulator); unset on AWS. */
export const S3_ENDPOINT_ENV = 'MYSQL_PITR_S3_ENDPOINT';

/**
 * Opens `s3://bucket/prefix/` with the SDK's default credentials and region (the function's or
 * task's role), at `MYSQL_PITR_S3_ENDPOINT` (path-style) when the environment sets it.
 */
export function openS3Repository(
  job: Pick<ResolvedJob, 'repository'>,
  log: Logger,
  env: Readonly<Record<string, string | undefined>>,
): ObjectStore {
  const { bucket, prefix } = parseS3RepositoryUrl(job.repository);
  const endpoint = env[S3_ENDPOINT_ENV];
  return new S3ObjectStore({ bucket, prefix, logger: log, ...(endpoint ? { endpoint } : {}) });
}

/** EMF lines go to stdout, where Lambda's log capture turns them into metrics. */
export const stdoutMetrics: MetricsSink = (line) => {
  process.stdout.write(line + '\n');
};

let production: ReturnType<typeof createWorkerHandler> | undefined;

/** Lambda entry point. */
export async function handler(event: SqsEvent, context?: LambdaContext): Promise<BatchResponse> {
  if (!production) {
    const log = createLogger({ json: true, fields: { component: 'worker' } });
    production = createWorkerHandler({
      clusters: parseClusterJobSettings(process.env[JOB_CLUSTERS_ENV]),
      functions: productionJobFunctions(process.env),
      openRepository: (job) => openS3Repository(job, log, process.env),
      log,
      metrics: stdoutMetrics,
    });
  }
  return production(event, context);
}
