import { PitrError } from '../errors/index.js';

/**
 * The source could not be reached, or the connection broke: refused, timed out, unknown host,
 * reset, closed by the server. Nothing was said by the server itself (that is MysqlServerError).
 */
export class MysqlConnectionError extends PitrError {
  /** The target as `host:port` or the socket path. */
  readonly target: string;
  /** The system or driver code when known: ECONNREFUSED, ETIMEDOUT, ENOTFOUND, PROTOCOL_CONNECTION_LOST... */
  readonly reason: string | undefined;

  constructor(message: string, target: string, reason: string | undefined, options?: ErrorOptions) {
    super('MYSQL_CONNECTION', message, options);
    this.target = target;
    this.reason = reason;
  }
}
