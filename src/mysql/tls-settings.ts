/**
 * TLS to a MySQL/MariaDB server, with the meaning of the mysql client's `--ssl-mode`
 * (https://dev.mysql.com/doc/refman/8.0/en/connection-options.html#option_general_ssl-mode), built
 * once per server and applied to every connection a command makes: mysql2 connections
 * ({@link mysql2SslOptions}), the `mariadb`/`mysql`, `mariadb-dump`/`mysqldump` child processes
 * ({@link tlsClientArgs}) and the primary connection of a replica (`MASTER_SSL*`, see
 * src/restore/replica-sql.ts).
 *
 * MariaDB tools: https://mariadb.com/kb/en/mariadb-command-line-client/#tls-options
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { SslOptions } from 'mysql2';
import { PitrError, messageOf } from '../errors/index.js';
import { clientEnvironment } from './client-environment.js';

/** The modes, weakest first. */
export const TLS_MODES = ['disabled', 'preferred', 'required', 'verify-ca', 'verify-identity'] as const;

/**
 * - `disabled`: plain TCP.
 * - `preferred`: TLS when the server offers it, plain otherwise; the certificate is not checked.
 * - `required`: TLS or fail; the certificate is not checked.
 * - `verify-ca`: TLS, and the certificate must chain to the CA (`caFile`, else the system bundle).
 * - `verify-identity`: as verify-ca, and the certificate must name the host connected to.
 */
export type TlsMode = (typeof TLS_MODES)[number];

/** The TLS settings of one server, with the files read once. Frozen. */
export interface TlsSettings {
  readonly mode: TlsMode;
  /** PEM file of the CA(s) to trust (instead of the system bundle). */
  readonly caFile?: string;
  /** PEM client certificate, for servers that require X509 accounts. */
  readonly certFile?: string;
  /** PEM key of certFile. */
  readonly keyFile?: string;
  /** Contents of caFile, certFile, keyFile (read once by loadTlsSettings). */
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** What loadTlsSettings takes: the option values as given. */
export interface TlsSettingsInput {
  mode: string;
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Prefix of the option names in messages: `tls` or `primary-tls`. */
  flagPrefix?: string;
  /** Read the files (default true). False for files that another host reads (MASTER_SSL_CA). */
  readFiles?: boolean;
}

/** True when `mode` checks the server certificate. */
export function tlsVerifies(mode: TlsMode): boolean {
  return mode === 'verify-ca' || mode === 'verify-identity';
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new PitrError(
      'CONFIG_INVALID',
      `--${flag} ${file} cannot be read (${messageOf(err)}); give the path of a PEM file readable by this user`,
      { cause: err },
    );
  }
}

/**
 * Validates the mode and reads the files once.
 *
 * @throws PitrError CONFIG_INVALID for an unknown mode, a certificate without its key (or the reverse),
 *   files given with mode `disabled`, or an unreadable file
 */
export function loadTlsSettings(input: TlsSettingsInput): TlsSettings {
  const p = input.flagPrefix ?? 'tls';
  const mode = input.mode.toLowerCase().replace(/_/g, '-');
  if (!(TLS_MODES as readonly string[]).includes(mode)) {
    throw new PitrError(
      'CONFIG_INVALID',
      `--${p}-mode ${input.mode} is not one of ${TLS_MODES.join(', ')} (the mysql client's --ssl-mode values)`,
    );
  }
  if ((input.certFile === undefined) !== (input.keyFile === undefined)) {
    throw new PitrError(
      'CONFIG_INVALID',
      `--${p}-cert and --${p}-key go together: give both (a client certificate and its key) or neither`,
    );
  }
  if (mode === 'disabled' && (input.caFile ?? input.certFile) !== undefined) {
    throw new PitrError(
      'CONFIG_INVALID',
      `--${p}-mode disabled contradicts --${p}-ca/--${p}-cert: remove them, or choose another mode`,
    );
  }
  const read = input.readFiles ?? true;
  const s: TlsSettings = {
    mode: mode as TlsMode,
    ...(input.caFile !== undefined ? { caFile: input.caFile } : {}),
    ...(input.certFile !== undefined ? { certFile: input.certFile } : {}),
    ...(input.keyFile !== undefined ? { keyFile: input.keyFile } : {}),
    ...(read && input.caFile !== undefined ? { ca: readPem(input.caFile, `${p}-ca`) } : {}),
    ...(read && input.certFile !== undefined ? { cert: readPem(input.certFile, `${p}-cert`) } : {}),
    ...(read && input.keyFile !== undefined ? { key: readPem(input.keyFile, `${p}-key`) } : {}),
  };
  return Object.freeze(s);
}

/** At least `mode`: `?ssl=true` in a URL raises `preferred` to `required`, never lowers a mode. */
export function atLeastTlsMode(s: TlsSettings, mode: TlsMode): TlsSettings {
  return TLS_MODES.indexOf(s.mode) >= TLS_MODES.indexOf(mode) ? s : Object.freeze({ ...s, mode });
}

/**
 * mysql2's `ssl` option for `s` (undefined: plain TCP). `preferred` asks for TLS without checks;
 * connectMysql falls back to plain TCP when the server offers none.
 */
export function mysql2SslOptions(s: TlsSettings | undefined): SslOptions | undefined {
  if (!s || s.mode === 'disabled') return undefined;
  const verify = tlsVerifies(s.mode);
  return {
    ...(verify && s.ca ? { ca: s.ca } : {}),
    ...(s.cert ? { cert: s.cert } : {}),
    ...(s.key ? { key: s.key } : {}),
    rejectUnauthorized: verify,
    verifyIdentity: s.mode === 'verify-identity',
  };
}

/** Which command-line flags a client program understands. */
export type ClientToolFlavor = 'mariadb' | 'mysql';

/**
 * The TLS flags for a `mariadb`/`mariadb-dump`/`mariadb-binlog` (MariaDB) or `mysql`/`mysqldump`
 * (MySQL) process connecting over TCP:
 *
 * - MySQL: `--ssl-mode=MODE` plus `--ssl-ca/--ssl-cert/--ssl-key`.
 * - MariaDB (10.11 has no --ssl-mode): disabled `--skip-ssl`; preferred `--skip-ssl-verify-server-cert`
 *   (its default is TLS when offered); required `--ssl --skip-ssl-verify-server-cert`; verify-ca `--ssl --ssl-ca` (Connector/C checks the
 *   chain when a CA is given); verify-identity adds `--ssl-verify-server-cert` (chain and host name).
 *
 * Over a Unix socket TLS is never used (as with the mysql client), so this returns nothing.
 */
export function tlsClientArgs(
  s: TlsSettings | undefined,
  tool: ClientToolFlavor,
  overSocket = false,
): string[] {
  if (!s || overSocket) return [];
  const files = [
    ...(s.caFile !== undefined && s.mode !== 'disabled' ? [`--ssl-ca=${s.caFile}`] : []),
    ...(s.certFile !== undefined ? [`--ssl-cert=${s.certFile}`] : []),
    ...(s.keyFile !== undefined ? [`--ssl-key=${s.keyFile}`] : []),
  ];
  if (tool === 'mysql') return [`--ssl-mode=${s.mode.replace('-', '_').toUpperCase()}`, ...files];
  switch (s.mode) {
    case 'disabled':
      return ['--skip-ssl'];
    // --ssl-ca would make Connector/C check the chain, and MariaDB 11.4+ clients check the certificate
    // by default: the two unchecked modes say so explicitly
    case 'preferred':
      return [...files.filter((f) => !f.startsWith('--ssl-ca=')), '--skip-ssl-verify-server-cert'];
    case 'required':
      return ['--ssl', ...files.filter((f) => !f.startsWith('--ssl-ca=')), '--skip-ssl-verify-server-cert'];
    case 'verify-ca':
      return ['--ssl', ...files];
    case 'verify-identity':
      return ['--ssl', ...files, '--ssl-verify-server-cert'];
  }
}

/**
 * Whose flags a client program takes, from its `--version` line (`... Distrib 10.11.19-MariaDB`):
 * Debian's `mysql` and `mysqldump` are MariaDB's. A program that does not run is taken by its name
 * (`mariadb*` MariaDB, else MySQL); starting it later reports the real problem.
 */
export async function probeClientToolFlavor(program: string): Promise<ClientToolFlavor> {
  return new Promise((resolve) => {
    execFile(program, ['--version'], { timeout: 10_000, env: clientEnvironment() }, (err, out) => {
      if (!err) resolve(/mariadb/i.test(out) ? 'mariadb' : 'mysql');
      else resolve((program.split('/').pop() ?? program).startsWith('mariadb') ? 'mariadb' : 'mysql');
    });
  });
}

/** A one-line description for logs: `verify-identity (CA /etc/pitr/rds.pem)`. */
export function describeTls(s: TlsSettings | undefined): string {
  if (!s) return 'disabled';
  return `${s.mode}${s.caFile !== undefined ? ` (CA ${s.caFile})` : ''}`;
}
