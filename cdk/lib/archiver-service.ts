import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { clusterSourceUrl, type ClusterConfig } from '../../src/config/deployment-config.js';
import { IMAGE_CA_BUNDLE } from '../../src/jobs/cluster-job-settings.js';
import { IMAGE_APP_DIR, type PitrImage } from './pitr-image.js';
import type { RepositoryBucket } from './repository-bucket.js';

/** The archiver process inside the image: the CLI's continuous archiving command. */
export const ARCHIVER_COMMAND = ['node', `${IMAGE_APP_DIR}/bin/mysql-pitr.js`, 'archive'];

/** Seconds ECS waits after SIGTERM before SIGKILL: the archiver flushes its open segment meanwhile (Fargate allows at most 120). */
export const ARCHIVER_STOP_TIMEOUT_SECONDS = 120;

export interface ArchiverServiceProps {
  readonly cluster: ClusterConfig;
  readonly ecsCluster: ecs.ICluster;
  readonly image: PitrImage;
  readonly repository: RepositoryBucket;
  /** `s3://bucket/prefix/cluster/`. */
  readonly repositoryUrl: string;
  readonly secret: secretsmanager.ISecret;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
  readonly logGroup: logs.ILogGroup;
}

/**
 * The binlog archiver of one cluster: a Fargate service with exactly one task that streams the
 * source's binlogs into the repository, restarted by ECS whenever it stops. Deployments stop the
 * old task before starting the new one (at most one archiver per source; the archiver resumes
 * from its checkpoint) and roll back when new tasks keep failing (circuit breaker).
 *
 * Its password reaches the container as an ECS secret from Secrets Manager, never as plain
 * environment in the task definition. Its role can put, get and list its own prefix, not delete.
 */
export class ArchiverService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: ArchiverServiceProps) {
    super(scope, id);
    const c = props.cluster;
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: `mysql-pitr-archiver-${c.name}`,
      cpu: c.archiver.cpu,
      memoryLimitMiB: c.archiver.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.taskDefinition.addContainer('archiver', {
      image: props.image.ecsImage(),
      command: ARCHIVER_COMMAND,
      essential: true,
      stopTimeout: Duration.seconds(ARCHIVER_STOP_TIMEOUT_SECONDS),
      // Restart the container in place after a crash (faster than a new task); ECS replaces the task if that fails.
      enableRestartPolicy: true,
      restartAttemptPeriod: Duration.seconds(60),
      environment: {
        MYSQL_PITR_CLUSTER: c.name,
        MYSQL_PITR_SOURCE: clusterSourceUrl(c),
        MYSQL_PITR_REPO: props.repositoryUrl,
        MYSQL_PITR_FLUSH_INTERVAL: `${c.archiver.flushIntervalSeconds}s`,
        MYSQL_PITR_SEGMENT_SIZE: `${c.archiver.segmentSizeMiB}MiB`,
        // its role cannot delete: the scheduled compact job compacts (schedules.compact, hourly)
        MYSQL_PITR_COMPACT_AFTER: '0',
        // source.tls (the default): the certificate must chain to the image's CA bundle (RDS) and name the host
        ...(c.source.tls
          ? { MYSQL_PITR_TLS_MODE: 'verify-identity', MYSQL_PITR_TLS_CA: IMAGE_CA_BUNDLE }
          : { MYSQL_PITR_TLS_MODE: 'preferred' }),
      },
      secrets: {
        MYSQL_PITR_SOURCE_PASSWORD: ecs.Secret.fromSecretsManager(props.secret, c.credentials.passwordKey),
      },
      logging: ecs.LogDrivers.awsLogs({ logGroup: props.logGroup, streamPrefix: c.name }),
    });
    props.repository.grantArchiver(this.taskDefinition.taskRole, c.name);
    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: `mysql-pitr-archiver-${c.name}`,
      cluster: props.ecsCluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: props.subnets,
      securityGroups: props.securityGroups,
      assignPublicIp: false,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
  }
}
