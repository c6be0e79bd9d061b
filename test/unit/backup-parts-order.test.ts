/**
 * Which parts of a split backup a load reads, and in which order: partsInLoadOrder (every part, by
 * stage, list order kept), nextRowsPart (a free session takes the first part of a table no other
 * session is loading, else the first part) and tablePartsOf (a table restore: only the listed tables' pre and rows
 * parts; not their triggers' post parts, not database-wide parts, not a same-named table of
 * another database).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ManifestPart } from '../../src/catalog/index.js';
import { nextRowsPart, partsInLoadOrder, rowsPartTable } from '../../src/restore/load/load-backup-parts.js';
import { tablePartsOf } from '../../src/restore/tables/table-restore.js';

let n = 0;
function part(
  stage: ManifestPart['stage'],
  database: string | null,
  table: string | null,
  chunk?: number,
): ManifestPart {
  n++;
  return {
    key: `backups/x/parts/${String(n).padStart(5, '0')}-${stage}.sql.zst`,
    compression: 'zstd',
    size: 10,
    sha256: 'a'.repeat(64),
    uncompressedSize: 20,
    uncompressedSha256: 'b'.repeat(64),
    stage,
    database,
    table,
    ...(chunk !== undefined ? { chunk } : {}),
  };
}

const parts = [
  part('pre', 'app', null),
  part('pre', 'app', 'orders'),
  part('rows', 'app', 'orders', 0),
  part('pre', 'app', 'items'),
  part('rows', 'app', 'items', 0),
  part('rows', 'app', 'orders', 1),
  part('pre', 'shop', 'orders'),
  part('rows', 'shop', 'orders', 0),
  part('post', 'app', 'orders'),
  part('post', 'app', null),
  part('post', null, null),
];

describe('partsInLoadOrder', () => {
  it('keeps list order within each stage', () => {
    const { pre, rows, post } = partsInLoadOrder(parts);
    assert.deepEqual(
      pre.map((p) => p.key),
      [parts[0], parts[1], parts[3], parts[6]].map((p) => p!.key),
    );
    assert.deepEqual(
      rows.map((p) => p.key),
      [parts[2], parts[4], parts[5], parts[7]].map((p) => p!.key),
    );
    assert.deepEqual(
      post.map((p) => p.key),
      [parts[8], parts[9], parts[10]].map((p) => p!.key),
    );
  });
});

describe('nextRowsPart', () => {
  const rows = partsInLoadOrder(parts).rows; // app.orders 0, app.items 0, app.orders 1, shop.orders 0
  const busy = (...ps: ManifestPart[]): Map<string, number> =>
    new Map(ps.map((p) => [rowsPartTable(p), 1] as [string, number]));

  it('takes the first part when no table is busy', () => {
    assert.equal(nextRowsPart(rows, new Map()), 0);
  });

  it("skips the parts of a table another session is loading, the next table's first", () => {
    assert.equal(nextRowsPart(rows, busy(rows[0]!)), 1);
    assert.equal(nextRowsPart(rows, busy(rows[0]!, rows[1]!)), 3);
  });

  it('tells databases apart: shop.orders is not app.orders', () => {
    assert.equal(nextRowsPart([rows[2]!, rows[3]!], busy(rows[0]!)), 1);
  });

  it('takes the first part when every pending table is busy (one big table: its chunks share sessions)', () => {
    assert.equal(nextRowsPart([rows[0]!, rows[2]!], busy(rows[0]!)), 0);
    assert.equal(nextRowsPart([], busy(rows[0]!)), 0);
  });

  it('a table whose sessions all finished (count 0) is free again', () => {
    assert.equal(nextRowsPart(rows, new Map([[rowsPartTable(rows[0]!), 0]])), 0);
  });
});

describe('tablePartsOf', () => {
  it("takes only the listed table's pre and rows parts, every chunk", () => {
    const { pre, rows } = tablePartsOf(parts, [{ database: 'app', table: 'orders' }]);
    assert.deepEqual(pre, [parts[1]]);
    assert.deepEqual(rows, [parts[2], parts[5]]);
  });

  it('tells databases apart and takes several tables', () => {
    const { pre, rows } = tablePartsOf(parts, [
      { database: 'shop', table: 'orders' },
      { database: 'app', table: 'items' },
    ]);
    assert.deepEqual(pre, [parts[3], parts[6]]);
    assert.deepEqual(rows, [parts[4], parts[7]]);
  });

  it('takes nothing for a table the backup does not hold', () => {
    assert.deepEqual(tablePartsOf(parts, [{ database: 'app', table: 'nope' }]), { pre: [], rows: [] });
  });
});
