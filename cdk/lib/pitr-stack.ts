import { CfnOutput, Duration, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { clusterRepositoryUrl, type DeploymentConfig } from '../../src/config/deployment-config.js';
import { METRIC } from '../../src/jobs/job-metrics.js';
import { ArchiverService } from './archiver-service.js';
import { clusterSecret } from './cluster-secret.js';
import { EmfMetricFilters } from './emf-metric-filters.js';
import { JobDispatcher } from './job-dispatcher.js';
import { JobQueue } from './job-queue.js';
import { JobWorker } from './job-worker.js';
import { PitrAlarms } from './pitr-alarms.js';
import { PitrImage } from './pitr-image.js';
import { PitrNetwork } from './pitr-network.js';
import { RepositoryBucket } from './repository-bucket.js';

export interface PitrStackProps extends StackProps {
  /** The validated deployment config (`loadDeploymentConfig`). */
  readonly config: DeploymentConfig;
  /** Path of the config file, bundled into the dispatcher. */
  readonly configPath: string;
  /** The repository root (Dockerfile, package-lock.json, lambdas/). */
  readonly projectRoot: string;
  /** Overrides `image.tag` (`cdk deploy -c imageTag=…`). */
  readonly imageTag?: string;
}

/**
 * One mysql-pitr deployment: the repository bucket, one archiver service per cluster, the
 * schedules, dispatcher, job queue and job workers, and the alarms. Everything is derived from
 * the deployment config; this file only wires the constructs together.
 */
export class PitrStack extends Stack {
  readonly repository: RepositoryBucket;
  readonly network: PitrNetwork;
  readonly jobQueue: JobQueue;
  readonly worker: JobWorker;
  readonly dispatcher: JobDispatcher;
  readonly archivers: ReadonlyMap<string, ArchiverService>;
  readonly alarms: PitrAlarms;

  constructor(scope: Construct, id: string, props: PitrStackProps) {
    super(scope, id, props);
    const { config } = props;
    Tags.of(this).add('mysql-pitr:deployment', config.deployment);

    this.repository = new RepositoryBucket(this, 'Repository', { repository: config.repository });
    this.network = new PitrNetwork(this, 'Network', { network: config.network, clusters: config.clusters });
    const image = new PitrImage(this, 'Image', {
      image: config.image,
      ...(props.imageTag ? { tagOverride: props.imageTag } : {}),
    });
    const ecsCluster = new ecs.Cluster(this, 'EcsCluster', {
      vpc: this.network.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const logGroup = (name: string): logs.LogGroup =>
      new logs.LogGroup(this, `${name}Logs`, {
        retention: config.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const archiverLogs = logGroup('Archiver');
    const jobTaskLogs = logGroup('JobTask');
    // ECS tasks log EMF lines through awslogs, which CloudWatch does not extract by itself.
    new EmfMetricFilters(this, 'ArchiverMetrics', {
      logGroup: archiverLogs,
      metricNames: [METRIC.archiveLagSeconds],
    });
    new EmfMetricFilters(this, 'JobTaskMetrics', {
      logGroup: jobTaskLogs,
      metricNames: [
        METRIC.backupSucceeded,
        METRIC.jobSucceeded,
        METRIC.jobFailed,
        METRIC.verifyFailed,
        METRIC.newestCommitUnrestorable,
      ],
    });
    const secrets = new Map<string, secretsmanager.ISecret>(
      config.clusters.map((c) => [c.name, clusterSecret(this, `Secret-${c.name}`, c.credentials.secret)]),
    );

    const archivers = new Map<string, ArchiverService>();
    for (const c of config.clusters) {
      archivers.set(
        c.name,
        new ArchiverService(this, `Archiver-${c.name}`, {
          cluster: c,
          ecsCluster,
          image,
          repository: this.repository,
          repositoryUrl: clusterRepositoryUrl(this.repository.bucket.bucketName, config.repository, c.name),
          secret: secrets.get(c.name)!,
          subnets: this.network.subnets,
          securityGroups: this.network.securityGroups,
          logGroup: archiverLogs,
        }),
      );
    }
    this.archivers = archivers;

    this.jobQueue = new JobQueue(this, 'Jobs', {
      workerTimeout: Duration.seconds(config.jobs.lambdaTimeoutSeconds),
    });
    this.worker = new JobWorker(this, 'Worker', {
      deployment: config.deployment,
      jobs: config.jobs,
      clusters: config.clusters,
      secrets,
      queue: this.jobQueue.queue,
      ecsCluster,
      image,
      repository: this.repository,
      repositoryConfig: config.repository,
      vpc: this.network.vpc,
      subnets: this.network.subnets,
      securityGroups: this.network.securityGroups,
      functionLogGroup: logGroup('WorkerFunction'),
      taskLogGroup: jobTaskLogs,
    });
    this.dispatcher = new JobDispatcher(this, 'Dispatcher', {
      config,
      configPath: props.configPath,
      projectRoot: props.projectRoot,
      repositoryBucketName: this.repository.bucket.bucketName,
      queue: this.jobQueue.queue,
      deadLetterQueue: this.jobQueue.deadLetterQueue,
      ecsCluster,
      worker: this.worker,
      subnetIds: this.network.vpc.selectSubnets(this.network.subnets).subnetIds,
      securityGroups: this.network.securityGroups,
      logGroup: logGroup('Dispatcher'),
    });
    this.alarms = new PitrAlarms(this, 'Alarms', {
      deployment: config.deployment,
      routing: config.alarms,
      clusters: config.clusters,
      deadLetterQueue: this.jobQueue.deadLetterQueue,
      dispatcher: this.dispatcher.function,
      worker: this.worker.function,
    });

    new CfnOutput(this, 'RepositoryBucketName', { value: this.repository.bucket.bucketName });
    new CfnOutput(this, 'JobQueueUrl', { value: this.jobQueue.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.jobQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }
}
