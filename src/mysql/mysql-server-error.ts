import { PitrError } from '../errors/index.js';

/** What a MySQL/MariaDB ERR packet carries. */
export interface ServerErrorInfo {
  /** The server's error number, e.g. 1045 (ER_ACCESS_DENIED_ERROR), 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG). */
  errno: number;
  /** The five-character SQLSTATE, e.g. '28000'; '' when the server sent none. */
  sqlState: string;
  /** The server's own message text. */
  sqlMessage: string;
}

/**
 * The source answered with an error packet: wrong credentials, a missing privilege, a purged
 * binlog, a server_id clash. `message` says what was being attempted, quotes the server and
 * ends with `advice` (what an operator should do next).
 */
export class MysqlServerError extends PitrError implements ServerErrorInfo {
  /** The server's error number. */
  readonly errno: number;
  /** The SQLSTATE ('' when the server sent none). */
  readonly sqlState: string;
  /** The server's message. */
  readonly sqlMessage: string;
  /** What to do next, in one or two sentences. */
  readonly advice: string;
  /** What was being attempted, e.g. "connect to mysql://repl@db1:3306". */
  readonly attempted: string;

  constructor(attempted: string, info: ServerErrorInfo, advice: string, options?: ErrorOptions) {
    super(
      'MYSQL_SERVER_ERROR',
      `${attempted} failed: server error ${info.errno}${info.sqlState ? ` (${info.sqlState})` : ''}: ` +
        `${info.sqlMessage.replace(/[.\s]+$/, '')}. ${advice}`,
      options,
    );
    this.errno = info.errno;
    this.sqlState = info.sqlState;
    this.sqlMessage = info.sqlMessage;
    this.advice = advice;
    this.attempted = attempted;
  }
}
