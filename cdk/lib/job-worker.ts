import { Duration, Size } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JOB_KINDS, type ClusterConfig, type JobsConfig } from '../../src/config/deployment-config.js';
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
 */
export class JobWorker extends Construct {
  readonly function: lambda.DockerImageFunction;
  /** Job task definition per cluster that runs at least one job kind on Fargate. */
  readonly taskDefinitions: ReadonlyMap<string, ecs.FargateTaskDefinition>;
  /** Shared by every Fargate job task. */
  readonly taskRole: iam.Role;

  constructor(scope: Construct, id: string, props: JobWorkerProps) {
    super(scope, id);
    const timeout = Duration.seconds(props.jobs.lambdaTimeoutSeconds);
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
      environment: { MYSQL_PITR_DEPLOYMENT: props.deployment, NODE_OPTIONS: '--enable-source-maps' },
    });
    this.function.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        maxConcurrency: props.jobs.maxConcurrency,
      }),
    );
    props.repository.grantJobWorker(this.function);
    for (const secret of props.secrets.values()) secret.grantRead(this.function);

    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `mysql-pitr ${props.deployment}: Fargate job tasks`,
    });
    props.repository.grantJobWorker(this.taskRole);
    const taskDefinitions = new Map<string, ecs.FargateTaskDefinition>();
    for (const cluster of props.clusters) {
      if (!JOB_KINDS.some((kind) => cluster.workers[kind] === 'fargate')) continue;
      const td = new ecs.FargateTaskDefinition(this, `TaskDefinition-${cluster.name}`, {
        family: `mysql-pitr-job-${cluster.name}`,
        cpu: props.jobs.fargateCpu,
        memoryLimitMiB: props.jobs.fargateMemoryMiB,
        ephemeralStorageGiB: props.jobs.fargateEphemeralStorageGiB,
        taskRole: this.taskRole,
        runtimePlatform: {
          cpuArchitecture: ecs.CpuArchitecture.X86_64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
      });
      td.addContainer(JOB_CONTAINER_NAME, {
        image: props.image.ecsImage(),
        command: ['node', `${IMAGE_APP_DIR}/dist/lambdas/job-task.js`],
        essential: true,
        environment: { MYSQL_PITR_DEPLOYMENT: props.deployment, MYSQL_PITR_CLUSTER: cluster.name },
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
  }
}
