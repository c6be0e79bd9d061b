import { parseMysqlUrl, readSecret, type ConfigValues, type OptionSpec } from '../config/index.js';
import type { MysqlEndpoint } from '../mysql/index.js';

/** Which server an option set names; it prefixes the flags (`--source`, `--source-password-file`). */
export type ServerRole = 'source' | 'target' | 'primary';

/**
 * The three settings that name a MySQL/MariaDB server: `--ROLE URL`, the password from
 * `MYSQL_PITR_ROLE_PASSWORD` (environment only: never a flag) and `--ROLE-password-file`.
 */
export function serverOptions(role: ServerRole, what: string): OptionSpec[] {
  const env = `MYSQL_PITR_${role.toUpperCase()}_PASSWORD`;
  return [
    {
      key: role,
      flag: role,
      type: 'string',
      required: true,
      valueName: 'URL',
      description: `${what}: mysql://USER@HOST:PORT`,
    },
    {
      key: `${role}Password`,
      type: 'string',
      secret: true,
      env,
      description: `Password of the ${role} user (environment only)`,
    },
    {
      key: `${role}PasswordFile`,
      flag: `${role}-password-file`,
      type: 'string',
      valueName: 'FILE',
      description: `File whose first line is the password of the ${role} user (instead of ${env})`,
    },
  ];
}

/**
 * The endpoint and password of the server named by {@link serverOptions}.
 *
 * @throws ConfigError for a bad URL, a password inside it, or an unreadable password file
 */
export function readServer(
  values: ConfigValues,
  role: ServerRole,
): { endpoint: MysqlEndpoint; password: string | undefined } {
  const endpoint = parseMysqlUrl(values[role] as string, `--${role}`);
  const password = readSecret({
    value: values[`${role}Password`] as string | undefined,
    file: values[`${role}PasswordFile`] as string | undefined,
    what: `the ${role} password`,
  });
  return { endpoint, password };
}
