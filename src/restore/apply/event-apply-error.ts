import { PitrError } from '../../errors/index.js';

/** Why the event applier stopped. */
export type EventApplyFailure =
  /** The target refused a statement (errno/sqlState/sqlMessage in the message). */
  | 'sql-error'
  /** The connection to the target was lost while a batch ran. */
  | 'connection-lost'
  /** An event the applier cannot apply from its bytes (LOAD DATA, compressed, encrypted, INCIDENT). */
  | 'unsupported-event'
  /** A statement or event larger than the target's max_allowed_packet allows. */
  | 'too-big';

/**
 * The event applier stopped at a transaction: everything before it is applied, nothing after it
 * ran. The message names the transaction and the `restore apply --from` command that continues.
 * Code RESTORE_APPLY_FAILED.
 */
export class EventApplyError extends PitrError {
  constructor(
    readonly failure: EventApplyFailure,
    /** The failing transaction: its binlog file and start position, and GTID when it has one. */
    readonly at: { file: string; position: number; gtid: string | undefined },
    message: string,
    options?: ErrorOptions,
  ) {
    super('RESTORE_APPLY_FAILED', message, options);
  }
}
