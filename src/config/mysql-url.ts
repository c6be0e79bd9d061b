import type { MysqlEndpoint } from '../mysql/mysql-endpoint.js';
import { ConfigError } from './config-error.js';

/**
 * Parses `mysql://user@host:3306`, `mysql://user@host/?socket=/run/mysqld.sock&ssl=true`, or
 * `mariadb://...`. A password inside the URL is accepted only when `allowPassword` (config files,
 * secrets); on argv it would leak through ps, so callers reject it there.
 */
export function parseMysqlUrl(text: string, what = 'MySQL URL', allowPassword = false): MysqlEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${what} "${redactUrl(text)}" is not a URL; expected mysql://USER@HOST:PORT`);
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new ConfigError(`${what} "${redactUrl(text)}" must start with mysql:// (or mariadb://)`);
  }
  if (url.password && !allowPassword) {
    throw new ConfigError(
      `${what} "${redactUrl(text)}" carries a password; passwords never travel on the command line. ` +
        'Remove it from the URL and set the matching MYSQL_PITR_*_PASSWORD variable or --*-password-file.',
    );
  }
  if (!url.username)
    throw new ConfigError(`${what} "${redactUrl(text)}" names no user; expected mysql://USER@HOST:PORT`);
  const port = url.port ? Number(url.port) : 3306;
  const socket = url.searchParams.get('socket') ?? undefined;
  const database = url.pathname.replace(/^\//, '') || undefined;
  const ssl = url.searchParams.get('ssl');
  return {
    host: url.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port,
    user: decodeURIComponent(url.username),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(socket ? { socket } : {}),
    ...(database ? { database } : {}),
    ...(ssl && /^(1|true|required)$/i.test(ssl) ? { tls: { mode: 'required' as const } } : {}),
  };
}

/** The URL with any password replaced by `***`, safe to print and log. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** `mysql://user@host:port` (never a password) for messages. */
export function formatEndpoint(e: MysqlEndpoint): string {
  return e.socket
    ? `mysql://${e.user}@localhost/?socket=${e.socket}`
    : `mysql://${e.user}@${e.host}:${e.port}`;
}
