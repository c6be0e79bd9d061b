/**
 * The environment of a `mariadb`, `mariadb-dump` or `mariadb-binlog` child process: the parent's,
 * minus every mysql-pitr setting (`MYSQL_PITR_*`, above all `MYSQL_PITR_*_PASSWORD`), `MYSQL_PWD`
 * (which the clients would use as a password) and anything named like a credential (`*PASSWORD*`,
 * `*SECRET*`, `*TOKEN*`, `AWS_ACCESS_KEY_ID`, `*CREDENTIALS*`), which would otherwise be readable in
 * the child's `/proc/PID/environ`. Passwords reach a child only through a 0600 defaults file. What
 * a client needs (PATH, HOME, locale, TZ, TMPDIR) and a wrapper's own variables are kept.
 */
const DROP =
  /^(MYSQL_PITR_|MYSQL_PWD$|MYSQL_HISTFILE$|AWS_ACCESS_KEY_ID$)|PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL/i;

/** `env` (default: this process's environment) without mysql-pitr settings and credentials. */
export function clientEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !DROP.test(k)) out[k] = v;
  return out;
}
