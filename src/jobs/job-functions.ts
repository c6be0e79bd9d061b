import type { Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ResolvedJob } from './cluster-job-settings.js';

/** What a job function gets besides the job: the cluster's repository and a logger for the run. */
export interface JobContext {
  /** The cluster's repository (`job.repository`, from the deployment config), already opened. */
  readonly repository: ObjectStore;
  /** Logger carrying the cluster, job kind and idempotency key. */
  readonly log: Logger;
}

/** What a job function reports back; kept in the job's done marker and logged. */
export interface JobOutcome {
  /** Small JSON-safe summary (backup id, objects deleted, …). */
  readonly details?: Readonly<Record<string, unknown>>;
  /**
   * `verify` only: false when the repository failed verification. Such a run still completes (a
   * retry would find the same damage) but raises the VerifyFailed metric, and so the alarm.
   */
  readonly verified?: boolean;
  /**
   * `verify` only: false when no restore can reach the newest archived commit (a break after the
   * last backup, a timeline without a backup); raises the NewestCommitUnrestorable metric.
   * Undefined when nothing is archived yet.
   */
  readonly newestRestorable?: boolean;
}

/**
 * The narrow port between the job workers (Lambda and Fargate) and the domain: one function per
 * job kind. `runJob` calls exactly one of them per job and handles idempotency, markers and
 * metrics around it, so an implementation only does the work.
 *
 * Each function resolves when the job is done and rejects (preferably with a PitrError whose
 * message tells the operator what to do) when it failed; a rejected job is retried by SQS and
 * lands in the dead-letter queue after the queue's maxReceiveCount.
 */
export interface JobFunctions {
  /** Takes a consistent dump of `job.source` into `job.repository` (`backup create`). */
  dump(job: ResolvedJob, ctx: JobContext): Promise<JobOutcome>;
  /** Deletes backups and binlogs older than `job.retention` allows (`expire`). */
  expire(job: ResolvedJob, ctx: JobContext): Promise<JobOutcome>;
  /** Checks the repository: manifests, checksums, an unbroken binlog chain (`verify`). */
  verify(job: ResolvedJob, ctx: JobContext): Promise<JobOutcome>;
  /** Merges the segments of closed binlog files into few large objects (`binlog compact`). */
  compact(job: ResolvedJob, ctx: JobContext): Promise<JobOutcome>;
}
