import { isPitrError, messageOf } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import { StorageError } from '../storage/storage-error.js';
import type { JobContext, JobFunctions, JobOutcome } from './job-functions.js';
import type { ResolvedJob } from './cluster-job-settings.js';
import type { JobMessage } from './job-message.js';
import { METRIC, emfLine, type MetricsSink } from './job-metrics.js';

/** What the worker needs to run one job. */
export interface RunJobDeps {
  /** The job's cluster repository (opened from the cluster's settings); the job markers live in it. */
  readonly repository: ObjectStore;
  readonly functions: JobFunctions;
  readonly log: Logger;
  readonly metrics: MetricsSink;
  readonly now: () => Date;
  /**
   * How long a claim holds, seconds: at least the worker's own time limit (the Lambda timeout),
   * so a claim is only taken over once its holder is surely dead.
   */
  readonly leaseSeconds: number;
  /** Who runs it, for the claim marker and logs (Lambda request id, ECS task ARN). */
  readonly owner: string;
}

/**
 * - `succeeded`: this call ran the job and it finished.
 * - `already-done`: an earlier delivery of the same job finished it; nothing was run.
 * - `in-progress`: another worker holds a live claim on it; nothing was run.
 */
export type JobRunStatus = 'succeeded' | 'already-done' | 'in-progress';

export interface JobRunResult {
  readonly status: JobRunStatus;
  readonly outcome?: JobOutcome;
}

/** Keys of the two markers of one job, relative to the cluster's repository. */
export interface JobMarkerKeys {
  /** Claim of a running attempt; removed when the attempt ends. */
  readonly running: string;
  /** Written once the job succeeded; its presence makes every later delivery a no-op. */
  readonly done: string;
}

/** `jobs/dump/20240501T030000Z.running.json` and `….done.json`: one pair per scheduled run. */
export function jobMarkerKeys(job: Pick<JobMessage, 'kind' | 'scheduledAt'>): JobMarkerKeys {
  const stamp = job.scheduledAt.replace(/[-:]/g, '');
  const base = `jobs/${job.kind}/${stamp}`;
  return { running: `${base}.running.json`, done: `${base}.done.json` };
}

interface Claim {
  owner: string;
  startedAt: string;
  leaseUntil: string;
}

/**
 * Runs one job at most once per idempotency key, however often it is delivered.
 *
 * SQS delivers at least once and the dispatcher may be retried, so the same job can arrive twice,
 * even at the same time. Two marker objects in the cluster's repository make that harmless:
 * a `done` marker, written when the job succeeds, turns every later delivery into a no-op; a
 * `running` claim, created put-if-absent, keeps a concurrent delivery from starting a second run.
 * A claim older than `leaseSeconds` belongs to a worker that died (a Lambda timeout) and is taken
 * over. A failed attempt removes its claim, so the queue's retry can run the job again.
 *
 * Emits EMF metrics: JobSucceeded / JobFailed, BackupSucceeded for dumps, VerifyFailed and
 * NewestCommitUnrestorable for verify.
 *
 * Rejects with the job function's error when the job failed (the caller reports the message as
 * failed so SQS retries it), or with a StorageError when the markers cannot be read or written.
 */
export async function runJob(job: ResolvedJob, deps: RunJobDeps): Promise<JobRunResult> {
  const { repository, log: parentLog, now } = deps;
  const log = parentLog.child({ cluster: job.cluster, job: job.kind, idempotencyKey: job.idempotencyKey });
  const keys = jobMarkerKeys(job);

  if (await repository.exists(keys.done)) {
    log.info('job already done by an earlier delivery; skipping', { marker: keys.done });
    return { status: 'already-done' };
  }
  if (!(await claim(job, keys, deps, log))) return { status: 'in-progress' };
  // The holder of an earlier claim may have finished between our check and our claim.
  if (await repository.exists(keys.done)) {
    await release(keys, deps, log);
    log.info('job finished by another delivery while we claimed it; skipping', { marker: keys.done });
    return { status: 'already-done' };
  }

  const ctx: JobContext = { repository, log };
  const started = now();
  let outcome: JobOutcome;
  try {
    log.info('job started', { owner: deps.owner });
    outcome = await deps.functions[job.kind](job, ctx);
  } catch (err) {
    deps.metrics(
      emfLine(
        job.cluster,
        { [METRIC.jobFailed]: 1, ...(job.kind === 'verify' ? { [METRIC.verifyFailed]: 1 } : {}) },
        now(),
      ),
    );
    log.error('job failed', { error: err, seconds: elapsed(started, now()) });
    await release(keys, deps, log);
    throw err;
  }

  const finished = now();
  await repository.put(
    keys.done,
    Buffer.from(
      JSON.stringify({
        idempotencyKey: job.idempotencyKey,
        owner: deps.owner,
        startedAt: started.toISOString(),
        finishedAt: finished.toISOString(),
        outcome,
      }),
    ),
    { contentType: 'application/json' },
  );
  await release(keys, deps, log);
  const values: Record<string, number> = { [METRIC.jobSucceeded]: 1 };
  if (job.kind === 'dump') values[METRIC.backupSucceeded] = 1;
  if (job.kind === 'verify') values[METRIC.verifyFailed] = outcome.verified === false ? 1 : 0;
  if (job.kind === 'verify' && outcome.newestRestorable !== undefined) {
    values[METRIC.newestCommitUnrestorable] = outcome.newestRestorable ? 0 : 1;
  }
  deps.metrics(emfLine(job.cluster, values, finished));
  if (outcome.verified === false) {
    log.error('verify found problems in the repository; run `mysql-pitr verify` by hand to see them', {
      details: outcome.details,
    });
  }
  log.info('job succeeded', { seconds: elapsed(started, finished), details: outcome.details });
  return { status: 'succeeded', outcome };
}

/** Takes the running claim. Returns false when another worker holds a live one. */
async function claim(job: JobMessage, keys: JobMarkerKeys, deps: RunJobDeps, log: Logger): Promise<boolean> {
  const { repository, now } = deps;
  const body = (): Buffer => {
    const t = now();
    const c: Claim = {
      owner: deps.owner,
      startedAt: t.toISOString(),
      leaseUntil: new Date(t.getTime() + deps.leaseSeconds * 1000).toISOString(),
    };
    return Buffer.from(JSON.stringify(c));
  };
  // Two rounds: a claim that disappears between our failed put and our read was just released.
  for (let round = 0; round < 2; round++) {
    try {
      await repository.put(keys.running, body(), { ifAbsent: true, contentType: 'application/json' });
      return true;
    } catch (err) {
      if (!isPitrError(err, 'STORAGE_PRECONDITION_FAILED')) throw err;
    }
    let held: Claim;
    try {
      held = JSON.parse((await repository.get(keys.running)).toString('utf8')) as Claim;
    } catch (err) {
      if (isPitrError(err, 'OBJECT_NOT_FOUND')) continue;
      if (err instanceof SyntaxError) {
        held = { owner: '(unreadable claim)', startedAt: '', leaseUntil: '' };
      } else {
        throw err;
      }
    }
    const until = Date.parse(held.leaseUntil);
    if (Number.isFinite(until) && until > now().getTime()) {
      log.info('job is running in another worker; skipping this delivery', {
        holder: held.owner,
        leaseUntil: held.leaseUntil,
      });
      return false;
    }
    log.warn('taking over the job from a worker that did not finish within its lease', {
      holder: held.owner,
      leaseUntil: held.leaseUntil,
    });
    await repository.put(keys.running, body(), { contentType: 'application/json' });
    return true;
  }
  throw new StorageError(
    'STORAGE_PRECONDITION_FAILED',
    `could not claim ${job.kind} job ${job.idempotencyKey}: its claim ${keys.running} in ${repository.describe()} ` +
      'kept appearing and disappearing. Another worker is racing for it; SQS will retry this delivery.',
    { store: repository.describe(), key: keys.running },
  );
}

/** Removes the running claim; a failure only delays a retry until the lease ends, so it is logged, not thrown. */
async function release(keys: JobMarkerKeys, deps: RunJobDeps, log: Logger): Promise<void> {
  try {
    await deps.repository.delete([keys.running]);
  } catch (err) {
    log.warn('could not remove the job claim; a retry will wait for the lease to end', {
      marker: keys.running,
      error: messageOf(err),
    });
  }
}

function elapsed(from: Date, to: Date): number {
  return Math.round((to.getTime() - from.getTime()) / 100) / 10;
}
