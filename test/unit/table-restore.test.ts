/**
 * The pure parts of `restore pitr --tables`: the --tables list, foreign keys found in a CREATE
 * TABLE, and which binlog statements a table restore applies, rewrites or refuses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BinlogEvent, QueryEventData } from '../../src/binlog/index.js';
import { PitrError } from '../../src/errors/index.js';
import { foreignKeyTargets, parseTableList } from '../../src/restore/index.js';
import { tableRestoreQueryFilter } from '../../src/restore/tables/table-restore-ddl.js';

const event = { offset: 1234 } as BinlogEvent;
const query = (statement: string, schema = 'app'): QueryEventData =>
  ({ statement, schema, statementBytes: Buffer.from(statement, 'utf8') }) as QueryEventData;

describe('table restore', () => {
  it('parses --tables, back-quoted names included, and refuses a name without its database', () => {
    assert.deepEqual(parseTableList('app.orders, `my.db`.`t``x`'), [
      { database: 'app', table: 'orders' },
      { database: 'my.db', table: 't`x' },
    ]);
    assert.throws(
      () => parseTableList('orders'),
      (e: unknown) => e instanceof PitrError && e.code === 'USAGE',
    );
    assert.throws(() => parseTableList('app.orders,'), /is not DB\.TBL/);
  });

  it('finds the foreign keys of a CREATE TABLE, qualified or not', () => {
    const sql =
      'CREATE TABLE `child` (\n  `id` int, `p` int, `q` int,\n  CONSTRAINT `fk_p` FOREIGN KEY (`p`) REFERENCES `parent` (`id`),\n' +
      '  CONSTRAINT `fk_q` FOREIGN KEY (`q`) REFERENCES `other`.`t` (`id`) ON DELETE CASCADE\n)';
    assert.deepEqual(foreignKeyTargets(sql, 'app'), [
      { constraint: 'fk_p', database: 'app', table: 'parent' },
      { constraint: 'fk_q', database: 'other', table: 't' },
    ]);
  });

  it('applies DDL on a restored table under the new schema, drops other statements, refuses the rest', () => {
    const f = tableRestoreQueryFilter([{ database: 'app', table: 'orders' }], () => 'side');
    assert.deepEqual(f(event, query('ALTER TABLE orders ADD COLUMN x INT')), { apply: true, schema: 'side' });
    assert.deepEqual(f(event, query('ALTER TABLE app.`orders` ADD COLUMN x INT', 'other')), {
      apply: true,
      statement: Buffer.from('ALTER TABLE `side`.`orders` ADD COLUMN x INT'),
    });
    assert.deepEqual(f(event, query('CREATE INDEX i ON orders (c)')), { apply: true, schema: 'side' });
    assert.deepEqual(f(event, query('TRUNCATE TABLE `app`.orders')), {
      apply: true,
      statement: Buffer.from('TRUNCATE TABLE `side`.orders'),
    });
    // another table, and a name that only starts like it
    assert.deepEqual(f(event, query('ALTER TABLE customers ADD COLUMN x INT')), { apply: false });
    assert.deepEqual(f(event, query('ALTER TABLE orders ADD COLUMN x INT', 'shop')), { apply: false });
    assert.deepEqual(f(event, query('INSERT INTO orders_archive VALUES (1)')), { apply: false });
    // statement-based DML and DROP on it: refused by offset, never skipped
    for (const sql of [
      'INSERT INTO orders VALUES (1)',
      'DROP TABLE `orders`',
      'RENAME TABLE app.orders TO app.o2',
    ]) {
      assert.throws(
        () => f(event, query(sql)),
        (e: unknown) =>
          e instanceof PitrError && e.code === 'RESTORE_APPLY_FAILED' && /offset 1234/.test(e.message),
      );
    }
  });

  it('keeps the statement as it is when the schema keeps its name', () => {
    const f = tableRestoreQueryFilter([{ database: 'app', table: 'orders' }], (d) => d);
    assert.deepEqual(f(event, query('ALTER TABLE app.orders ADD COLUMN x INT', 'other')), { apply: true });
  });
});
