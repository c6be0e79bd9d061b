import { messageOf } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { parseJobMessage, type JobMessage } from './job-message.js';
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
 * A body that is not a valid job message is reported as failed too: it can never succeed, and the
 * dead-letter queue (and its alarm) is where an operator will find it. Never rejects.
 */
export async function runJobBatch(
  records: readonly JobRecord[],
  run: (job: JobMessage) => Promise<JobRunResult>,
  log: Logger,
): Promise<BatchResponse> {
  const failures: BatchResponse['batchItemFailures'] = [];
  for (const record of records) {
    const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
    let job: JobMessage;
    try {
      job = parseJobMessage(record.body);
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
