/**
 * CloudWatch Embedded Metric Format (EMF): a metric is a JSON log line with an `_aws` block;
 * CloudWatch Logs turns it into a metric, so no PutMetricData call (or permission) is needed.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 *
 * The CDK app builds its alarms on these names (cdk/lib/pitr-alarms.ts): change both together.
 */

/** CloudWatch namespace of every mysql-pitr metric. */
export const METRICS_NAMESPACE = 'MysqlPitr';

/** Metric names, each with the dimension `Cluster`. */
export const METRIC = Object.freeze({
  /** Seconds the archive is behind the source (emitted by the archiver). */
  archiveLagSeconds: 'ArchiveLagSeconds',
  /** 1 per successful dump job. The backup-age alarm treats an hour without it as breaching. */
  backupSucceeded: 'BackupSucceeded',
  /** 1 per job run that succeeded, any kind. */
  jobSucceeded: 'JobSucceeded',
  /** 1 per job attempt that failed, any kind. */
  jobFailed: 'JobFailed',
  /** 1 when a verify job found damage or could not finish, else 0. */
  verifyFailed: 'VerifyFailed',
  /** 1 when a verify job found that no restore reaches the newest archived commit, else 0. */
  newestCommitUnrestorable: 'NewestCommitUnrestorable',
});

/** Dimension name of every metric. */
export const CLUSTER_DIMENSION = 'Cluster';

/** Where EMF lines go: stdout in Lambda and ECS (the awslogs driver forwards it). */
export type MetricsSink = (line: string) => void;

/** One EMF line (without newline) recording `values` (all Count) for `cluster` at `time`. */
export function emfLine(cluster: string, values: Readonly<Record<string, number>>, time: Date): string {
  const names = Object.keys(values);
  return JSON.stringify({
    _aws: {
      Timestamp: time.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [[CLUSTER_DIMENSION]],
          Metrics: names.map((Name) => ({ Name, Unit: Name.endsWith('Seconds') ? 'Seconds' : 'Count' })),
        },
      ],
    },
    [CLUSTER_DIMENSION]: cluster,
    ...values,
  });
}
