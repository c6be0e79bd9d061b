// MySQL option files: https://dev.mysql.com/doc/refman/8.0/en/option-files.html and
// https://mariadb.com/kb/en/configuring-mariadb-with-option-files/ (quoting: `\\` and `\"` escapes).

/** Quotes an option-file value: double quotes, with `\` and `"` escaped and no line breaks. */
function quoteOptionValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new RangeError('an option file value cannot contain a line break');
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The text of the defaults file given to a client program (the dump tools, `mariadb`) with
 * `--defaults-extra-file`: a `[client]` group with the user and, when set, the password. Write it
 * with mode 0600 and delete it after.
 *
 * @throws RangeError when the user or password contains a line break (an option file cannot hold one)
 */
export function formatDefaultsFile(user: string, password: string | undefined): string {
  const lines = ['[client]', `user=${quoteOptionValue(user)}`];
  if (password !== undefined) lines.push(`password=${quoteOptionValue(password)}`);
  return `${lines.join('\n')}\n`;
}
