import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Deliveries of one job message before it moves to the dead-letter queue. */
export const JOB_MAX_RECEIVE_COUNT = 3;

/**
 * The SQS job queue feeding the Lambda job worker, with a dead-letter queue for jobs that failed
 * JOB_MAX_RECEIVE_COUNT times (or were not job messages at all). The visibility timeout is six
 * times the worker's timeout, as AWS recommends for Lambda event sources, so a message is never
 * redelivered while a worker still runs it.
 */
export class JobQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: { workerTimeout: Duration }) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: JOB_MAX_RECEIVE_COUNT },
    });
  }
}
