import { atLeastTlsMode, loadTlsSettings, TLS_MODES, type MysqlEndpoint } from '../mysql/index.js';
import { parseMysqlUrl, readSecret, type OptionSpec, type OptionValues } from '../config/index.js';

/** Which server an option set names; it prefixes the flags (`--source`, `--source-password-file`). */
export type ServerRole = 'source' | 'target' | 'primary';

/** The camelCase prefix of a role's TLS settings: `tls` for source and target, `primaryTls` for the primary. */
function tlsKey(role: ServerRole): string {
  return role === 'primary' ? 'primaryTls' : 'tls';
}

/**
 * The TLS settings of a command's servers: `--tls-mode`, `--tls-ca`, `--tls-cert`, `--tls-key`
 * (`MYSQL_PITR_TLS_*`) for the source or target it connects to, and `--primary-tls-*` for the
 * primary a replica connects to, whose files are paths on the replica server's host.
 */
export function tlsOptions(role: ServerRole): OptionSpec[] {
  const key = tlsKey(role);
  const flag = role === 'primary' ? 'primary-tls' : 'tls';
  const who = role === 'primary' ? "the replica's connection to the primary (MASTER_SSL*)" : `the ${role}`;
  const where = role === 'primary' ? ', a path on the replica server host' : '';
  return [
    {
      key: `${key}Mode`,
      flag: `${flag}-mode`,
      type: 'string',
      default: 'preferred',
      choices: TLS_MODES,
      valueName: 'MODE',
      description:
        `TLS of ${who}, as the mysql client's --ssl-mode: disabled, preferred (TLS when offered, unchecked), ` +
        'required (unchecked), verify-ca, verify-identity (CA and host name)',
    },
    {
      key: `${key}Ca`,
      flag: `${flag}-ca`,
      type: 'string',
      valueName: 'FILE',
      description: `PEM CA bundle to verify ${who} against (default: the system CAs)${where}`,
    },
    {
      key: `${key}Cert`,
      flag: `${flag}-cert`,
      type: 'string',
      valueName: 'FILE',
      description: `PEM client certificate for ${who} (with --${flag}-key)${where}`,
    },
    {
      key: `${key}Key`,
      flag: `${flag}-key`,
      type: 'string',
      valueName: 'FILE',
      description: `PEM key of --${flag}-cert${where}`,
    },
  ];
}

/**
 * The settings that name a MySQL/MariaDB server: `--ROLE URL`, the password from
 * `MYSQL_PITR_ROLE_PASSWORD` (environment only: never a flag), `--ROLE-password-file`, and the
 * TLS settings (`tlsOptions`: `--tls-*` for source and target, `--primary-tls-*` for the primary).
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
    ...tlsOptions(role),
  ];
}

/**
 * The endpoint (with its TLS settings, files read once) and password of the server named by
 * {@link serverOptions}. `?ssl=true` in the URL raises the mode to at least `required`.
 *
 * @param url the server's URL; default the `--ROLE` option (`archive` passes one of several)
 * @throws ConfigError for a bad URL, a password inside it, or an unreadable password file;
 *   PitrError CONFIG_INVALID for bad TLS settings or an unreadable TLS file; PitrError INTERNAL
 *   when the command does not declare serverOptions(role)
 */
export function readServer(
  options: OptionValues,
  role: ServerRole,
  url: string = options.string(role),
): { endpoint: MysqlEndpoint; password: string | undefined } {
  const parsed = parseMysqlUrl(url, `--${role}`);
  const key = tlsKey(role);
  const str = (k: string): string | undefined => options.optionalString(`${key}${k}`);
  const tls = loadTlsSettings({
    mode: str('Mode') ?? 'preferred',
    caFile: str('Ca'),
    certFile: str('Cert'),
    keyFile: str('Key'),
    flagPrefix: role === 'primary' ? 'primary-tls' : 'tls',
    // the primary's files are read by the replica server, on its host
    readFiles: role !== 'primary',
  });
  const endpoint = { ...parsed, tls: parsed.tls ? atLeastTlsMode(tls, parsed.tls.mode) : tls };
  const password = readSecret({
    value: options.optionalString(`${role}Password`),
    file: options.optionalString(`${role}PasswordFile`),
    what: `the ${role} password`,
  });
  return { endpoint, password };
}
