import type { ColumnValue, RowImage } from '../binlog/index.js';
import type { UndoOp, UndoPlan } from './plan-undo.js';
import type { TargetTable } from './target-table.js';
import { qualifiedName, quoteIdent, valueLiteral } from './undo-sql.js';

/** Rows per multi-row INSERT / keys per DELETE ... IN. */
const BATCH_ROWS = 1000;
/** Bytes of SQL per statement before a batch is cut. */
const BATCH_BYTES = 1 << 20;

/** Session settings the inverse statements are written for (exact temporal text, no auto-increment on 0). */
export const UNDO_SESSION_SQL: readonly string[] = [
  'SET NAMES utf8mb4',
  "SET SESSION time_zone = '+00:00'",
  "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
];

/** One inverse statement and the rows it must affect. */
export interface UndoStatement {
  sql: string;
  /** Rows the statement must change (DELETE, UPDATE) or insert. */
  rows: number;
}

/** `(k1, k2) IN ((..), (..))` or `k IN (..)` / `k = ..`. */
export function keyPredicate(t: TargetTable, keys: readonly (ColumnValue | null)[][]): string {
  const cols = t.key!.columns.map((i) => t.columns[i]!);
  const lit = (key: readonly (ColumnValue | null)[]): string => {
    const parts = key.map((v, j) => valueLiteral(v, cols[j]!));
    return parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
  };
  const lhs =
    cols.length === 1 ? quoteIdent(cols[0]!.name) : `(${cols.map((c) => quoteIdent(c.name)).join(', ')})`;
  if (keys.length === 1) {
    return cols.length === 1
      ? `${lhs} = ${lit(keys[0]!)}`
      : cols.map((c, j) => `${quoteIdent(c.name)} = ${valueLiteral(keys[0]![j]!, c)}`).join(' AND ');
  }
  return `${lhs} IN (${keys.map(lit).join(', ')})`;
}

function writable(t: TargetTable): number[] {
  return t.columns.flatMap((c, i) => (c.generated ? [] : [i]));
}

function rowValues(t: TargetTable, cols: number[], row: RowImage): string {
  return `(${cols.map((i) => valueLiteral(row[i] ?? null, t.columns[i]!)).join(', ')})`;
}

/**
 * The inverse statements of `plan`, in order: consecutive inverse INSERTs into one table become
 * multi-row INSERTs and consecutive DELETEs one `DELETE ... WHERE key IN (...)`, in batches; each
 * UPDATE sets every column back by the key the row has now.
 */
export function* undoStatements(plan: UndoPlan): Generator<UndoStatement> {
  let i = 0;
  const ops = plan.ops;
  while (i < ops.length) {
    const first = ops[i]!;
    const t = plan.tables.get(first.table)!;
    const name = qualifiedName(t);
    if (first.op === 'update') {
      const set = writable(t)
        .map(
          (c) => `${quoteIdent(t.columns[c]!.name)} = ${valueLiteral(first.row[c] ?? null, t.columns[c]!)}`,
        )
        .join(', ');
      yield { sql: `UPDATE ${name} SET ${set} WHERE ${keyPredicate(t, [first.key])}`, rows: 1 };
      i++;
      continue;
    }
    const cols = writable(t);
    const run: UndoOp[] = [];
    const values: string[] = [];
    let bytes = 0;
    while (i < ops.length && run.length < BATCH_ROWS && bytes < BATCH_BYTES) {
      const op = ops[i]!;
      if (op.op !== first.op || op.table !== first.table) break;
      run.push(op);
      if (op.op === 'insert') {
        const v = rowValues(t, cols, op.row);
        values.push(v);
        bytes += v.length;
      } else bytes += 64;
      i++;
    }
    if (first.op === 'insert') {
      yield {
        sql: `INSERT INTO ${name} (${cols.map((c) => quoteIdent(t.columns[c]!.name)).join(', ')}) VALUES ${values.join(', ')}`,
        rows: run.length,
      };
    } else {
      const keys = run.map((op) => (op as { key: (ColumnValue | null)[] }).key);
      yield { sql: `DELETE FROM ${name} WHERE ${keyPredicate(t, keys)}`, rows: run.length };
    }
  }
}

/** The whole undo as an SQL script a person can review and apply with `mariadb` / `mysql`. */
export function* undoScript(plan: UndoPlan): Generator<string> {
  yield `-- mysql-pitr undo of ${plan.transactions.length} transaction(s):\n`;
  for (const t of plan.transactions) {
    yield `--   ${t.gtid ?? '(no GTID)'} at ${t.file}:${t.startOffset}, committed ${new Date(t.commitTime).toISOString()}\n`;
  }
  for (const s of plan.summary) {
    yield `-- ${s.table}: undoes ${s.inserted} insert(s), ${s.updated} update(s), ${s.deleted} delete(s)\n`;
  }
  yield '-- Apply in one session; it does not check that the rows still hold what the transactions left\n';
  yield '-- (mysql-pitr undo without --dry-run does, and refuses on a conflict).\n';
  for (const s of UNDO_SESSION_SQL) yield `${s};\n`;
  yield 'START TRANSACTION;\n';
  for (const s of undoStatements(plan)) yield `${s.sql};\n`;
  yield 'COMMIT;\n';
}
