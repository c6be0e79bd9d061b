import { isAbsolute, join, relative } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOB_KINDS, type DeploymentConfig, type JobKind } from '../../src/config/deployment-config.js';
import { DISPATCHER_ENV } from '../../src/jobs/dispatch-targets.js';
import { JOB_CONTAINER_NAME, type JobWorker } from './job-worker.js';

/** File name of the deployment config inside the dispatcher bundle. */
export const BUNDLED_CONFIG_NAME = 'deployment-config.json';

export interface JobDispatcherProps {
  readonly config: DeploymentConfig;
  /** The deployment config file; copied into the bundle so the function reads the same clusters. */
  readonly configPath: string;
  /** The repository root (where package-lock.json is). */
  readonly projectRoot: string;
  readonly repositoryBucketName: string;
  readonly queue: sqs.IQueue;
  /** Where EventBridge puts a schedule event it could not deliver to the dispatcher (alarmed on). */
  readonly deadLetterQueue: sqs.IQueue;
  readonly ecsCluster: ecs.ICluster;
  readonly worker: JobWorker;
  readonly subnetIds: string[];
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly logGroup: logs.ILogGroup;
}

/**
 * The dispatcher Lambda and its EventBridge schedules: one rule per cluster and job kind (dump,
 * expire, and verify unless turned off), each invoking the dispatcher with
 * `{ cluster, job, scheduledAt: <event time> }`; the dispatcher turns that into one SQS job message
 * (or one Fargate task) for that cluster. The event time makes the job's idempotency key, so an
 * EventBridge or Lambda retry never makes a second backup.
 *
 * The function is bundled with esbuild at synth time (no Docker), with the config file beside it.
 */
export class JobDispatcher extends Construct {
  readonly function: nodejs.NodejsFunction;
  /** Rule per `cluster/job`. */
  readonly rules: ReadonlyMap<string, events.Rule>;

  constructor(scope: Construct, id: string, props: JobDispatcherProps) {
    super(scope, id);
    const { config } = props;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      description: `mysql-pitr ${config.deployment}: turns each schedule into one job per cluster`,
      entry: join(props.projectRoot, 'lambdas/dispatcher.ts'),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      logGroup: props.logGroup,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        sourceMap: true,
        externalModules: ['@aws-sdk/*'],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // A path under the project root works for local and Docker bundling alike (inputDir is the root).
          afterBundling: (inputDir, outputDir) => {
            const rel = relative(props.projectRoot, props.configPath);
            const from = rel.startsWith('..') || isAbsolute(rel) ? props.configPath : `${inputDir}/${rel}`;
            return [`cp ${shellQuote(from)} ${shellQuote(`${outputDir}/${BUNDLED_CONFIG_NAME}`)}`];
          },
        },
      },
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        [DISPATCHER_ENV.deploymentConfig]: `/var/task/${BUNDLED_CONFIG_NAME}`,
        [DISPATCHER_ENV.repositoryBucket]: props.repositoryBucketName,
        [DISPATCHER_ENV.jobQueueUrl]: props.queue.queueUrl,
        [DISPATCHER_ENV.ecsCluster]: props.ecsCluster.clusterArn,
        [DISPATCHER_ENV.taskDefinitions]: JSON.stringify(
          Object.fromEntries(
            [...props.worker.taskDefinitions].map(([name, td]) => [name, td.taskDefinitionArn]),
          ),
        ),
        [DISPATCHER_ENV.containerName]: JOB_CONTAINER_NAME,
        [DISPATCHER_ENV.subnets]: props.subnetIds.join(','),
        [DISPATCHER_ENV.securityGroups]: props.securityGroups.map((sg) => sg.securityGroupId).join(','),
      },
    });
    props.queue.grantSendMessages(this.function);
    for (const td of props.worker.taskDefinitions.values()) td.grantRun(this.function);

    const rules = new Map<string, events.Rule>();
    for (const cluster of config.clusters) {
      for (const job of JOB_KINDS) {
        const expression = cluster.schedules[job];
        if (expression === undefined) continue;
        rules.set(`${cluster.name}/${job}`, this.#rule(cluster.name, job, expression, props.deadLetterQueue));
      }
    }
    this.rules = rules;
  }

  #rule(cluster: string, job: JobKind, expression: string, deadLetterQueue: sqs.IQueue): events.Rule {
    return new events.Rule(this, `Schedule-${cluster}-${job}`, {
      description: `mysql-pitr: ${job} of cluster ${cluster}`,
      schedule: events.Schedule.expression(expression),
      targets: [
        new targets.LambdaFunction(this.function, {
          event: events.RuleTargetInput.fromObject({ cluster, job, scheduledAt: events.EventField.time }),
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
          deadLetterQueue,
        }),
      ],
    });
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
