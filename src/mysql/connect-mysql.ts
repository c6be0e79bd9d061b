import mysql from 'mysql2/promise';
import { toMysqlError } from './to-mysql-error.js';
import { toTlsCertificateError } from './tls-certificate-error.js';
import { mysql2SslOptions, type TlsSettings } from './tls-settings.js';

/** Where and how to connect. Authentication (mysql_native_password, caching_sha2_password) is mysql2's. */
export interface MysqlConnectionOptions {
  /** Host name or address (default 127.0.0.1). Ignored with socketPath. */
  host?: string;
  /** TCP port (default 3306). */
  port?: number;
  /** Unix socket path instead of TCP. */
  socketPath?: string;
  user: string;
  password?: string;
  /** TLS: mysql2's SslOptions or a profile name; undefined = plain TCP. `tls` wins when set. */
  ssl?: mysql.SslOptions | string;
  /**
   * TLS as the mysql client's --ssl-mode (loadTlsSettings). `preferred` falls back to plain TCP
   * when the server offers no TLS. Not used over a Unix socket.
   */
  tls?: TlsSettings;
  /** Connect (and handshake) timeout in ms (default 10 000). */
  connectTimeoutMs?: number;
}

/** `host:port` or the socket path. */
export function describeTarget(o: MysqlConnectionOptions): string {
  return o.socketPath ?? `${o.host ?? '127.0.0.1'}:${o.port ?? 3306}`;
}

/** `mysql://user@host:port` (never a password), for messages and logs. */
export function describeUrl(o: MysqlConnectionOptions): string {
  return o.socketPath
    ? `mysql://${o.user}@localhost?socket=${o.socketPath}`
    : `mysql://${o.user}@${o.host ?? '127.0.0.1'}:${o.port ?? 3306}`;
}

/**
 * Opens one mysql2/promise connection. Numbers wider than 2^53 come back as strings.
 *
 * @throws MysqlServerError (wrong credentials: errno 1045, etc.), MysqlConnectionError
 *   (refused, timed out, unknown host, no TLS where required) or TlsCertificateError (unknown CA,
 *   host name mismatch, expired: permanent), each with advice.
 */
export async function connectMysql(options: MysqlConnectionOptions): Promise<mysql.Connection> {
  if (options.tls && !options.socketPath) {
    const ssl = mysql2SslOptions(options.tls);
    try {
      return await connectOnce({ ...options, ssl });
    } catch (err) {
      const cause = err instanceof Error ? err.cause : undefined;
      // preferred: TLS when offered, as the mysql client does
      if (
        options.tls.mode === 'preferred' &&
        (cause as { code?: unknown })?.code === 'HANDSHAKE_NO_SSL_SUPPORT'
      )
        return connectOnce({ ...options, ssl: undefined });
      throw (
        toTlsCertificateError(cause, `connect to ${describeUrl(options)}`, describeTarget(options)) ?? err
      );
    }
  }
  return connectOnce(options.tls ? { ...options, ssl: undefined } : options);
}

async function connectOnce(options: MysqlConnectionOptions): Promise<mysql.Connection> {
  try {
    return await mysql.createConnection({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 3306,
      socketPath: options.socketPath,
      user: options.user,
      password: options.password,
      ssl: options.ssl,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // TCP keepalive probes after 10 s of silence (mysql2's default delay of 0 means the OS
      // default, two hours); the binlog stream's heartbeat watchdog is the faster check
      enableKeepAlive: true,
      keepAliveInitialDelay: 10_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      multipleStatements: false,
    });
  } catch (err) {
    throw toMysqlError(err, {
      attempted: `connect to ${describeUrl(options)}`,
      target: describeTarget(options),
      user: options.user,
    });
  }
}
