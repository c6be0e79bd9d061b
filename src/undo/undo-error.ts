import { PitrError } from '../errors/index.js';

/**
 * The archive cannot undo what was asked: row images not FULL, DDL on an affected table in the
 * range, a table without a primary or unique key, statement-based changes, a table whose definition
 * changed. Nothing was changed; the message says what to do instead.
 */
export class UndoRefusedError extends PitrError {
  constructor(message: string, options?: ErrorOptions) {
    super('UNDO_REFUSED', message, options);
  }
}

/** One row that no longer holds what the undone transactions left. */
export interface UndoConflict {
  /** `db.table`. */
  table: string;
  /** The row's key, as `col=value, ...`. */
  key: string;
  /** The column that differs; undefined when the row is gone or unexpectedly present. */
  column?: string | undefined;
  /** What the transactions left (`(absent)` when the row should not exist). */
  expected: string;
  /** What the target holds (`(absent)` when the row is gone). */
  found: string;
}

/** Most conflicts listed in the message (all are in `conflicts`). */
const LISTED = 20;

/**
 * Rows on the target changed after the transactions being undone: undoing would overwrite those
 * later changes. Nothing was changed.
 */
export class UndoConflictError extends PitrError {
  constructor(readonly conflicts: readonly UndoConflict[]) {
    const lines = conflicts
      .slice(0, LISTED)
      .map(
        (c) =>
          `  ${c.table} (${c.key})${c.column ? ` column ${c.column}` : ''}: expected ${c.expected}, found ${c.found}`,
      );
    if (conflicts.length > LISTED) lines.push(`  ... and ${conflicts.length - LISTED} more`);
    super(
      'UNDO_CONFLICT',
      `refusing to undo: ${conflicts.length} row(s) changed after the transactions being undone, and undoing would ` +
        `overwrite those later changes. Nothing was changed.\n${lines.join('\n')}\n` +
        'Look at what changed them (mysql-pitr timeline search --table DB.TBL), then undo those transactions too ' +
        '(--gtid A,B), fix the rows by hand from `undo --dry-run`, or restore the table as of before the bad ' +
        'transaction into a side schema and copy what you need.',
    );
  }
}
