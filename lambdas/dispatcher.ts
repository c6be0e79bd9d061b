/**
 * Dispatcher Lambda: EventBridge schedule rule → one job for one cluster.
 *
 * Each rule's input is `{ cluster, job, scheduledAt }` (scheduledAt is the scheduled event's
 * time, `<aws.events.event.time>`). The handler loads the deployment config bundled next to it
 * (once per container), plans the dispatch (src/jobs/plan-dispatch.ts) and either sends the job
 * to the SQS job queue (Lambda worker) or starts the cluster's Fargate job task with ecs:RunTask.
 * A thrown error makes Lambda retry the same event; the plan is deterministic, so retries are
 * idempotent.
 *
 * Runtime: nodejs22.x, ESM, bundled by esbuild at synth time (cdk/lib/job-dispatcher.ts). Only
 * `@aws-sdk/*` (provided by the runtime) and relative imports are allowed.
 */
import { SQSClient, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { loadDeploymentConfig, type DeploymentConfig } from '../src/config/deployment-config.js';
import { createLogger, type Logger } from '../src/log/index.js';
import {
  DISPATCHER_ENV,
  executeDispatch,
  planDispatch,
  readDispatchTargets,
  type DispatchPorts,
  type DispatchResult,
  type DispatchTargets,
  type EcsRunTaskInput,
} from '../src/jobs/index.js';

/** The ECS client is not a dependency of the project; the nodejs22.x runtime ships the whole AWS SDK v3. */
const ECS_CLIENT_MODULE: string = '@aws-sdk/client-ecs';

interface EcsModule {
  ECSClient: new (config: Record<string, unknown>) => { send(command: unknown): Promise<unknown> };
  RunTaskCommand: new (input: EcsRunTaskInput) => unknown;
}

/** Everything the dispatcher handler needs; `handler` builds it from the environment. */
export interface DispatcherDeps {
  readonly config: DeploymentConfig;
  readonly targets: DispatchTargets;
  readonly ports: DispatchPorts;
  readonly log: Logger;
  readonly now?: () => Date;
}

/** SQS and ECS ports backed by the AWS SDK; `sqs` may point at an emulator. */
export function awsDispatchPorts(sqs: SQSClient): DispatchPorts {
  let ecs: Promise<{ client: { send(command: unknown): Promise<unknown> }; mod: EcsModule }> | undefined;
  return {
    sendMessage: (input) =>
      sqs.send(
        new SendMessageCommand({
          ...input,
          MessageAttributes: input.MessageAttributes as Record<string, MessageAttributeValue>,
        }),
      ),
    runTask: async (input) => {
      ecs ??= (import(ECS_CLIENT_MODULE) as Promise<EcsModule>).then((mod) => ({
        mod,
        client: new mod.ECSClient({}),
      }));
      const { mod, client } = await ecs;
      return (await client.send(new mod.RunTaskCommand(input))) as Awaited<
        ReturnType<DispatchPorts['runTask']>
      >;
    },
  };
}

/** The handler over explicit dependencies (tests pass an emulator-backed SQS client). */
export function createDispatcherHandler(deps: DispatcherDeps): (event: unknown) => Promise<DispatchResult> {
  const now = deps.now ?? (() => new Date());
  return async (event) => {
    try {
      const plan = planDispatch(event, deps.config, deps.targets, now());
      return await executeDispatch(plan, deps.ports, deps.log);
    } catch (err) {
      deps.log.error('dispatch failed', { event, error: err });
      throw err;
    }
  };
}

let production: ((event: unknown) => Promise<DispatchResult>) | undefined;

/** Lambda entry point. */
export async function handler(event: unknown): Promise<DispatchResult> {
  if (!production) {
    const configPath = process.env[DISPATCHER_ENV.deploymentConfig];
    production = createDispatcherHandler({
      config: loadDeploymentConfig(configPath ?? new URL('./deployment-config.json', import.meta.url)),
      targets: readDispatchTargets(process.env),
      ports: awsDispatchPorts(new SQSClient({})),
      log: createLogger({ json: true, fields: { component: 'dispatcher' } }),
    });
  }
  return production(event);
}
