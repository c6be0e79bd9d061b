import type { AlarmRoutingConfig } from './deployment-config-sections.js';
import { DEPLOYMENT_PATTERNS } from './deployment-patterns.js';
import { SectionFields } from './deployment-section-fields.js';
import type { Validator } from './deployment-validator.js';

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** `alarms` (top level): the SNS topic every alarm goes to (created when absent) and its e-mail subscribers. */
export function readAlarmRoutingSection(v: Validator, value: unknown): AlarmRoutingConfig | undefined {
  if (value === undefined) return { topicArn: undefined, emails: [] };
  const obj = v.object(value, 'alarms', ['topicArn', 'emails']);
  if (!obj) return undefined;
  const f = SectionFields.of(v, obj, 'alarms');
  const { re, hint } = DEPLOYMENT_PATTERNS.snsTopicArn;
  return f.complete<AlarmRoutingConfig>({
    topicArn: f.maybe('topicArn', (x, p) => v.string(x, p, re, hint)),
    emails: f.optional<readonly string[]>('emails', [], (x, p) =>
      v.stringList(x, p, EMAIL_RE, 'e-mail addresses'),
    ),
  });
}
