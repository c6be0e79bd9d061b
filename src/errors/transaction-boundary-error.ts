import { PitrError } from './pitr-error.js';

/** The archived transaction a binlog position falls inside. */
export interface EnclosingTransaction {
  /** Its GTID, when the source logs GTIDs. */
  gtid: string | undefined;
  /** Offset of its first event in `file`. */
  startOffset: number;
  /** Offset just past its last event (its commit) in `file`. */
  endOffset: number;
}

/**
 * A binlog position given by the user (`--from`, `--to-position`) that is not between two
 * transactions, where applying can start or stop (code USAGE). Carries the boundaries to use instead.
 */
export class TransactionBoundaryError extends PitrError {
  /** The option that gave the position (`--from`, `--to-position`). */
  readonly option: string;
  /** The binlog file of the position. */
  readonly file: string;
  /** The position given. */
  readonly position: number;
  /** The transaction the position falls inside, when it falls inside one. */
  readonly inside: EnclosingTransaction | undefined;
  /** The nearest transaction boundaries in `file` around the position, ascending (may be empty). */
  readonly boundaries: readonly number[];

  constructor(
    at: {
      option: string;
      file: string;
      position: number;
      inside?: EnclosingTransaction | undefined;
      boundaries: readonly number[];
    },
    message: string,
    options?: ErrorOptions,
  ) {
    super('USAGE', message, options);
    this.option = at.option;
    this.file = at.file;
    this.position = at.position;
    this.inside = at.inside === undefined ? undefined : { ...at.inside };
    this.boundaries = Object.freeze([...at.boundaries].sort((a, b) => a - b));
  }
}
