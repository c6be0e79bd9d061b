// Which statements of the binlog range a table-level restore applies: DDL on a restored table
// (ALTER TABLE, TRUNCATE, CREATE/DROP INDEX, under the restored schema name); any other statement
// naming a restored table is refused, so nothing on those tables is silently skipped.
import type { BinlogEvent, QueryEventData } from '../../binlog/index.js';
import { PitrError } from '../../errors/index.js';
import type { QueryDecision } from '../apply/event-filter.js';
import type { TableName } from './table-restore.js';

const IDENT = '(`(?:[^`]|``)+`|[\\w$]+)';
const QUALIFIED = `${IDENT}(?:\\s*\\.\\s*${IDENT})?`;
/** DDL forms applied to a restored table; the last groups are its (qualified) name. */
const TABLE_DDL = new RegExp(
  '^\\s*(?:ALTER\\s+(?:ONLINE\\s+)?(?:IGNORE\\s+)?TABLE|TRUNCATE(?:\\s+TABLE)?|' +
    `(?:CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:UNIQUE\\s+|FULLTEXT\\s+|SPATIAL\\s+)?|DROP\\s+)INDEX\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?${IDENT}\\s+ON)` +
    `\\s+(?:IF\\s+EXISTS\\s+)?${QUALIFIED}`,
  'i',
);

const unquote = (id: string): string => (id.startsWith('`') ? id.slice(1, -1).replace(/``/g, '`') : id);
const quoteId = (s: string): string => `\`${s.replace(/`/g, '``')}\``;
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The `query` decision of a TableEventFilter for a table-level restore of `tables`, each going to
 * schema `dest(database)`.
 * - DDL on a restored table: applied, under the restored schema (default database replaced when
 *   the table is unqualified; the qualifier rewritten when it names the database).
 * - Any other statement that names a restored table (statement-based DML, RENAME, DROP, DDL
 *   referencing it from another table): refused with a typed error naming the transaction.
 * - Everything else: dropped (it concerns other tables).
 *
 * @throws PitrError RESTORE_APPLY_FAILED (from the returned function) for a statement it cannot apply
 */
export function tableRestoreQueryFilter(
  tables: readonly TableName[],
  dest: (database: string) => string,
): (event: BinlogEvent, query: QueryEventData) => QueryDecision {
  const listed = (db: string, t: string): boolean =>
    tables.some((x) => x.database === db && x.table.toLowerCase() === t.toLowerCase());
  const mentions = tables.map(
    (t) => new RegExp(`(?<![\\w$\`])\`?${escapeRe(t.table).replace(/`/g, '``')}\`?(?![\\w$\`])`, 'i'),
  );
  return (event, query) => {
    const text = query.statement;
    const m = TABLE_DDL.exec(text);
    if (m) {
      const db = m[3] === undefined ? query.schema : unquote(m[2]!);
      const table = unquote(m[3] ?? m[2]!);
      if (!listed(db, table)) return { apply: false };
      if (dest(db) === db) return { apply: true };
      if (m[3] === undefined) return { apply: true, schema: dest(db) };
      if (Buffer.from(text, 'utf8').equals(query.statementBytes)) {
        const head = text.slice(0, m.index + m[0].length);
        const qualified = new RegExp(`${escapeRe(m[2]!)}(\\s*\\.\\s*${escapeRe(m[3])})$`);
        const rewritten =
          head.replace(qualified, `${quoteId(dest(db))}$1`) + text.slice(m.index + m[0].length);
        return { apply: true, statement: Buffer.from(rewritten, 'utf8') };
      }
    } else if (!mentions.some((re) => re.test(text))) {
      return { apply: false };
    }
    throw new PitrError(
      'RESTORE_APPLY_FAILED',
      `the statement at binlog offset ${event.offset} names a restored table and cannot be applied to ` +
        `a table restore: ${text.slice(0, 200)}. The restored tables are applied up to the transaction before it. ` +
        'Restore the whole instance onto a scratch server (restore pitr without --tables) and copy the table from there',
    );
  };
}
