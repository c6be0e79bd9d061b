/** What one flush reports (or, with `segments: 0`, an idle archiver that is caught up). */
export interface ArchiveFlushMetrics {
  timeline: string;
  /** The deployment's cluster name, added as the `Cluster` dimension when set. */
  cluster?: string | undefined;
  /** now - commit time of the last transaction in the flushed segment, in seconds; undefined without one. */
  lagSeconds: number | undefined;
  /** Uncompressed bytes made durable. */
  bytes: number;
  /** Stored (compressed) bytes. */
  storedBytes: number;
  segments: number;
  /** ms since the epoch. */
  time: number;
  file: string;
  end: number;
}

/** CloudWatch namespace of the archiver's metrics. */
export const METRICS_NAMESPACE = 'MysqlPitr';

/**
 * One CloudWatch Embedded Metric Format line (JSON, no newline) for a flush: `ArchiveLagSeconds`
 * (commit to durable), `ArchivedBytes`, `StoredBytes` and `Segments`, with the timeline (and the
 * cluster, when named) as dimensions; the top-level `Cluster` field is also what the CDK metric
 * filters read. https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function formatArchiveMetrics(m: ArchiveFlushMetrics): string {
  const metrics = [
    ...(m.lagSeconds === undefined ? [] : [{ Name: 'ArchiveLagSeconds', Unit: 'Seconds' }]),
    { Name: 'ArchivedBytes', Unit: 'Bytes' },
    { Name: 'StoredBytes', Unit: 'Bytes' },
    { Name: 'Segments', Unit: 'Count' },
  ];
  return JSON.stringify({
    _aws: {
      Timestamp: m.time,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: m.cluster === undefined ? [['Timeline']] : [['Cluster'], ['Cluster', 'Timeline']],
          Metrics: metrics,
        },
      ],
    },
    ...(m.cluster === undefined ? {} : { Cluster: m.cluster }),
    Timeline: m.timeline,
    ...(m.lagSeconds === undefined ? {} : { ArchiveLagSeconds: Number(m.lagSeconds.toFixed(3)) }),
    ArchivedBytes: m.bytes,
    StoredBytes: m.storedBytes,
    Segments: m.segments,
    file: m.file,
    end: m.end,
  });
}
