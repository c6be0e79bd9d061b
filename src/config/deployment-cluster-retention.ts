import type { ClusterSection } from './deployment-cluster-settings.js';
import type { RetentionConfig } from './deployment-config-sections.js';

/** A cluster's `retention`: what `mysql-pitr expire` keeps (days and a floor of backups). */
export const RETENTION_SECTION: ClusterSection<RetentionConfig> = {
  name: 'retention',
  keys: ['keepDays', 'keepBackups'],
  builtin: { keepDays: 14, keepBackups: 7 },
  read(f) {
    const v = f.v;
    return f.complete<RetentionConfig>({
      keepDays: f.required('keepDays', (x, p) => v.integer(x, p, 1, 3650, ' days')),
      keepBackups: f.required('keepBackups', (x, p) => v.integer(x, p, 1, 1000)),
    });
  },
};
