import { PitrError } from '../errors/index.js';

/** Why undo refuses. Callers match on this, never on the message. */
export type UndoRefusalReason =
  /** The selected transactions changed no rows (or none matched). */
  | 'nothing-to-undo'
  /** A selected transaction holds statements (binlog_format STATEMENT/MIXED), not row images. */
  | 'statement-based'
  /** An affected table does not exist on the target. */
  | 'table-missing'
  /** DDL changed an affected table after the first selected transaction. */
  | 'ddl-after'
  /** The table's definition on the target no longer fits the archived row images. */
  | 'definition-changed'
  /** The table has no primary key and no unique key over NOT NULL columns. */
  | 'no-key'
  /** Row images are not FULL (binlog_row_image MINIMAL or NOBLOB). */
  | 'partial-images'
  /** A PARTIAL_UPDATE_ROWS event: JSON updates logged as diffs (binlog_row_value_options=PARTIAL_JSON). */
  | 'partial-json'
  /** Row images this reader cannot decode. */
  | 'undecodable-rows';

/**
 * The archive cannot undo what was asked: row images not FULL, DDL on an affected table in the
 * range, a table without a primary or unique key, statement-based changes, a table whose definition
 * changed. Nothing was changed; the message says what to do instead.
 */
export class UndoRefusedError extends PitrError {
  /** Why undo refuses. */
  readonly reason: UndoRefusalReason;
  /** The table (`db.table`) the refusal is about, when it is about one. */
  readonly table: string | undefined;

  constructor(
    reason: UndoRefusalReason,
    message: string,
    options?: ErrorOptions & { table?: string | undefined },
  ) {
    super('UNDO_REFUSED', message, options);
    this.reason = reason;
    this.table = options?.table;
  }
}

/**
 * An inverse statement changed another number of rows than the check said it would (a row changed
 * between the check and the statement, or a trigger). The transaction was rolled back: nothing was
 * changed.
 */
export class UndoRowCountError extends PitrError {
  /** Rows the statement was expected to change. */
  readonly expected: number;
  /** Rows it changed. */
  readonly changed: number;
  /** The statement. */
  readonly sql: string;

  constructor(expected: number, changed: number, sql: string) {
    super(
      'UNDO_CONFLICT',
      `an inverse statement changed ${changed} row(s) where ${expected} were expected; it was rolled back ` +
        `and nothing was changed. Re-run the undo (the rows may have changed meanwhile). Statement: ${sql.slice(0, 300)}`,
    );
    this.expected = expected;
    this.changed = changed;
    this.sql = sql;
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
