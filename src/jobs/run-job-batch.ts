import { messageOf } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { resolveJob, type ClusterJobSettings, type ResolvedJob } from './cluster-job-settings.js';
import { parseJobMessage } from './job-message.js';
import type { JobRunResult } from './run-job.js';

/** One SQS record, as much of it as the worker needs (field names as in the Lambda SQS event). */
export interface JobRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

/** Lambda's partial batch response: the records to retry; every other record is deleted. */
export interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/**
 * Runs the jobs of one SQS batch, one after another, and reports the failed ones in
 * `batchItemFailures` (the event source mapping has ReportBatchItemFailures on), so only those are
 * retried and, after the queue's maxReceiveCount, moved to the dead-letter queue.
 *
 * A body that is not a valid job message (one carrying anything but a cluster and a job kind) or
 * names a cluster not in `clusters` (the worker's deployment config) is reported as failed too,
 * without running anything: it can never succeed, and the dead-letter queue (and its alarm) is
 * where an operator will find it. Never rejects.
 */
export async function runJobBatch(
  records: readonly JobRecord[],
  clusters: ReadonlyMap<string, ClusterJobSettings>,
  run: (job: ResolvedJob) => Promise<JobRunResult>,
  log: Logger,
): Promise<BatchResponse> {
  const failures: BatchResponse['batchItemFailures'] = [];
  for (const record of records) {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    let job: ResolvedJob;
    try {
      job = resolveJob(parseJobMessage(record.body), clusters);
    } catch (err) {
      log.error('rejecting a message that is not a mysql-pitr job; it will go to the dead-letter queue', {
        messageId: record.messageId,
        error: messageOf(err),
      });
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    try {
      const result = await run(job);
      log.info('message handled', {
        messageId: record.messageId,
        idempotencyKey: job.idempotencyKey,
        status: result.status,
      });
    } catch (err) {
      log.error(
        'job attempt failed; SQS will deliver the message again until maxReceiveCount, then to the dead-letter queue',
        {
          messageId: record.messageId,
          cluster: job.cluster,
          job: job.kind,
          idempotencyKey: job.idempotencyKey,
          receiveCount,
          error: err,
        },
      );
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}
