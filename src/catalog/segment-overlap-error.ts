import { CorruptDataError } from '../errors/index.js';

/**
 * Two objects of one binlog file hold ranges that overlap without one containing the other. The
 * archive cannot tell which bytes to use, so every reader refuses the file rather than guess
 * (code CORRUPT_DATA, exit 5). Neither the archiver nor `binlog compact` writes such a pair.
 */
export class SegmentOverlapError extends CorruptDataError {
  /** The two objects, in key order. */
  readonly keys: readonly [string, string];

  constructor(
    a: { key: string; start: number; end: number },
    b: { key: string; start: number; end: number },
  ) {
    super(
      a.key,
      b.start,
      `it holds bytes ${a.start}..${a.end} and ${b.key} holds bytes ${b.start}..${b.end}: the two overlap partially, ` +
        'which neither `mysql-pitr archive` nor `mysql-pitr binlog compact` writes (was an object copied in by hand, or ' +
        'did two compactions with different --max-object-bytes run at once?). Readers refuse this file rather than ' +
        'guess. Copy both objects somewhere safe, then delete the one whose bytes the other objects of the file ' +
        'still cover without it (check with `mysql-pitr binlog list` and `mysql-pitr verify`)',
    );
    this.keys = [a.key, b.key];
  }
}
