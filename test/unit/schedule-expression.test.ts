import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkScheduleExpression } from '../../src/config/schedule-expression.js';

// EventBridge's dialect (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
// six cron fields minutes..year, `?` in exactly one day field, L/W/# extras, rate(N unit).

describe('checkScheduleExpression', () => {
  it('accepts the extras of each field: L, LW, nW, nL, n#k, names, ranges, lists, increments, years', () => {
    for (const ok of [
      'cron(0 3 LW * ? *)',
      'cron(0 3 15W * ? *)',
      'cron(0 3 L * ? *)',
      'cron(0 3 ? * 5L *)',
      'cron(0 3 ? * FRIL *)',
      'cron(0 3 ? * 3#2 *)',
      'cron(0 3 ? * mon-fri *)',
      'cron(0 3 * JAN-DEC ? *)',
      'cron(0,30 3 1-5 * ? 2030-2040)',
      'cron(*/10 * * * ? *)',
      'rate(5 minutes)',
      'rate(1 hour)',
    ]) {
      assert.equal(checkScheduleExpression(ok), undefined, ok);
    }
  });

  it('names the field, the bad part and what is allowed', () => {
    const cases: [string, string][] = [
      [
        'cron(0 3 ? * MON#6 *)',
        "has an invalid day-of-week field 'MON#6': 'MON#6' is not a value, range (a-b), or increment (a/b)",
      ],
      ['cron(0 3 ? * 8L *)', "has an invalid day-of-week field '8L': 8L: day must be 1-7 or SUN-SAT"],
      ['cron(0 3 32W * ? *)', "has an invalid day-of-month field '32W': 32W: day must be 1-31"],
      ['cron(0 3 * * ? 1969)', "has an invalid year field '1969': 1969 is out of range 1970-2199"],
      ['cron(0 3 * 13 ? *)', "has an invalid month field '13': 13 is out of range 1-12 or JAN-DEC"],
      ['cron(0/0 * * * ? *)', "has an invalid minutes field '0/0': '0/0': the increment must be at least 1"],
      ['cron(*-5 * * * ? *)', "has an invalid minutes field '*-5': '*-5': * cannot start a range"],
      ['cron(0,,5 * * * ? *)', "has an invalid minutes field '0,,5': has an empty list item"],
      [
        'cron(? 3 * * ? *)',
        "has an invalid minutes field '?': ? is allowed only in day-of-month and day-of-week",
      ],
      [
        'cron(0 3 ? * ? *)',
        'must have ? in exactly one of day-of-month and day-of-week, e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON *)',
      ],
      [
        'cron(0 3 * *)',
        'has 4 fields; EventBridge cron needs 6 (minutes hours day-of-month month day-of-week year), e.g. cron(0 3 * * ? *)',
      ],
      ['rate(0 minutes)', 'has a rate of 0; the rate must be a positive whole number'],
      ['rate(5 minute)', 'must use the plural unit for 5: rate(5 minutes)'],
      [
        'rate(1 week)',
        'is not a valid rate expression; use rate(N minutes|hours|days), e.g. rate(1 day) or rate(6 hours)',
      ],
    ];
    for (const [expr, why] of cases) assert.equal(checkScheduleExpression(expr), why, expr);
  });
});
