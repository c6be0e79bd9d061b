import { ConfigError } from './config-error.js';

/** Every `MYSQL_PITR_*` variable is ours: one that no code reads is a typo. */
export const ENV_PREFIX = 'MYSQL_PITR_';

/** Edit distance (insert, delete, substitute; case-insensitive): the one rule for "did you mean". */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[y.length]!;
}

/**
 * The known name closest to `name` (`keepDay` -> `keepDays`), or undefined when none is close
 * (more than a third of the name's letters, at least 2, would have to change).
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

const suggestion = (name: string, known: Iterable<string>): string => {
  const near = nearestName(name, known);
  return near === undefined ? '' : ` (did you mean ${near}?)`;
};

/**
 * Rejects the keys of a config file that no setting has.
 *
 * @throws ConfigError (CONFIG_INVALID, exit 2) naming every unknown key and the nearest known one
 */
export function checkConfigFileKeys(keys: Iterable<string>, known: ReadonlySet<string>, path: string): void {
  const unknown = [...keys].filter((k) => !known.has(k));
  if (unknown.length === 0) return;
  throw new ConfigError(
    `config file ${path}: unknown ${unknown.length === 1 ? 'key' : 'keys'} ` +
      unknown
        .map((k) => `"${k}"${suggestion(k, known).replace(/did you mean (.*)\?/, 'did you mean "$1"?')}`)
        .join(', ') +
      '. Keys are the camelCase names of the flags (--keep-days is "keepDays"); fix or remove them.',
  );
}

/**
 * Rejects `MYSQL_PITR_*` environment variables that no code reads (a typo would otherwise be
 * silently ignored and its default used).
 *
 * @throws ConfigError (CONFIG_INVALID, exit 2) naming every unknown variable and the nearest known one
 */
export function checkEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  known: ReadonlySet<string>,
): void {
  const unknown = Object.keys(env)
    .filter((k) => k.startsWith(ENV_PREFIX) && env[k] !== undefined && !known.has(k))
    .sort();
  if (unknown.length === 0) return;
  const names = [...known].filter((k) => k.startsWith(ENV_PREFIX));
  throw new ConfigError(
    `unknown environment ${unknown.length === 1 ? 'variable' : 'variables'} ` +
      unknown.map((k) => `${k}${suggestion(k, names)}`).join(', ') +
      '. mysql-pitr reads only the MYSQL_PITR_* variables of its options (see --help: MYSQL_PITR_ + the ' +
      'option in UPPER_SNAKE_CASE); rename or unset them.',
  );
}
