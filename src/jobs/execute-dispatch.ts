import { PitrError, messageOf } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { DispatchPlan, EcsRunTaskInput, SqsSendMessageInput } from './plan-dispatch.js';

/**
 * The two calls the dispatcher makes, as narrow ports: lambdas/dispatcher.ts wires them to the
 * AWS SDK, tests to fakes.
 */
export interface DispatchPorts {
  /** SQS SendMessage; resolves with the message id, rejects on any SQS error. */
  sendMessage(input: SqsSendMessageInput): Promise<{ MessageId?: string }>;
  /** ECS RunTask; resolves with started tasks and per-task failures (RunTask reports capacity problems there, not by throwing). */
  runTask(input: EcsRunTaskInput): Promise<{
    tasks?: Array<{ taskArn?: string }>;
    failures?: Array<{ arn?: string; reason?: string; detail?: string }>;
  }>;
}

/** What was done: the SQS message id or the ECS task ARN. */
export interface DispatchResult {
  readonly via: DispatchPlan['via'];
  readonly idempotencyKey: string;
  /** SQS message id or ECS task ARN. */
  readonly id: string;
}

/**
 * Carries out a DispatchPlan. Throws PitrError JOB_DISPATCH_FAILED (with the SDK error as cause)
 * when SQS or ECS refuses: the dispatcher Lambda then fails and EventBridge/Lambda retry the same
 * event, which yields the same plan, so a retry is safe (ECS deduplicates on clientToken; the
 * worker deduplicates SQS redeliveries on the idempotency key).
 */
export async function executeDispatch(
  plan: DispatchPlan,
  ports: DispatchPorts,
  log: Logger,
): Promise<DispatchResult> {
  const { message } = plan;
  const what = `${message.kind} job for cluster ${message.cluster} (${message.idempotencyKey})`;
  if (plan.via === 'sqs') {
    let out: { MessageId?: string };
    try {
      out = await ports.sendMessage(plan.sendMessage);
    } catch (err) {
      throw new PitrError(
        'JOB_DISPATCH_FAILED',
        `could not send the ${what} to SQS queue ${plan.sendMessage.QueueUrl}: ${messageOf(err)}. ` +
          'The dispatcher will be retried; if this persists, check the queue exists and the dispatcher role may sqs:SendMessage.',
        { cause: err },
      );
    }
    const id = out.MessageId ?? '(no message id)';
    log.info('job queued', {
      cluster: message.cluster,
      job: message.kind,
      idempotencyKey: message.idempotencyKey,
      messageId: id,
    });
    return { via: 'sqs', idempotencyKey: message.idempotencyKey, id };
  }
  let out: Awaited<ReturnType<DispatchPorts['runTask']>>;
  try {
    out = await ports.runTask(plan.runTask);
  } catch (err) {
    throw new PitrError(
      'JOB_DISPATCH_FAILED',
      `could not start a Fargate task for the ${what} in ECS cluster ${plan.runTask.cluster}: ${messageOf(err)}. ` +
        'The dispatcher will be retried; if this persists, check the task definition, subnets and the role may ecs:RunTask and iam:PassRole.',
      { cause: err },
    );
  }
  const taskArn = out.tasks?.[0]?.taskArn;
  if (!taskArn) {
    const reasons = (out.failures ?? [])
      .map((f) => [f.reason, f.detail].filter(Boolean).join(': '))
      .join('; ');
    throw new PitrError(
      'JOB_DISPATCH_FAILED',
      `ECS started no task for the ${what}: ${reasons || 'no reason given'}. ` +
        'The dispatcher will be retried (the same clientToken keeps it to one task); if this persists, check Fargate capacity and the subnets.',
    );
  }
  log.info('job task started', {
    cluster: message.cluster,
    job: message.kind,
    idempotencyKey: message.idempotencyKey,
    taskArn,
  });
  return { via: 'fargate', idempotencyKey: message.idempotencyKey, id: taskArn };
}
