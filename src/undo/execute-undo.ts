import type { ObjectStore } from '../storage/index.js';
import { planUndo, type RowCheck, type UndoPlan, type UndoSummary } from './plan-undo.js';
import { readUndoSource, type UndoReadStats, type UndoSelection } from './read-undo-source.js';
import { tableName, type TargetColumn, type TargetTable } from './target-table.js';
import { UndoConflictError, UndoRowCountError, type UndoConflict } from './undo-error.js';
import { displayText, qualifiedName, readExpr, sameValue, valueText } from './undo-sql.js';
import { keyPredicate, UNDO_SESSION_SQL, undoScript, undoStatements } from './undo-statements.js';

/** The narrow part of a mysql2/promise connection undo uses. */
export interface UndoSession {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
}

/** Keys per conflict-check SELECT. */
const CHECK_BATCH = 500;

type Row = Record<string, string | null>;

/**
 * Reads the definitions of `names` (`db.table`) from the target's information_schema: columns in
 * order (type, signedness, charset, generated) and the key rows are found by (primary key, else
 * the first unique key over NOT NULL columns without prefixes).
 */
export async function readTargetTables(
  conn: UndoSession,
  names: readonly string[],
): Promise<Map<string, TargetTable | undefined>> {
  const out = new Map<string, TargetTable | undefined>();
  if (names.length === 0) return out;
  const pairs = names.map((n) => {
    const dot = n.indexOf('.');
    return [n.slice(0, dot), n.slice(dot + 1)] as const;
  });
  const where = pairs.map(() => '(TABLE_SCHEMA = ? AND TABLE_NAME = ?)').join(' OR ');
  const params = pairs.flat();
  const [cols] = (await conn.query(
    'SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, LOWER(DATA_TYPE) AS dataType, ' +
      'COLUMN_TYPE AS columnType, CHARACTER_SET_NAME AS charset, CAST(CHARACTER_OCTET_LENGTH AS CHAR) AS octets, ' +
      `IS_NULLABLE AS nullable, EXTRA AS extra FROM information_schema.COLUMNS WHERE ${where} ` +
      'ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION',
    params,
  )) as [Row[], unknown];
  const [stats] = (await conn.query(
    'SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, INDEX_NAME AS idx, CAST(NON_UNIQUE AS CHAR) AS nonUnique, ' +
      `COLUMN_NAME AS name, CAST(SUB_PART AS CHAR) AS subPart FROM information_schema.STATISTICS WHERE ${where} ` +
      'ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX',
    params,
  )) as [Row[], unknown];
  for (const [db, tbl] of pairs) {
    const mine = cols.filter((c) => c.db === db && c.tbl === tbl);
    if (mine.length === 0) {
      out.set(tableName(db, tbl), undefined);
      continue;
    }
    const columns: TargetColumn[] = mine.map((c) => ({
      name: c.name!,
      dataType: c.dataType!,
      unsigned: /unsigned/i.test(c.columnType ?? ''),
      charset: c.charset ?? null,
      octetLength: c.octets == null ? null : Number(c.octets),
      generated: /GENERATED|VIRTUAL|PERSISTENT|STORED/i.test(c.extra ?? ''),
    }));
    const nullable = new Map(mine.map((c) => [c.name!, c.nullable === 'YES']));
    const indexes = new Map<string, { unique: boolean; cols: string[]; prefix: boolean }>();
    for (const s of stats.filter((x) => x.db === db && x.tbl === tbl)) {
      const idx = indexes.get(s.idx!) ?? { unique: s.nonUnique === '0', cols: [], prefix: false };
      idx.cols.push(s.name!);
      if (s.subPart !== null) idx.prefix = true;
      indexes.set(s.idx!, idx);
    }
    const usable = [...indexes.entries()].filter(
      ([, x]) => x.unique && !x.prefix && x.cols.every((c) => nullable.get(c) === false),
    );
    const chosen = usable.find(([n]) => n === 'PRIMARY') ?? usable[0];
    out.set(tableName(db, tbl), {
      database: db,
      table: tbl,
      columns,
      key: chosen
        ? { name: chosen[0], columns: chosen[1].cols.map((c) => columns.findIndex((x) => x.name === c)) }
        : undefined,
    });
  }
  return out;
}

function keyDisplay(t: TargetTable, texts: (string | null)[]): string {
  return t
    .key!.columns.map((ci, j) => `${t.columns[ci]!.name}=${displayText(texts[j]!, t.columns[ci]!)}`)
    .join(', ');
}

/**
 * Locks every affected row (SELECT ... FOR UPDATE by key, in the caller's transaction) and compares
 * it, column by column, with what the undone transactions left.
 *
 * @returns the conflicts: rows gone, rows present that should not be, columns that differ
 */
export async function checkRows(conn: UndoSession, plan: UndoPlan): Promise<UndoConflict[]> {
  const conflicts: UndoConflict[] = [];
  const byTable = new Map<string, RowCheck[]>();
  for (const c of plan.checks) {
    const list = byTable.get(c.table);
    if (list) list.push(c);
    else byTable.set(c.table, [c]);
  }
  for (const [name, checks] of byTable) {
    const t = plan.tables.get(name)!;
    const select = t.columns.map((c, i) => `${readExpr(c)} AS c${i}`).join(', ');
    for (let b = 0; b < checks.length; b += CHECK_BATCH) {
      const batch = checks.slice(b, b + CHECK_BATCH);
      const [rows] = (await conn.query(
        `SELECT ${select} FROM ${qualifiedName(t)} WHERE ${keyPredicate(
          t,
          batch.map((c) => c.key),
        )} FOR UPDATE`,
      )) as [Row[], unknown];
      const found = new Map<string, Row>();
      for (const r of rows) found.set(t.key!.columns.map((i) => r[`c${i}`] ?? '\\N').join('\u0000'), r);
      for (const c of batch) {
        const row = found.get(c.keyText);
        found.delete(c.keyText);
        // The key as an operator reads it, made only for a conflict.
        const key = (): string =>
          keyDisplay(
            t,
            t.key!.columns.map((i, j) => valueText(c.key[j] ?? null, t.columns[i]!)),
          );
        if (!c.expected) {
          if (row)
            conflicts.push({ table: name, key: key(), expected: '(absent)', found: '(a row with this key)' });
          continue;
        }
        if (!row) {
          conflicts.push({ table: name, key: key(), expected: '(the row)', found: '(absent)' });
          continue;
        }
        for (let i = 0; i < t.columns.length; i++) {
          const col = t.columns[i]!;
          if (col.generated) continue;
          const expected = valueText(c.expected[i] ?? null, col);
          const got = row[`c${i}`] ?? null;
          if (!sameValue(expected, got, col)) {
            conflicts.push({
              table: name,
              key: key(),
              column: col.name,
              expected: displayText(expected, col),
              found: displayText(got, col),
            });
          }
        }
      }
      for (const r of found.values()) {
        const key = keyDisplay(
          t,
          t.key!.columns.map((i) => r[`c${i}`] ?? null),
        );
        conflicts.push({ table: name, key, expected: '(absent)', found: '(a row with an equal key)' });
      }
    }
  }
  return conflicts;
}

/** How an undo went. */
export interface UndoReport {
  timeline: string;
  transactions: UndoPlan['transactions'];
  summary: UndoSummary[];
  /** Inverse statements run (0 for a dry run). */
  statements: number;
  /** Rows changed on the target (0 for a dry run). */
  rowsChanged: number;
  /** Dry run: the conflicts found (a real run throws UndoConflictError instead). */
  conflicts: UndoConflict[];
  applied: boolean;
  /**
   * Where the time went, in seconds: `read` the archive (catalog, segments, row images; details in
   * `reading`), `plan` (the target's table definitions and planning), `check` (locking and comparing
   * the rows), `apply` (the inverse statements and COMMIT; 0 for a dry run).
   */
  seconds: { read: number; plan: number; check: number; apply: number };
  /** What reading the archive cost. */
  reading: UndoReadStats | undefined;
}

/** What executeUndo needs. */
export interface UndoDeps {
  store: ObjectStore;
  /** A session on the target (the caller closes it). */
  conn: UndoSession;
  timeline?: string | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Undoes the selected transactions on the target: reads their row images from the archive, plans
 * (refusing what cannot be undone exactly), then in one transaction locks and checks every affected
 * row and runs the inverse statements, in reverse order, with the target's binary log on (an
 * ordinary transaction that replicas receive). With `dryRun` it checks, rolls back and only writes
 * the SQL script to `sql`.
 *
 * @throws UndoRefusedError, UndoConflictError, UndoRowCountError (nothing changed); TargetOutOfRangeError for a
 *   GTID not in the archive; MysqlServerError; storage and data errors
 */
export async function executeUndo(
  selection: UndoSelection,
  deps: UndoDeps,
  opts: {
    dryRun: boolean;
    /** Receives the SQL script (undoScript), chunk by chunk, before anything runs on the target. */
    sql?: ((chunk: string) => void) | undefined;
    /** Called with the plan before the target is touched. */
    onPlan?: ((plan: UndoPlan) => void) | undefined;
    /** Called before a real run starts its transaction; throws to stop (nothing changed). */
    confirm?: ((plan: UndoPlan) => Promise<void>) | undefined;
  },
): Promise<UndoReport> {
  const seconds = { read: 0, plan: 0, check: 0, apply: 0 };
  let last = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const s = (now - last) / 1000;
    last = now;
    return s;
  };
  const source = await readUndoSource(deps.store, selection, {
    timeline: deps.timeline,
    signal: deps.signal,
  });
  seconds.read = lap();
  const names = [...new Set(source.transactions.flatMap((t) => t.changes.map((c) => c.table)))];
  const plan = planUndo(source, await readTargetTables(deps.conn, names));
  seconds.plan = lap();
  opts.onPlan?.(plan);
  if (opts.sql) for (const chunk of undoScript(plan)) opts.sql(chunk);
  const report: UndoReport = {
    timeline: source.timeline,
    transactions: plan.transactions,
    summary: plan.summary,
    statements: 0,
    rowsChanged: 0,
    conflicts: [],
    applied: false,
    seconds,
    reading: source.stats,
  };
  if (!opts.dryRun) await opts.confirm?.(plan);
  lap(); // the script and the confirmation are not the undo's own time
  const conn = deps.conn;
  for (const s of UNDO_SESSION_SQL) await conn.query(s);
  await conn.query('START TRANSACTION');
  let done = false;
  try {
    const conflicts = await checkRows(conn, plan);
    seconds.check = lap();
    if (opts.dryRun) {
      report.conflicts = conflicts;
      return report;
    }
    if (conflicts.length > 0) throw new UndoConflictError(conflicts);
    for (const s of undoStatements(plan)) {
      deps.signal?.throwIfAborted();
      const [res] = (await conn.query(s.sql)) as [{ affectedRows: number }, unknown];
      if (res.affectedRows !== s.rows) {
        throw new UndoRowCountError(s.rows, res.affectedRows, s.sql);
      }
      report.statements++;
      report.rowsChanged += res.affectedRows;
    }
    await conn.query('COMMIT');
    seconds.apply = lap();
    done = true;
    report.applied = true;
    return report;
  } finally {
    if (!done) await conn.query('ROLLBACK').catch(() => undefined);
  }
}
