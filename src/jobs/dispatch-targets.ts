import { ConfigError } from '../config/config-error.js';

/**
 * Environment variables of the dispatcher Lambda, set by the CDK app (cdk/lib/job-dispatcher.ts)
 * and read once by lambdas/dispatcher.ts through `readDispatchTargets`.
 */
export const DISPATCHER_ENV = Object.freeze({
  /** Path of the deployment config JSON inside the Lambda bundle. */
  deploymentConfig: 'MYSQL_PITR_DEPLOYMENT_CONFIG',
  /** Name of the repository bucket (CloudFormation may have generated it). */
  repositoryBucket: 'MYSQL_PITR_REPOSITORY_BUCKET',
  /** URL of the SQS job queue that feeds the Lambda job worker. */
  jobQueueUrl: 'MYSQL_PITR_JOB_QUEUE_URL',
  /** ARN of the ECS cluster that runs Fargate jobs. */
  ecsCluster: 'MYSQL_PITR_JOB_ECS_CLUSTER',
  /** JSON object: cluster name -> ARN of that cluster's Fargate job task definition (it carries the cluster's secret). */
  taskDefinitions: 'MYSQL_PITR_JOB_TASK_DEFINITIONS',
  /** Name of the job container inside that task definition. */
  containerName: 'MYSQL_PITR_JOB_CONTAINER',
  /** Comma-separated subnet ids for Fargate jobs. */
  subnets: 'MYSQL_PITR_JOB_SUBNETS',
  /** Comma-separated security group ids for Fargate jobs. */
  securityGroups: 'MYSQL_PITR_JOB_SECURITY_GROUPS',
});

/** Where the dispatcher sends jobs. */
export interface DispatchTargets {
  /** Repository bucket name, for the `s3://` URL in each message. */
  readonly repositoryBucket: string;
  /** SQS job queue URL (jobs whose worker kind is `lambda`). */
  readonly jobQueueUrl: string;
  /** How to start a Fargate job task (jobs whose worker kind is `fargate`). */
  readonly fargate: FargateJobTarget;
}

export interface FargateJobTarget {
  readonly clusterArn: string;
  /** Job task definition ARN per cluster name; only clusters with a `fargate` worker have one. */
  readonly taskDefinitions: Readonly<Record<string, string>>;
  readonly containerName: string;
  /** Private subnets; the task gets no public IP, so they need a NAT gateway or VPC endpoints. */
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/**
 * Reads DispatchTargets from the dispatcher's environment (passed in; src/ never reads
 * process.env). Throws ConfigError naming every missing variable: the stack and the handler are
 * out of step, so redeploy the stack.
 */
export function readDispatchTargets(env: Readonly<Record<string, string | undefined>>): DispatchTargets {
  const missing: string[] = [];
  const get = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') missing.push(name);
    return value ?? '';
  };
  const list = (name: string): string[] =>
    get(name)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const targets: DispatchTargets = {
    repositoryBucket: get(DISPATCHER_ENV.repositoryBucket),
    jobQueueUrl: get(DISPATCHER_ENV.jobQueueUrl),
    fargate: {
      clusterArn: get(DISPATCHER_ENV.ecsCluster),
      taskDefinitions: taskDefinitionMap(env[DISPATCHER_ENV.taskDefinitions], missing),
      containerName: get(DISPATCHER_ENV.containerName),
      subnetIds: list(DISPATCHER_ENV.subnets),
      securityGroupIds: list(DISPATCHER_ENV.securityGroups),
    },
  };
  if (missing.length > 0) {
    throw new ConfigError(
      `the dispatcher Lambda lacks environment variable${missing.length === 1 ? '' : 's'} ${missing.join(', ')}; ` +
        'the function and its stack are out of step: redeploy the mysql-pitr CDK stack',
    );
  }
  return targets;
}

function taskDefinitionMap(text: string | undefined, missing: string[]): Record<string, string> {
  if (text === undefined || text === '') {
    missing.push(DISPATCHER_ENV.taskDefinitions);
    return {};
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  if (
    typeof data !== 'object' ||
    data === null ||
    Array.isArray(data) ||
    Object.values(data).some((v) => typeof v !== 'string')
  ) {
    throw new ConfigError(
      `the dispatcher Lambda's ${DISPATCHER_ENV.taskDefinitions} is not a JSON object of cluster name to task definition ARN; ` +
        'redeploy the mysql-pitr CDK stack',
    );
  }
  return Object.freeze({ ...(data as Record<string, string>) });
}
