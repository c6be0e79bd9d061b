import { Duration, Size, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  JOB_KINDS,
  type ClusterConfig,
  type JobsConfig,
  type RepositoryConfig,
} from '../../src/config/deployment-config.js';
import { JOB_CLUSTERS_ENV, clusterJobSettings } from '../../src/jobs/cluster-job-settings.js';
import { IMAGE_APP_DIR, type PitrImage } from './pitr-image.js';
import type { RepositoryBucket } from './repository-bucket.js';

/** Name of the container in every Fargate job task definition. */
export const JOB_CONTAINER_NAME = 'job';

export interface JobWorkerProps {
  readonly deployment: string;
  readonly jobs: JobsConfig;
  readonly clusters: readonly ClusterConfig[];
  readonly secrets: ReadonlyMap<string, secretsmanager.ISecret>;
  readonly queue: sqs.IQueue;
  readonly ecsCluster: ecs.ICluster;
  readonly image: PitrImage;
  readonly repository: RepositoryBucket;
  /** The repository section of the deployment config (the key prefix of every cluster). */
  readonly repositoryConfig: Pick<RepositoryConfig, 'prefix'>;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly functionLogGroup: logs.ILogGroup;
  readonly taskLogGroup: logs.ILogGroup;
}

/**
 * Runs dump, expire and verify jobs, two ways, chosen per cluster and job kind (`workers` in the
 * config):
 *
 * - `lambda`: one container-image Lambda (the mysql-pitr image, with mariadb-client) fed by the
 *   SQS job queue, one message per invocation, failures reported as batchItemFailures. Cheap,
 *   starts in seconds, but stops at 15 minutes.
 * - `fargate`: a one-off Fargate task per job, started by the dispatcher with ecs:RunTask from the
 *   cluster's job task definition, which carries the cluster's password as an ECS secret. No time
 *   limit; for dumps of large databases.
 *
 * Both can delete from the repository (the expire job deletes); the archiver cannot.
 *
 * A job message names only a cluster and a job kind; each worker takes every parameter from the
 * clusters table (MYSQL_PITR_JOB_CLUSTERS) in its own definition. The Lambda's table, secrets and
 * repository access cover only the clusters that run at least one job kind on Lambda (one role for
 * them all: the trust boundary is the deployment, see the README's security section). Each Fargate
 * job task definition has its own task role, confined to its cluster's prefix, a table holding only
 * its cluster, and its cluster's password as an ECS secret (read by the execution role at start).
 */
export class JobWorker extends Construct {
  readonly function: lambda.DockerImageFunction;
  /** Job task definition per cluster that runs at least one job kind on Fargate. */
  readonly taskDefinitions: ReadonlyMap<string, ecs.FargateTaskDefinition>;
  /** Task role per cluster with a Fargate job task definition, confined to that cluster's prefix. */
  readonly taskRoles: ReadonlyMap<string, iam.Role>;

  constructor(scope: Construct, id: string, props: JobWorkerProps) {
    super(scope, id);
    const timeout = Duration.seconds(props.jobs.lambdaTimeoutSeconds);
    const bucketName = props.repository.bucket.bucketName;
    const table = (clusters: readonly ClusterConfig[], worker: 'lambda' | 'fargate'): string =>
      Stack.of(this).toJsonString(
        clusterJobSettings({ clusters, repository: props.repositoryConfig }, bucketName, worker),
      );
    const lambdaClusters = props.clusters.filter((c) =>
      JOB_KINDS.some((kind) => c.workers[kind] === 'lambda'),
    );
    checkLambdaEnvironmentSize(lambdaClusters, props.repositoryConfig);
    this.function = new lambda.DockerImageFunction(this, 'Function', {
      description: `mysql-pitr ${props.deployment}: runs dump, expire and verify jobs from the job queue`,
      code: props.image.lambdaCode(['node', `${IMAGE_APP_DIR}/dist/lambdas/lambda-runtime.js`], ['worker']),
      architecture: lambda.Architecture.X86_64,
      memorySize: props.jobs.lambdaMemoryMiB,
      timeout,
      ephemeralStorageSize: Size.mebibytes(props.jobs.lambdaEphemeralStorageMiB),
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: props.securityGroups,
      logGroup: props.functionLogGroup,
      environment: {
        MYSQL_PITR_DEPLOYMENT: props.deployment,
        NODE_OPTIONS: '--enable-source-maps',
        [JOB_CLUSTERS_ENV]: table(lambdaClusters, 'lambda'),
      },
    });
    this.function.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.jobs.maxConcurrency,
      }),
    );
    for (const cluster of lambdaClusters) {
      props.repository.grantJobWorker(this.function, cluster.name);
      props.secrets.get(cluster.name)!.grantRead(this.function);
    }

    const taskDefinitions = new Map<string, ecs.FargateTaskDefinition>();
    const taskRoles = new Map<string, iam.Role>();
    for (const cluster of props.clusters) {
      if (!JOB_KINDS.some((kind) => cluster.workers[kind] === 'fargate')) continue;
      const taskRole = new iam.Role(this, `TaskRole-${cluster.name}`, {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
        description: `mysql-pitr ${props.deployment}: Fargate job tasks of cluster ${cluster.name}`,
      });
      props.repository.grantJobWorker(taskRole, cluster.name);
      taskRoles.set(cluster.name, taskRole);
      const td = new ecs.FargateTaskDefinition(this, `TaskDefinition-${cluster.name}`, {
        family: `mysql-pitr-job-${cluster.name}`,
        cpu: props.jobs.fargateCpu,
        memoryLimitMiB: props.jobs.fargateMemoryMiB,
        ephemeralStorageGiB: props.jobs.fargateEphemeralStorageGiB,
        taskRole,
        runtimePlatform: {
          cpuArchitecture: ecs.CpuArchitecture.X86_64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
      });
      td.addContainer(JOB_CONTAINER_NAME, {
        image: props.image.ecsImage(),
        command: ['node', `${IMAGE_APP_DIR}/dist/lambdas/job-task.js`],
        essential: true,
        environment: {
          MYSQL_PITR_DEPLOYMENT: props.deployment,
          MYSQL_PITR_CLUSTER: cluster.name,
          [JOB_CLUSTERS_ENV]: table([cluster], 'fargate'),
        },
        secrets: {
          MYSQL_PITR_SOURCE_PASSWORD: ecs.Secret.fromSecretsManager(
            props.secrets.get(cluster.name)!,
            cluster.credentials.passwordKey,
          ),
        },
        logging: ecs.LogDrivers.awsLogs({ logGroup: props.taskLogGroup, streamPrefix: cluster.name }),
      });
      taskDefinitions.set(cluster.name, td);
    }
    this.taskDefinitions = taskDefinitions;
    this.taskRoles = taskRoles;
  }
}

/** Lambda allows 4 KiB of environment (names and values) per function. */
const LAMBDA_ENVIRONMENT_BYTES = 4096;

/**
 * Fails the synth when the Lambda worker's clusters table would not fit its environment, with the
 * bucket name at its longest (63): better than a deploy that CloudFormation rejects.
 *
 * @throws Error naming the limit and the ways out
 */
function checkLambdaEnvironmentSize(
  clusters: readonly ClusterConfig[],
  repository: Pick<RepositoryConfig, 'prefix'>,
): void {
  const bytes =
    JSON.stringify(clusterJobSettings({ clusters, repository }, 'b'.repeat(63), 'lambda')).length +
    JOB_CLUSTERS_ENV.length +
    200;
  if (bytes > LAMBDA_ENVIRONMENT_BYTES) {
    throw new Error(
      `the job worker Lambda's clusters table needs about ${bytes} bytes of environment, over Lambda's ` +
        `${LAMBDA_ENVIRONMENT_BYTES}: ${clusters.length} clusters run jobs on Lambda. Run some clusters' jobs on ` +
        'Fargate (workers.<kind>: fargate, a task definition each), or split the clusters over two deployments',
    );
  }
}
