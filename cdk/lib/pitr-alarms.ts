import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AlarmRoutingConfig, ClusterConfig } from '../../src/config/deployment-config.js';
import { CLUSTER_DIMENSION, METRIC, METRICS_NAMESPACE } from '../../src/jobs/job-metrics.js';

export interface PitrAlarmsProps {
  readonly deployment: string;
  readonly routing: AlarmRoutingConfig;
  readonly clusters: readonly ClusterConfig[];
  readonly deadLetterQueue: sqs.IQueue;
  readonly dispatcher: lambda.IFunction;
  readonly worker: lambda.IFunction;
}

/**
 * CloudWatch alarms, all sent to one SNS topic (created, with the configured e-mail
 * subscriptions, unless an existing topic is given) and to a cluster's own extra topic:
 *
 * - per cluster: archive lag above `archiveLagSeconds` (ArchiveLagSeconds from the archiver's
 *   EMF logs; no data counts as breaching, since a dead archiver reports nothing);
 * - per cluster: no successful backup for `maxBackupAgeHours` (BackupSucceeded, hourly sums; an
 *   hour without data counts as breaching, so the alarm fires after that many empty hours);
 * - per cluster: a verify job found damage or failed (VerifyFailed);
 * - the dead-letter queue holds a message (a job failed every retry or was malformed, or
 *   EventBridge could not deliver a schedule event to the dispatcher);
 * - the dispatcher failed (a schedule produced no job).
 */
export class PitrAlarms extends Construct {
  readonly topic: sns.ITopic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: PitrAlarmsProps) {
    super(scope, id);
    if (props.routing.topicArn) {
      this.topic = sns.Topic.fromTopicArn(this, 'Topic', props.routing.topicArn);
    } else {
      const topic = new sns.Topic(this, 'Topic', {
        displayName: `mysql-pitr ${props.deployment} alarms`,
        enforceSSL: true,
      });
      for (const email of props.routing.emails)
        topic.addSubscription(new subscriptions.EmailSubscription(email));
      this.topic = topic;
    }

    for (const c of props.clusters) {
      const dims = { [CLUSTER_DIMENSION]: c.name };
      const extra = c.alarms.topicArn
        ? sns.Topic.fromTopicArn(this, `Topic-${c.name}`, c.alarms.topicArn)
        : undefined;
      const route = (alarm: cloudwatch.Alarm): void => {
        alarm.addAlarmAction(new actions.SnsAction(this.topic));
        alarm.addOkAction(new actions.SnsAction(this.topic));
        if (extra) alarm.addAlarmAction(new actions.SnsAction(extra));
        this.alarms.push(alarm);
      };
      route(
        new cloudwatch.Alarm(this, `ArchiveLag-${c.name}`, {
          alarmName: `mysql-pitr-${props.deployment}-${c.name}-archive-lag`,
          alarmDescription:
            `The binlog archive of ${c.name} is more than ${c.alarms.archiveLagSeconds}s behind the source, or the archiver reports nothing. ` +
            'Check the archiver service and its logs; point-in-time restores cannot reach past the lag.',
          metric: new cloudwatch.Metric({
            namespace: METRICS_NAMESPACE,
            metricName: METRIC.archiveLagSeconds,
            dimensionsMap: dims,
            statistic: 'Maximum',
            period: Duration.minutes(1),
          }),
          threshold: c.alarms.archiveLagSeconds,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 5,
          datapointsToAlarm: 3,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
      route(
        new cloudwatch.Alarm(this, `BackupAge-${c.name}`, {
          alarmName: `mysql-pitr-${props.deployment}-${c.name}-backup-age`,
          alarmDescription:
            `No successful backup of ${c.name} for ${c.alarms.maxBackupAgeHours} hours. ` +
            'Check the dead-letter queue, the job worker logs and the dispatcher; run `mysql-pitr backup create` by hand if needed.',
          metric: new cloudwatch.Metric({
            namespace: METRICS_NAMESPACE,
            metricName: METRIC.backupSucceeded,
            dimensionsMap: dims,
            statistic: 'Sum',
            period: Duration.hours(1),
          }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: c.alarms.maxBackupAgeHours,
          datapointsToAlarm: c.alarms.maxBackupAgeHours,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
      );
      if (c.schedules.verify !== undefined) {
        route(
          new cloudwatch.Alarm(this, `VerifyFailed-${c.name}`, {
            alarmName: `mysql-pitr-${props.deployment}-${c.name}-verify-failed`,
            alarmDescription: `A verify job of ${c.name} found damage in the repository or could not finish. Read the worker logs, then run \`mysql-pitr verify\` by hand.`,
            metric: new cloudwatch.Metric({
              namespace: METRICS_NAMESPACE,
              metricName: METRIC.verifyFailed,
              dimensionsMap: dims,
              statistic: 'Maximum',
              period: Duration.hours(1),
            }),
            threshold: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
        );
        route(
          new cloudwatch.Alarm(this, `NewestUnrestorable-${c.name}`, {
            alarmName: `mysql-pitr-${props.deployment}-${c.name}-newest-commit-unrestorable`,
            alarmDescription: `A verify job of ${c.name} found that no restore reaches the newest archived commit: the history broke after the last backup (a failover without GTIDs, a gap, a missing tail) or the newest timeline has no backup. Run \`mysql-pitr verify\` for the unrestorable intervals, then take a backup (\`backup create\`).`,
            metric: new cloudwatch.Metric({
              namespace: METRICS_NAMESPACE,
              metricName: METRIC.newestCommitUnrestorable,
              dimensionsMap: dims,
              statistic: 'Maximum',
              period: Duration.hours(1),
            }),
            threshold: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
        );
      }
    }

    const global = (alarm: cloudwatch.Alarm): void => {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      this.alarms.push(alarm);
    };
    global(
      new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmpty', {
        alarmName: `mysql-pitr-${props.deployment}-dead-letter-queue`,
        alarmDescription:
          'A job failed on every delivery, a message was not a job, or a schedule event could not reach the dispatcher; it sits in the dead-letter queue. Read its body and the worker or dispatcher logs, fix the cause, then redrive it (or run the job by hand).',
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    global(
      new cloudwatch.Alarm(this, 'DispatcherErrors', {
        alarmName: `mysql-pitr-${props.deployment}-dispatcher-errors`,
        alarmDescription:
          'The dispatcher failed to turn a schedule into a job. Read its log group; the config in the bundle may not match the stack.',
        metric: props.dispatcher.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}
