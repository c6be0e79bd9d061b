/**
 * Dispatcher Lambda: EventBridge schedule rule → one job for one cluster.
 *
 * Each rule's input is `{ cluster, job, scheduledAt }` (scheduledAt is the scheduled event's time).
 * The handler loads the deployment config bundled next to it (once per container), plans the
 * dispatch (src/jobs/plan-dispatch.ts) and either sends the job to the SQS job queue (Lambda
 * worker) or starts a Fargate job task with ecs:RunTask. A thrown error makes Lambda retry the
 * same event; the plan is deterministic, so retries are idempotent.
 *
 * Runtime: nodejs20.x, ESM. Only `@aws-sdk/*` (provided by the runtime) and relative imports are
 * allowed: the CDK app bundles this file with its relative imports and nothing else.
 */
import { SQSClient, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { loadDeploymentConfig, type DeploymentConfig } from '../src/config/deployment-config.js';
import { createLogger } from '../src/log/index.js';
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

/** The ECS client is not a dependency of the project; the nodejs20.x runtime ships the whole AWS SDK v3. */
const ECS_CLIENT_MODULE: string = '@aws-sdk/client-ecs';

interface EcsModule {
  ECSClient: new (config: Record<string, unknown>) => { send(command: unknown): Promise<unknown> };
  RunTaskCommand: new (input: EcsRunTaskInput) => unknown;
}

const log = createLogger({ fields: { component: 'dispatcher' } });
let state: { config: DeploymentConfig; targets: DispatchTargets; ports: DispatchPorts } | undefined;

function init(): NonNullable<typeof state> {
  if (state) return state;
  const configPath = process.env[DISPATCHER_ENV.deploymentConfig];
  const config = loadDeploymentConfig(configPath ?? new URL('../deployment-config.json', import.meta.url));
  const targets = readDispatchTargets(process.env);
  const sqs = new SQSClient({});
  let ecs: Promise<{ client: { send(command: unknown): Promise<unknown> }; mod: EcsModule }> | undefined;
  const ports: DispatchPorts = {
    sendMessage: (input) =>
      sqs.send(
        new SendMessageCommand({
          ...input,
          MessageAttributes: input.MessageAttributes as Record<string, MessageAttributeValue>,
        }),
      ),
    runTask: async (input) => {
      ecs ??= (import(ECS_CLIENT_MODULE) as Promise<EcsModule>).then((mod) => ({ mod, client: new mod.ECSClient({}) }));
      const { mod, client } = await ecs;
      return (await client.send(new mod.RunTaskCommand(input))) as Awaited<ReturnType<DispatchPorts['runTask']>>;
    },
  };
  state = { config, targets, ports };
  return state;
}

/** Lambda entry point. */
export async function handler(event: unknown): Promise<DispatchResult> {
  const { config, targets, ports } = init();
  const plan = planDispatch(event, config, targets, new Date());
  return executeDispatch(plan, ports, log);
}
