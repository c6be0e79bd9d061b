/**
 * The environment of a `mariadb`, `mariadb-dump` or `mariadb-binlog` child process: only what a
 * client needs to find files and format text. Everything else stays behind, above all
 * `MYSQL_PITR_*_PASSWORD`, `MYSQL_PWD` and AWS credentials, which would otherwise be readable in
 * `/proc/PID/environ` of the child. Passwords reach a child only through a 0600 defaults file.
 */
const KEEP = /^(PATH|HOME|LANG|LANGUAGE|LC_[A-Z_]+|TZ|TMPDIR|TERM|USER|LOGNAME)$/;

/**
 * The allow-listed subset of `env` (default: this process's environment).
 */
export function clientEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && KEEP.test(k)) out[k] = v;
  return out;
}
