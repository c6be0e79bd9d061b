import type { ColumnValue, RowImage, RowsEventKind } from '../binlog/index.js';
import { UndoRefusedError } from './undo-error.js';
import type { UndoSource, UndoTransaction } from './read-undo-source.js';
import type { TargetTable } from './target-table.js';
import { valueText } from './undo-sql.js';

/** One inverse row operation, in the order it runs (the reverse of the binlog). */
export type UndoOp =
  | { op: 'delete'; table: string; key: (ColumnValue | null)[] }
  | { op: 'insert'; table: string; row: RowImage }
  | { op: 'update'; table: string; key: (ColumnValue | null)[]; row: RowImage };

/** What a row must hold on the target before undoing: the state the transactions left. */
export interface RowCheck {
  table: string;
  /** The key values (the table's key columns, in key order). */
  key: (ColumnValue | null)[];
  /** Canonical text of the key (valueText), joined: how rows read back are matched. */
  keyText: string;
  /** The full row the transactions left, or null when they left no row with this key. */
  expected: RowImage | null;
}

/** Rows reversed per table and kind of the original change. */
export interface UndoSummary {
  table: string;
  inserted: number;
  updated: number;
  deleted: number;
}

/** An undo, planned: checks first, then the inverse operations. Pure data. */
export interface UndoPlan {
  transactions: { gtid: string | undefined; file: string; startOffset: number; commitTime: number }[];
  tables: Map<string, TargetTable>;
  checks: RowCheck[];
  ops: UndoOp[];
  summary: UndoSummary[];
}

const SUGGEST_TABLE_RESTORE =
  'restore the table as of before the transaction into a side schema instead (`mysql-pitr restore pitr ' +
  '--before-gtid GTID` into a scratch server, then copy the rows back), or do a whole-instance restore';

function trxName(t: UndoTransaction): string {
  return `${t.gtid ?? '(no GTID)'} at ${t.file}:${t.startOffset}`;
}

function isFull(image: RowImage | undefined, columns: number): boolean {
  if (!image) return true;
  for (let i = 0; i < columns; i++) if (image[i] === undefined) return false;
  return true;
}

const VALUE_FAMILY_LISTS: Record<ColumnValue['t'], readonly string[]> = {
  int: ['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'bool', 'boolean'],
  decimal: ['decimal', 'numeric'],
  float: ['float', 'double', 'real'],
  year: ['year'],
  date: ['date'],
  time: ['time'],
  datetime: ['datetime'],
  timestamp: ['timestamp'],
  bit: ['bit'],
  enum: ['enum'],
  set: ['set'],
  string: [
    'char',
    'varchar',
    'binary',
    'varbinary',
    'tinytext',
    'text',
    'mediumtext',
    'longtext',
    'tinyblob',
    'blob',
    'mediumblob',
    'longblob',
    'json',
    'inet6',
    'uuid',
    'inet4',
  ],
  json: ['json'],
  geometry: [
    'geometry',
    'point',
    'linestring',
    'polygon',
    'multipoint',
    'multilinestring',
    'multipolygon',
    'geometrycollection',
  ],
};

/** The target data types each kind of row-image value may be written to. */
const VALUE_FAMILY = Object.fromEntries(
  Object.entries(VALUE_FAMILY_LISTS).map(([k, v]) => [k, new Set(v)]),
) as unknown as Record<ColumnValue['t'], ReadonlySet<string>>;

/**
 * Plans the undo of `source`'s transactions against the target's table definitions: refuses what
 * cannot be undone exactly, works out the state each affected row must be in (the last change of
 * the undone transactions to each key), and lists the inverse operations in reverse binlog order.
 *
 * @param targets each affected table's definition on the target (undefined: the table is missing)
 * @throws UndoRefusedError (UNDO_REFUSED) naming the reason and what to do instead
 */
export function planUndo(
  source: UndoSource,
  targets: ReadonlyMap<string, TargetTable | undefined>,
): UndoPlan {
  const tables = new Map<string, TargetTable>();
  if (source.transactions.every((t) => t.changes.length === 0 && t.statements.length === 0)) {
    throw new UndoRefusedError(
      'nothing-to-undo',
      `the selected transaction(s) changed no rows${
        source.transactions.length ? ` (${source.transactions.map(trxName).join(', ')})` : ' (none matched)'
      }; nothing to undo. Check the selection with \`mysql-pitr timeline search\``,
    );
  }
  for (const t of source.transactions) {
    if (t.statements.length > 0) {
      throw new UndoRefusedError(
        'statement-based',
        `transaction ${trxName(t)} holds a statement, not row images: "${t.statements[0]!.slice(0, 200)}". ` +
          'Undo reverses row-based changes only (binlog_format=ROW); nothing was changed. To recover, ' +
          SUGGEST_TABLE_RESTORE,
      );
    }
  }
  const affected = [...new Set(source.transactions.flatMap((t) => t.changes.map((c) => c.table)))];
  for (const name of affected) {
    const map = source.tableMaps.get(name)!;
    const target = targets.get(name);
    if (!target) {
      throw new UndoRefusedError(
        'table-missing',
        `table ${name} does not exist on the target; nothing was changed. Undo writes to the live table: point ` +
          '--target at the server that holds it, or ' +
          SUGGEST_TABLE_RESTORE,
        { table: name },
      );
    }
    const ddl = source.ddl.find((d) => mentionsTable(d.statement, map.database, map.table));
    if (ddl) {
      throw new UndoRefusedError(
        'ddl-after',
        `table ${name} was changed by DDL after the transaction(s) to undo: "${ddl.statement.slice(0, 200)}" ` +
          `(${ddl.gtid ?? '(no GTID)'} at ${ddl.file}:${ddl.offset}). Row images from before it may not fit the table now; ` +
          `nothing was changed. Instead, ${SUGGEST_TABLE_RESTORE}`,
        { table: name },
      );
    }
    if (target.columns.length !== map.columns.length) {
      throw new UndoRefusedError(
        'definition-changed',
        `table ${name} has ${target.columns.length} columns on the target, but ${map.columns.length} in the archived ` +
          `row images: its definition changed since. Nothing was changed; ${SUGGEST_TABLE_RESTORE}`,
        { table: name },
      );
    }
    if (!target.key) {
      throw new UndoRefusedError(
        'no-key',
        `table ${name} has no primary key and no unique key over NOT NULL columns, so its rows cannot be identified ` +
          `one by one: undo cannot tell which of equal rows to change. Nothing was changed. Add a primary key, or ${SUGGEST_TABLE_RESTORE}`,
        { table: name },
      );
    }
    tables.set(name, target);
  }

  // Refuse images that are not full, and values that do not fit the target's column types.
  for (const t of source.transactions) {
    for (const c of t.changes) {
      const target = tables.get(c.table)!;
      const n = target.columns.length;
      if (!isFull(c.before, n) || !isFull(c.after, n)) {
        throw new UndoRefusedError(
          'partial-images',
          `transaction ${trxName(t)} logged partial row images of ${c.table} (binlog_row_image was MINIMAL or NOBLOB, ` +
            'not FULL, when it was written): undo needs every column of every row before and after the change. ' +
            `Nothing was changed; ${SUGGEST_TABLE_RESTORE}. Set binlog_row_image=FULL on the source so later ` +
            'transactions can be undone',
          { table: c.table },
        );
      }
      for (const image of [c.before, c.after]) {
        if (!image) continue;
        image.forEach((v, i) => {
          if (!v) return;
          const col = target.columns[i]!;
          if (!VALUE_FAMILY[v.t].has(col.dataType)) {
            throw new UndoRefusedError(
              'definition-changed',
              `column ${i + 1} of ${c.table} is ${col.dataType} (${col.name}) on the target, but the archived row images ` +
                `hold a ${v.t} value there: the table's definition changed since. Nothing was changed; ${SUGGEST_TABLE_RESTORE}`,
              { table: c.table },
            );
          }
        });
      }
    }
  }

  // The state each key is left in: forward over every change.
  const state = new Map<string, RowCheck>();
  const keyOf = (table: string, image: RowImage): { key: (ColumnValue | null)[]; keyText: string } => {
    const t = tables.get(table)!;
    const cols = t.key!.columns;
    const key: (ColumnValue | null)[] = new Array<ColumnValue | null>(cols.length);
    let keyText = '';
    for (let j = 0; j < cols.length; j++) {
      const v = image[cols[j]!] ?? null;
      key[j] = v;
      keyText += (j > 0 ? '\u0000' : '') + (valueText(v, t.columns[cols[j]!]!) ?? '\\N');
    }
    return { key, keyText };
  };
  const put = (table: string, image: RowImage, expected: RowImage | null): void => {
    const { key, keyText } = keyOf(table, image);
    state.set(`${table}\u0001${keyText}`, { table, key, keyText, expected });
  };
  const summary = new Map<string, UndoSummary>();
  const count = (table: string, kind: RowsEventKind): void => {
    const s = summary.get(table) ?? { table, inserted: 0, updated: 0, deleted: 0 };
    if (kind === 'insert') s.inserted++;
    else if (kind === 'update') s.updated++;
    else s.deleted++;
    summary.set(table, s);
  };
  for (const t of source.transactions) {
    for (const c of t.changes) {
      count(c.table, c.kind);
      if (c.kind === 'insert') put(c.table, c.after!, c.after!);
      else if (c.kind === 'delete') put(c.table, c.before!, null);
      else {
        put(c.table, c.before!, null);
        put(c.table, c.after!, c.after!);
      }
    }
  }

  const ops: UndoOp[] = [];
  for (let ti = source.transactions.length - 1; ti >= 0; ti--) {
    const changes = source.transactions[ti]!.changes;
    for (let ci = changes.length - 1; ci >= 0; ci--) {
      const c = changes[ci]!;
      if (c.kind === 'insert') ops.push({ op: 'delete', table: c.table, key: keyOf(c.table, c.after!).key });
      else if (c.kind === 'delete') ops.push({ op: 'insert', table: c.table, row: c.before! });
      else ops.push({ op: 'update', table: c.table, key: keyOf(c.table, c.after!).key, row: c.before! });
    }
  }
  return {
    transactions: source.transactions.map((t) => ({
      gtid: t.gtid,
      file: t.file,
      startOffset: t.startOffset,
      commitTime: t.commitTime,
    })),
    tables,
    checks: [...state.values()],
    ops,
    summary: [...summary.values()],
  };
}

/** True when `statement` names `db.table` or `table` (quoted or not). Conservative: a mention is enough. */
export function mentionsTable(statement: string, database: string, table: string): boolean {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(^|[^\\w$])\`?${esc(table)}\`?($|[^\\w$])`, 'i');
  void database;
  return re.test(statement);
}
