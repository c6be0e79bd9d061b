import { createHash } from 'node:crypto';
import { ConfigError } from '../config/config-error.js';
import {
  JOB_KINDS,
  type DeploymentConfig,
  type JobKind,
  type WorkerKind,
} from '../config/deployment-config.js';
import type { DispatchTargets } from './dispatch-targets.js';
import {
  JOB_ENV_VAR,
  JOB_MESSAGE_SCHEMA,
  jobIdempotencyKey,
  normaliseScheduledAt,
  type JobMessage,
} from './job-message.js';

/**
 * The input of one schedule rule, as the CDK app writes it: the cluster, the job, and
 * EventBridge's `time` of the scheduled event (the same on every retry of that event).
 * `scheduledAt` may be left out when invoking the dispatcher by hand; the clock is used then.
 */
export interface ScheduleEvent {
  readonly cluster: string;
  readonly job: JobKind;
  readonly scheduledAt?: string;
}

/** SQS SendMessage input (the subset the dispatcher sets; field names as in the AWS SDK). */
export interface SqsSendMessageInput {
  readonly QueueUrl: string;
  readonly MessageBody: string;
  readonly MessageAttributes: Readonly<
    Record<string, { readonly DataType: 'String'; readonly StringValue: string }>
  >;
}

/** ECS RunTask input (the subset the dispatcher sets; field names as in the AWS SDK). */
export interface EcsRunTaskInput {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly launchType: 'FARGATE';
  readonly count: 1;
  /** ECS deduplicates RunTask calls with the same token: a retried dispatch starts no second task. */
  readonly clientToken: string;
  readonly startedBy: string;
  readonly propagateTags: 'TASK_DEFINITION';
  readonly networkConfiguration: {
    readonly awsvpcConfiguration: {
      readonly subnets: string[];
      readonly securityGroups: string[];
      readonly assignPublicIp: 'DISABLED';
    };
  };
  readonly overrides: {
    readonly containerOverrides: Array<{
      readonly name: string;
      readonly environment: Array<{ readonly name: string; readonly value: string }>;
    }>;
  };
}

/** What the dispatcher will do for one schedule event: data, so it can be tested and logged. */
export type DispatchPlan =
  | { readonly via: 'sqs'; readonly message: JobMessage; readonly sendMessage: SqsSendMessageInput }
  | { readonly via: 'fargate'; readonly message: JobMessage; readonly runTask: EcsRunTaskInput };

/**
 * Turns one schedule event into one job for one cluster: a message on the SQS job queue when the
 * cluster runs that job kind on the Lambda worker, or an ECS RunTask request when it runs it on
 * Fargate. Pure: the same event, config and targets always give the same plan, and the same
 * idempotency key (`cluster/job/scheduledAt`), so a redelivered event never makes a second backup.
 *
 * `now` is used only when the event has no `scheduledAt` (a manual invocation).
 *
 * Throws ConfigError when the event is malformed, names a cluster the config does not have, or
 * asks for a job the cluster has turned off.
 */
export function planDispatch(
  event: unknown,
  config: DeploymentConfig,
  targets: DispatchTargets,
  now: Date,
): DispatchPlan {
  const { cluster: name, job, scheduledAt: rawTime } = readScheduleEvent(event);
  const cluster = config.clusters.find((c) => c.name === name);
  if (!cluster) {
    throw new ConfigError(
      `schedule event names cluster '${name}', which is not in deployment '${config.deployment}' ` +
        `(clusters: ${config.clusters.map((c) => c.name).join(', ')}); redeploy the stack so the rules and the bundled config agree`,
    );
  }
  if (job === 'verify' && cluster.schedules.verify === undefined) {
    throw new ConfigError(
      `verify is turned off for cluster '${name}' (schedules.verify is 'off'); nothing was dispatched`,
    );
  }
  let scheduledAt: string;
  let trigger: JobMessage['trigger'];
  if (rawTime === undefined) {
    scheduledAt = normaliseScheduledAt(now.toISOString())!;
    trigger = 'manual';
  } else {
    const normalised = normaliseScheduledAt(rawTime);
    if (normalised === undefined) {
      throw new ConfigError(
        `schedule event scheduledAt '${rawTime}' is not an ISO-8601 UTC time such as 2024-05-01T03:00:00Z`,
      );
    }
    scheduledAt = normalised;
    trigger = 'schedule';
  }
  const message: JobMessage = {
    schema: JOB_MESSAGE_SCHEMA,
    kind: job,
    cluster: cluster.name,
    idempotencyKey: jobIdempotencyKey(cluster.name, job, scheduledAt),
    scheduledAt,
    trigger,
  };
  const body = JSON.stringify(message);
  const worker: WorkerKind = cluster.workers[job];
  if (worker === 'lambda') {
    return {
      via: 'sqs',
      message,
      sendMessage: {
        QueueUrl: targets.jobQueueUrl,
        MessageBody: body,
        MessageAttributes: {
          idempotencyKey: { DataType: 'String', StringValue: message.idempotencyKey },
          cluster: { DataType: 'String', StringValue: cluster.name },
          job: { DataType: 'String', StringValue: job },
        },
      },
    };
  }
  const f = targets.fargate;
  const taskDefinition = f.taskDefinitions[cluster.name];
  if (taskDefinition === undefined) {
    throw new ConfigError(
      `cluster '${cluster.name}' runs ${job} jobs on Fargate but the dispatcher knows no job task definition for it; ` +
        'the function and its stack are out of step: redeploy the mysql-pitr CDK stack',
    );
  }
  return {
    via: 'fargate',
    message,
    runTask: {
      cluster: f.clusterArn,
      taskDefinition,
      launchType: 'FARGATE',
      count: 1,
      clientToken: ecsClientToken(message.idempotencyKey),
      startedBy: `mysql-pitr/${cluster.name}/${job}`,
      propagateTags: 'TASK_DEFINITION',
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: [...f.subnetIds],
          securityGroups: [...f.securityGroupIds],
          assignPublicIp: 'DISABLED',
        },
      },
      overrides: {
        containerOverrides: [{ name: f.containerName, environment: [{ name: JOB_ENV_VAR, value: body }] }],
      },
    },
  };
}

/** RunTask's clientToken allows at most 64 characters: the SHA-256 of the idempotency key, in hex. */
export function ecsClientToken(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex');
}

function readScheduleEvent(event: unknown): ScheduleEvent {
  const example = '{"cluster":"orders","job":"dump","scheduledAt":"2024-05-01T03:00:00Z"}';
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new ConfigError(`schedule event must be an object such as ${example}`);
  }
  const e = event as Record<string, unknown>;
  const { cluster, job, scheduledAt } = e;
  if (typeof cluster !== 'string' || cluster === '') {
    throw new ConfigError(`schedule event has no cluster name; expected ${example}`);
  }
  if (typeof job !== 'string' || !(JOB_KINDS as readonly string[]).includes(job)) {
    throw new ConfigError(
      `schedule event job ${JSON.stringify(job)} is not one of ${JOB_KINDS.join(', ')}; expected ${example}`,
    );
  }
  if (scheduledAt !== undefined && typeof scheduledAt !== 'string') {
    throw new ConfigError(`schedule event scheduledAt must be a string such as 2024-05-01T03:00:00Z`);
  }
  return { cluster, job: job as JobKind, ...(scheduledAt === undefined ? {} : { scheduledAt }) };
}
