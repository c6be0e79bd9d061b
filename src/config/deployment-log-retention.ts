import type { Validator } from './deployment-validator.js';

/** CloudWatch Logs accepts only these retention periods (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** `logRetentionDays`: one of CloudWatch Logs' retention periods; 30 when absent. */
export function readLogRetentionDays(v: Validator, value: unknown): number | undefined {
  if (value === undefined) return 30;
  const n = v.integer(value, 'logRetentionDays', 1, 3653, ' days');
  if (n !== undefined && !LOG_RETENTION_DAYS.includes(n)) {
    return v.fail(
      'logRetentionDays',
      `${n} is not a CloudWatch Logs retention; use one of ${LOG_RETENTION_DAYS.join(', ')}`,
    );
  }
  return n;
}
