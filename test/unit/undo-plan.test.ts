/**
 * The pure part of undo: planUndo (refusals, the state rows must be in, inverse operations in reverse
 * order), the exact SQL literals of every value kind, and the batched inverse statements.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ColumnValue, RowImage, TableMapColumns } from '../../src/binlog/index.js';
import {
  mentionsTable,
  planUndo,
  undoScript,
  undoStatements,
  UndoRefusedError,
  valueLiteral,
  valueText,
  type TargetColumn,
  type TargetTable,
  type UndoRowChange,
  type UndoSource,
} from '../../src/undo/index.js';

const int = (v: number): ColumnValue => ({ t: 'int', raw: BigInt.asUintN(32, BigInt(v)), bytes: 4 });
const str = (s: string): ColumnValue => ({ t: 'string', bytes: Buffer.from(s) });

const col = (name: string, dataType: string, extra: Partial<TargetColumn> = {}): TargetColumn => ({
  name,
  dataType,
  unsigned: false,
  charset: dataType === 'varchar' ? 'utf8mb4' : null,
  octetLength: null,
  generated: false,
  ...extra,
});

const TABLE: TargetTable = {
  database: 'shop',
  table: 'orders',
  columns: [col('id', 'int'), col('note', 'varchar')],
  key: { name: 'PRIMARY', columns: [0] },
};

const MAP = {
  kind: 'table-map',
  tableId: 1,
  database: 'shop',
  table: 'orders',
  flags: 0,
  columns: [],
} as unknown as TableMapColumns;

function change(kind: UndoRowChange['kind'], before?: RowImage, after?: RowImage): UndoRowChange {
  return { table: 'shop.orders', kind, before, after, file: 'mysql-bin.000001', offset: 100 };
}

function source(changes: UndoRowChange[][], extra: Partial<UndoSource> = {}): UndoSource {
  return {
    timeline: '000001',
    transactions: changes.map((c, i) => ({
      gtid: `0-1-${i + 1}`,
      file: 'mysql-bin.000001',
      startOffset: 100 * (i + 1),
      endOffset: 100 * (i + 1) + 50,
      commitTime: 1_700_000_000_000,
      changes: c,
      statements: [],
    })),
    tableMaps: new Map([['shop.orders', { ...MAP, columns: [{}, {}] } as TableMapColumns]]),
    ddl: [],
    ...extra,
  };
}

const targets = (t: TargetTable | null = TABLE): Map<string, TargetTable | undefined> =>
  new Map([['shop.orders', t ?? undefined]]);

describe('planUndo', () => {
  it('reverses every change in reverse binlog order and checks the state the transactions left', () => {
    const plan = planUndo(
      source([
        [
          change('insert', undefined, [int(1), str('a')]),
          change('update', [int(2), str('b')], [int(2), str('B')]),
          change('delete', [int(3), str('c')]),
        ],
        [change('update', [int(1), str('a')], [int(1), str('a2')])],
      ]),
      targets(),
    );
    assert.deepEqual(
      plan.ops.map((o) => o.op),
      ['update', 'insert', 'update', 'delete'],
    );
    const byKey = new Map(plan.checks.map((c) => [c.keyText, c.expected]));
    assert.deepEqual(byKey.get('1'), [int(1), str('a2')]);
    assert.deepEqual(byKey.get('2'), [int(2), str('B')]);
    assert.equal(byKey.get('3'), null);
    assert.deepEqual(plan.summary, [{ table: 'shop.orders', inserted: 1, updated: 2, deleted: 1 }]);
  });

  it('an UPDATE that changes the key: old key must be absent, new key must hold the row; set back by the new key', () => {
    const plan = planUndo(source([[change('update', [int(5), str('x')], [int(6), str('x')])]]), targets());
    assert.deepEqual(
      plan.checks.map((c) => [c.keyText, c.expected === null]),
      [
        ['5', true],
        ['6', false],
      ],
    );
    const [stmt] = [...undoStatements(plan)];
    assert.equal(stmt!.sql, "UPDATE `shop`.`orders` SET `id` = 5, `note` = 'x' WHERE `id` = 6");
  });

  it('refuses partial row images (binlog_row_image MINIMAL/NOBLOB)', () => {
    const partial: RowImage = [int(1)];
    partial.length = 2;
    assert.throws(
      () => planUndo(source([[change('update', partial, [int(1), str('x')])]]), targets()),
      (e) => e instanceof UndoRefusedError && /binlog_row_image was MINIMAL or NOBLOB/.test(e.message),
    );
  });

  it('refuses a table without a usable key, a missing table, a changed definition, DDL and statements', () => {
    const one = source([[change('delete', [int(1), str('a')])]]);
    const refuse = (s: UndoSource, t: TargetTable | null, re: RegExp): void =>
      assert.throws(
        () => planUndo(s, targets(t)),
        (e) => e instanceof UndoRefusedError && re.test(e.message),
      );
    refuse(one, { ...TABLE, key: undefined }, /no primary key and no unique key/);
    refuse(one, null, /does not exist on the target/);
    refuse(
      one,
      { ...TABLE, columns: [...TABLE.columns, col('extra', 'int')] },
      /has 3 columns on the target, but 2/,
    );
    refuse(one, { ...TABLE, columns: [col('id', 'int'), col('note', 'datetime')] }, /definition changed/);
    refuse(
      { ...one, ddl: [{ gtid: '0-1-9', file: 'f', offset: 4, statement: 'ALTER TABLE `orders` ADD x INT' }] },
      TABLE,
      /changed by DDL/,
    );
    const stmt = source([[change('delete', [int(1), str('a')])]]);
    stmt.transactions[0]!.statements.push('DELETE FROM shop.orders');
    refuse(stmt, TABLE, /holds a statement, not row images/);
    refuse(source([[]]), TABLE, /changed no rows/);
  });

  it('mentionsTable matches the table as a whole word, quoted or qualified', () => {
    assert.ok(mentionsTable('ALTER TABLE shop.orders ADD c INT', 'shop', 'orders'));
    assert.ok(mentionsTable('drop table `orders`', 'shop', 'orders'));
    assert.ok(!mentionsTable('CREATE TABLE ref.orders_copy (id INT)', 'shop', 'orders'));
    assert.ok(!mentionsTable('ALTER TABLE shop.customers ADD c INT', 'shop', 'orders'));
  });
});

describe('exact SQL literals', () => {
  const c = (dataType: string, extra: Partial<TargetColumn> = {}): TargetColumn => col('c', dataType, extra);
  it('integers by the target column signedness, exact decimals, floats that read back as the same value', () => {
    const raw: ColumnValue = { t: 'int', raw: 0xffn, bytes: 1 };
    assert.equal(valueLiteral(raw, c('tinyint')), '-1');
    assert.equal(valueLiteral(raw, c('tinyint', { unsigned: true })), '255');
    const big: ColumnValue = { t: 'int', raw: 0xffffffffffffffffn, bytes: 8 };
    assert.equal(valueLiteral(big, c('bigint', { unsigned: true })), '18446744073709551615');
    assert.equal(
      valueLiteral({ t: 'decimal', text: '-12345678901234567890.0123456789' }, c('decimal')),
      '-12345678901234567890.0123456789',
    );
    const f = Math.fround(1.1);
    assert.equal(valueLiteral({ t: 'float', value: f, bytes: 4 }, c('float')), '1.100000023841858e+0');
    assert.equal(Math.fround(Number(valueLiteral({ t: 'float', value: f, bytes: 4 }, c('float')))), f);
    assert.equal(valueLiteral(null, c('int')), 'NULL');
  });

  it('temporal values with their fraction, BIT, ENUM and SET by number, YEAR', () => {
    assert.equal(
      valueLiteral({ t: 'datetime', text: '2024-02-29 12:00:00.123456' }, c('datetime')),
      "'2024-02-29 12:00:00.123456'",
    );
    assert.equal(valueLiteral({ t: 'time', text: '-838:59:59' }, c('time')), "'-838:59:59'");
    assert.equal(valueLiteral({ t: 'bit', value: 5n, bits: 3 }, c('bit')), "b'101'");
    assert.equal(valueLiteral({ t: 'enum', index: 2 }, c('enum')), '2');
    assert.equal(valueLiteral({ t: 'set', bits: 5n }, c('set')), '5');
    assert.equal(valueLiteral({ t: 'year', value: 0 }, c('year')), '0');
    assert.equal(valueText({ t: 'year', value: 0 }, c('year')), '0000');
  });

  it('strings: hex for binary, readable quoted UTF-8, hex with an introducer for backslashes and control characters', () => {
    assert.equal(
      valueLiteral({ t: 'string', bytes: Buffer.from([0, 1, 0xff]) }, c('varbinary')),
      "X'0001FF'",
    );
    assert.equal(valueLiteral(str("it's 日本"), c('varchar')), "'it''s 日本'");
    assert.equal(valueLiteral(str('a\\b'), c('varchar')), "_utf8mb4 X'615C62'");
    assert.equal(valueLiteral(str('a\nb'), c('text', { charset: 'utf8mb4' })), "_utf8mb4 X'610A62'");
    assert.equal(
      valueLiteral({ t: 'string', bytes: Buffer.from([0x63, 0xe9]) }, c('varchar', { charset: 'latin1' })),
      "_latin1 X'63E9'",
    );
    assert.equal(valueLiteral(str('plain'), c('varchar', { charset: 'latin1' })), "'plain'");
    assert.equal(
      valueLiteral({ t: 'json', text: '{"a": "\\n"}' }, c('json')),
      "CAST(_utf8mb4 X'7B2261223A20225C6E227D' AS JSON)",
    );
    // BINARY(n) is compared zero-padded, as the server returns it.
    assert.equal(
      valueText({ t: 'string', bytes: Buffer.from([0xff]) }, c('binary', { octetLength: 3 })),
      'FF0000',
    );
  });
});

describe('undoStatements', () => {
  it('batches inverse INSERTs (1000 rows) and DELETEs (key IN list), in order, and frames the script', () => {
    const deletes = Array.from({ length: 2500 }, (_, i) => change('delete', [int(i + 1), str(`n${i}`)]));
    const inserts = [1, 2].map((i) => change('insert', undefined, [int(10_000 + i), str('x')]));
    const plan = planUndo(source([deletes, inserts]), targets());
    const stmts = [...undoStatements(plan)];
    assert.deepEqual(
      stmts.map((s) => [s.sql.split(' ')[0], s.rows]),
      [
        ['DELETE', 2],
        ['INSERT', 1000],
        ['INSERT', 1000],
        ['INSERT', 500],
      ],
    );
    assert.equal(stmts[0]!.sql, 'DELETE FROM `shop`.`orders` WHERE `id` IN (10002, 10001)');
    assert.match(
      stmts[1]!.sql,
      /^INSERT INTO `shop`\.`orders` \(`id`, `note`\) VALUES \(2500, 'n2499'\), \(2499, 'n2498'\)/,
    );
    const script = [...undoScript(plan)].join('');
    assert.match(script, /^START TRANSACTION;$/m);
    assert.match(script, /COMMIT;\n$/);
    assert.match(script, /SET SESSION time_zone = '\+00:00';/);
  });

  it('composite keys: column = value AND ... for one row, (a, b) IN ((..), (..)) for many', () => {
    const t: TargetTable = { ...TABLE, key: { name: 'PRIMARY', columns: [0, 1] } };
    const one = planUndo(source([[change('insert', undefined, [int(1), str('a')])]]), targets(t));
    assert.equal(
      [...undoStatements(one)][0]!.sql,
      "DELETE FROM `shop`.`orders` WHERE `id` = 1 AND `note` = 'a'",
    );
    const two = planUndo(
      source([
        [change('insert', undefined, [int(1), str('a')]), change('insert', undefined, [int(2), str('b')])],
      ]),
      targets(t),
    );
    assert.equal(
      [...undoStatements(two)][0]!.sql,
      "DELETE FROM `shop`.`orders` WHERE (`id`, `note`) IN ((2, 'b'), (1, 'a'))",
    );
  });
});
