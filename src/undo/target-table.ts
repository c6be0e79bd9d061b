/** One column of a table on the undo target, from information_schema.COLUMNS. */
export interface TargetColumn {
  name: string;
  /** DATA_TYPE, lower case: `int`, `varchar`, `datetime`, `longtext`, `json` (MySQL), ... */
  dataType: string;
  /** COLUMN_TYPE says `unsigned`. */
  unsigned: boolean;
  /** CHARACTER_SET_NAME; null for binary strings and non-string types. */
  charset: string | null;
  /** CHARACTER_OCTET_LENGTH (BINARY(n) values are zero-padded to it). */
  octetLength: number | null;
  /** A generated (virtual or stored) column: never written, never compared. */
  generated: boolean;
}

/** A table on the undo target. */
export interface TargetTable {
  database: string;
  table: string;
  columns: TargetColumn[];
  /** The key rows are found by: the primary key, else a unique key over NOT NULL columns. */
  key: { name: string; columns: number[] } | undefined;
}

/** `db.table` as the plan and messages name a table. */
export const tableName = (database: string, table: string): string => `${database}.${table}`;
