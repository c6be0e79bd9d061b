import { PitrError } from '../errors/index.js';

/** The setting or privilege a source lacks. */
export type SourcePrerequisite =
  | 'log_bin'
  | 'binlog_format'
  | 'binlog_checksum'
  | 'server_id'
  | 'replication_slave_privilege'
  | 'position_range';

/**
 * The source is reachable but cannot serve point-in-time recovery as configured: the binary log
 * is off, the format is not ROW, the user lacks REPLICATION SLAVE... The message says how to fix it.
 */
export class MysqlPrerequisiteError extends PitrError {
  /** Which prerequisite failed. */
  readonly prerequisite: SourcePrerequisite;
  /** The value found on the source (e.g. 'OFF', 'STATEMENT'), when there is one. */
  readonly actual: string | undefined;

  constructor(
    prerequisite: SourcePrerequisite,
    actual: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super('MYSQL_PREREQUISITE', message, options);
    this.prerequisite = prerequisite;
    this.actual = actual;
  }
}
