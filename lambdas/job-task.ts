/**
 * Fargate job task: runs the one job the dispatcher put in `MYSQL_PITR_JOB` and exits.
 *
 * Used for clusters whose `workers.<kind>` is `fargate` (dumps that may outlast Lambda's 15
 * minutes). ECS RunTask is not retried, so a failed run shows up as a JobFailed metric, a
 * non-zero exit code (the task's stopped reason) and, for dumps, the backup-age alarm; the next
 * schedule runs it again. The same idempotency markers as the Lambda worker apply, so a task
 * started twice for one scheduled run (a retried dispatch) makes one backup.
 */
import { exitCodeFor } from '../src/errors/exit-codes.js';
import { isPitrError } from '../src/errors/index.js';
import {
  JOB_CLUSTERS_ENV,
  JOB_ENV_VAR,
  parseClusterJobSettings,
  parseJobMessage,
  resolveJob,
  runJob,
} from '../src/jobs/index.js';
import { createLogger } from '../src/log/index.js';
import { productionJobFunctions } from './job-functions.js';
import { openS3Repository, stdoutMetrics } from './worker.js';

/** A Fargate job holds its claim this long: far beyond any dump, short enough to recover a dead task the next day. */
const FARGATE_LEASE_SECONDS = 20 * 3600;

async function main(): Promise<number> {
  const log = createLogger({ json: true, fields: { component: 'job-task' } });
  try {
    // The task definition is the cluster's own: its table holds that one cluster, so a task started
    // with another cluster's name (a RunTask override) runs nothing.
    const job = resolveJob(
      parseJobMessage(process.env[JOB_ENV_VAR] ?? ''),
      parseClusterJobSettings(process.env[JOB_CLUSTERS_ENV]),
    );
    const result = await runJob(job, {
      repository: openS3Repository(job, log, process.env),
      // ECS injects the password as a container secret; a task without it is misconfigured, and
      // reading Secrets Manager from here would only hide that.
      functions: productionJobFunctions(process.env, (secretId) =>
        Promise.reject(
          new Error(
            `this Fargate job task has no MYSQL_PITR_SOURCE_PASSWORD; its task definition must map the secret ${secretId} ` +
              'to that variable (cdk/lib/job-worker.ts does): redeploy the stack',
          ),
        ),
      ),
      log,
      metrics: stdoutMetrics,
      now: () => new Date(),
      leaseSeconds: FARGATE_LEASE_SECONDS,
      owner: `ecs:${process.env['ECS_CONTAINER_METADATA_URI_V4'] ?? 'local'}`,
    });
    log.info('job task finished', { status: result.status });
    return 0;
  } catch (err) {
    log.error('job task failed', { error: err });
    return isPitrError(err) ? exitCodeFor(err.code) : 1;
  }
}

process.exitCode = await main();
