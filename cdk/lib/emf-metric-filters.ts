import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CLUSTER_DIMENSION, METRICS_NAMESPACE } from '../../src/jobs/job-metrics.js';

/**
 * Turns the Embedded Metric Format lines of ECS tasks into metrics. CloudWatch extracts EMF by
 * itself only from Lambda logs (or logs sent with the `json/emf` format header, which the ECS
 * `awslogs` driver does not send), so for the archiver and the Fargate job tasks one metric
 * filter per metric reads the same JSON lines: the metric value is the top-level field of that
 * name, the `Cluster` field is the dimension. Do not add these to Lambda log groups: the metric
 * would be counted twice.
 */
export class EmfMetricFilters extends Construct {
  constructor(
    scope: Construct,
    id: string,
    props: { logGroup: logs.ILogGroup; metricNames: readonly string[] },
  ) {
    super(scope, id);
    for (const name of props.metricNames) {
      new logs.MetricFilter(this, name, {
        logGroup: props.logGroup,
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.exists(`$.${name}`),
          logs.FilterPattern.exists(`$.${CLUSTER_DIMENSION}`),
        ),
        metricNamespace: METRICS_NAMESPACE,
        metricName: name,
        metricValue: `$.${name}`,
        dimensions: { [CLUSTER_DIMENSION]: `$.${CLUSTER_DIMENSION}` },
        unit: name.endsWith('Seconds') ? cloudwatch.Unit.SECONDS : cloudwatch.Unit.COUNT,
      });
    }
  }
}
