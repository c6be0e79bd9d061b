import type { MysqlEndpoint } from '../mysql/mysql-endpoint.js';
import { redactUrl } from '../log/index.js';
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

/**
 * Splits a URL naming several servers of one topology, `mysql://repl@db1:3306,db2:3306/?ssl=true`,
 * into one URL per server (`mysql://repl@db1:3306/?ssl=true`, `mysql://repl@db2:3306/?ssl=true`):
 * same scheme, user, path and query. A URL with one host comes back as it is.
 *
 * @throws ConfigError for an empty host in the list (`db1:3306,,db2`) or a repeated one
 */
export function splitMysqlUrls(text: string, what = 'MySQL URL'): string[] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/i.exec(text.trim());
  if (!m || !m[3]!.includes(',')) return [text];
  const hosts = m[3]!.split(',').map((h) => h.trim());
  if (hosts.some((h) => h === '')) {
    throw new ConfigError(
      `${what} "${redactUrl(text)}" has an empty host in its list; expected mysql://USER@HOST1:PORT,HOST2:PORT`,
    );
  }
  if (new Set(hosts).size !== hosts.length) {
    throw new ConfigError(`${what} "${redactUrl(text)}" names a host twice; list each server once`);
  }
  return hosts.map((h) => `${m[1]}${m[2] ?? ''}${h}${m[4]}`);
}

/** `mysql://user@host:port` (never a password) for messages. */
export function formatEndpoint(e: MysqlEndpoint): string {
  return e.socket
    ? `mysql://${e.user}@localhost/?socket=${e.socket}`
    : `mysql://${e.user}@${e.host}:${e.port}`;
}
