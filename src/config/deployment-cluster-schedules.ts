import type { ClusterSection } from './deployment-cluster-settings.js';
import type { ClusterConfig } from './deployment-config-sections.js';
import type { FieldRead } from './deployment-section-fields.js';
import { describe, type Validator } from './deployment-validator.js';
import { checkScheduleExpression } from './schedule-expression.js';

/** A cluster's `schedules`: EventBridge expressions (UTC) per job; `verify` and `compact` may be 'off'. */
export const SCHEDULES_SECTION: ClusterSection<ClusterConfig['schedules']> = {
  name: 'schedules',
  keys: ['dump', 'expire', 'verify', 'compact'],
  builtin: {
    dump: 'cron(0 3 * * ? *)',
    expire: 'cron(30 4 * * ? *)',
    verify: 'cron(0 6 ? * SUN *)',
    // hourly: the archiver's task role cannot delete, so in AWS this job compacts (issue 15)
    compact: 'cron(20 * * * ? *)',
  },
  read(f) {
    const dump = f.required('dump', schedule(f.v, false));
    const expire = f.required('expire', schedule(f.v, false));
    const verify = f.required('verify', schedule(f.v, true));
    const compact = f.required('compact', schedule(f.v, true));
    return f.complete<ClusterConfig['schedules']>({
      dump,
      expire,
      verify: verify === 'off' ? undefined : verify,
      compact: compact === 'off' ? undefined : compact,
    });
  },
};

/** A schedule expression (trimmed), or 'off' where the job can be turned off. */
function schedule(v: Validator, canBeOff: boolean): FieldRead<string> {
  return (x, p) => {
    if (canBeOff && x === 'off') return 'off';
    if (typeof x !== 'string') {
      return v.fail(
        p,
        `must be a schedule expression string such as cron(0 3 * * ? *) or rate(1 day)${canBeOff ? ", or 'off'" : ''}, not ${describe(x)}`,
      );
    }
    const why = checkScheduleExpression(x.trim());
    return why ? v.fail(p, `'${x}' ${why}`) : x.trim();
  };
}
