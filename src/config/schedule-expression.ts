// EventBridge schedule expressions, as the deployment config's `schedules` hold them: validated
// here so that a bad schedule fails when the config is loaded, naming the field; EventBridge runs
// them, nothing here computes a next run.
//
// Hand-written on purpose, after looking for a library (issue 18): no cron package is among the
// dependencies, and none of the npm ones fits this job.
// - cron-parser and croner read a six-field expression as seconds first, not as EventBridge's
//   minutes..year with `?`, so they would need a translation layer about as large as this file.
// - cron-validate's `aws-cloud-watch` preset accepts month 0, and both day fields set (no `?`)
//   unless more flags are set; it knows no `rate(...)` and words its problems after its option names
//   ("... when mustHaveBlankDayField option is enabled"), not after the field and the fix.
// - aws-cron-parser parses for next-run times and does not reject bad values.
// A new dependency for a synth-time check would also change every message the deployment config
// gives (test/unit/schedule-expression.test.ts pins them).

/**
 * Checks an EventBridge schedule expression: `rate(N unit)` or the six-field
 * `cron(minutes hours day-of-month month day-of-week year)`. Returns undefined when valid, else why not.
 * See https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
export function checkScheduleExpression(expr: string): string | undefined {
  const rate = /^rate\((.*)\)$/.exec(expr);
  if (rate) return checkRate(rate[1]!.trim());
  const cron = /^cron\((.*)\)$/.exec(expr);
  if (cron) return checkCron(cron[1]!.trim());
  return 'is not a cron or rate expression; use cron(0 3 * * ? *) or rate(1 day)';
}

function checkRate(body: string): string | undefined {
  const m = /^(\d+)\s+(minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!m)
    return 'is not a valid rate expression; use rate(N minutes|hours|days), e.g. rate(1 day) or rate(6 hours)';
  const n = Number(m[1]);
  const unit = m[2]!;
  if (n < 1) return 'has a rate of 0; the rate must be a positive whole number';
  const singular = !unit.endsWith('s');
  if (n === 1 && !singular) return `must use the singular unit for 1: rate(1 ${unit.slice(0, -1)})`;
  if (n > 1 && singular) return `must use the plural unit for ${n}: rate(${n} ${unit}s)`;
  return undefined;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  question?: boolean;
  /** Day-of-month extras: L, LW, nW. */
  dom?: boolean;
  /** Day-of-week extras: nL, n#k. */
  dow?: boolean;
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true, dom: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, question: true, dow: true },
  { name: 'year', min: 1970, max: 2199 },
];

function checkCron(body: string): string | undefined {
  const fields = body.split(/\s+/).filter(Boolean);
  if (fields.length !== 6) {
    return (
      `has ${fields.length} field${fields.length === 1 ? '' : 's'}; EventBridge cron needs 6 ` +
      '(minutes hours day-of-month month day-of-week year), e.g. cron(0 3 * * ? *)'
    );
  }
  for (let i = 0; i < 6; i++) {
    const why = checkCronField(fields[i]!, CRON_FIELDS[i]!);
    if (why) return `has an invalid ${CRON_FIELDS[i]!.name} field '${fields[i]}': ${why}`;
  }
  const domQ = fields[2] === '?';
  const dowQ = fields[4] === '?';
  if (domQ === dowQ) {
    return 'must have ? in exactly one of day-of-month and day-of-week, e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON *)';
  }
  return undefined;
}

function checkCronField(text: string, f: CronField): string | undefined {
  if (text === '?') return f.question ? undefined : '? is allowed only in day-of-month and day-of-week';
  for (const item of text.split(',')) {
    if (item === '') return 'has an empty list item';
    if (item === '*') continue;
    if (f.dom && /^(?:L|LW|\d{1,2}W)$/.test(item)) {
      const n = Number(item.replace(/W$/, ''));
      if (item.endsWith('W') && item !== 'LW' && (n < 1 || n > 31)) return `${item}: day must be 1-31`;
      continue;
    }
    if (f.dow && /^(?:L|\w+L|\w+#[1-5])$/.test(item)) {
      const day = item.replace(/(?:L|#[1-5])$/, '');
      if (day !== '' && valueOf(day, f) === undefined) return `${item}: day must be 1-7 or SUN-SAT`;
      continue;
    }
    const m = /^(\*|\w+)(?:-(\w+))?(?:\/(\d+))?$/.exec(item);
    if (!m) return `'${item}' is not a value, range (a-b), or increment (a/b)`;
    const [, start, end, step] = m;
    if (start !== '*' && valueOf(start!, f) === undefined) return `${start} is out of range ${rangeText(f)}`;
    if (end !== undefined) {
      if (start === '*') return `'${item}': * cannot start a range`;
      if (valueOf(end, f) === undefined) return `${end} is out of range ${rangeText(f)}`;
    }
    if (step !== undefined && Number(step) < 1) return `'${item}': the increment must be at least 1`;
  }
  return undefined;
}

function valueOf(token: string, f: CronField): number | undefined {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    return n >= f.min && n <= f.max ? n : undefined;
  }
  const i = f.names?.indexOf(token.toUpperCase()) ?? -1;
  return i >= 0 ? i + 1 : undefined;
}

function rangeText(f: CronField): string {
  return `${f.min}-${f.max}${f.names ? ` or ${f.names[0]}-${f.names[f.names.length - 1]}` : ''}`;
}
