import { MysqlServerError, type ServerErrorInfo } from './mysql-server-error.js';

/**
 * The source cannot send the requested binlog (error 1236, ER_MASTER_FATAL_ERROR_READING_BINLOG):
 * the file was purged or never existed, or the position is past its end. Whatever is missing
 * cannot be fetched from this source any more.
 */
export class BinlogUnavailableError extends MysqlServerError {
  /** The binlog file that was asked for. */
  readonly file: string;
  /** The position that was asked for. */
  readonly position: number;

  constructor(
    attempted: string,
    file: string,
    position: number,
    info: ServerErrorInfo,
    advice: string,
    options?: ErrorOptions,
  ) {
    super(attempted, info, advice, options);
    this.file = file;
    this.position = position;
  }
}
