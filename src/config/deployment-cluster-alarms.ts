import type { ClusterSection } from './deployment-cluster-settings.js';
import type { ClusterAlarmsConfig } from './deployment-config-sections.js';
import { DEPLOYMENT_PATTERNS } from './deployment-patterns.js';

/** A cluster's `alarms`: archive lag and backup age thresholds, and an extra SNS topic. */
export const ALARMS_SECTION: ClusterSection<ClusterAlarmsConfig> = {
  name: 'alarms',
  keys: ['archiveLagSeconds', 'maxBackupAgeHours', 'topicArn'],
  builtin: { archiveLagSeconds: 300, maxBackupAgeHours: 26 },
  read(f) {
    const v = f.v;
    const sns = DEPLOYMENT_PATTERNS.snsTopicArn;
    return f.complete<ClusterAlarmsConfig>({
      archiveLagSeconds: f.required('archiveLagSeconds', (x, p) => v.integer(x, p, 10, 86400, ' seconds')),
      // The alarm evaluates one-hour periods; CloudWatch limits an alarm's range to 7 days.
      maxBackupAgeHours: f.required('maxBackupAgeHours', (x, p) =>
        v.integer(x, p, 1, 168, ' hours (CloudWatch alarms look back at most 7 days)'),
      ),
      topicArn: f.maybe('topicArn', (x, p) => v.string(x, p, sns.re, sns.hint)),
    });
  },
};
