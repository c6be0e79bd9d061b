import type { TlsSettings } from './tls-settings.js';

/** Where and as whom to connect to a MySQL/MariaDB server. The password never comes from the URL text on argv. */
export interface MysqlEndpoint {
  host: string;
  port: number;
  user: string;
  /** From the environment, a file or a secret store; undefined for socket auth or no password. */
  password?: string;
  /** Unix socket path (`mysql://user@localhost/?socket=/path`). */
  socket?: string;
  /** Default database, rarely needed. */
  database?: string;
  /**
   * TLS for every connection to this server (`--tls-*`; `?ssl=true` means at least `required`).
   * Undefined: plain TCP for mysql2, the tools' defaults for child processes.
   */
  tls?: TlsSettings;
}
