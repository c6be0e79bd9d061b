/**
 * rawQuery against a real MariaDB: one COM_QUERY holding several statements, bytes sent as they
 * are, every result read (OK packets, result sets skipped), the first error stops the batch and is
 * reported with how many statements completed; the connection stays usable afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { enableMultiStatements, rawQuery } from '../../src/mysql/index.js';

describe('rawQuery (multi-statement COM_QUERY with a raw payload)', () => {
  let server: MariadbServer;
  let conn: Connection;

  before(async () => {
    server = await startMariadb({ binlog: false });
    await server.query('CREATE DATABASE rq');
    await server.query(
      'CREATE TABLE rq.t (id INT PRIMARY KEY, b VARBINARY(64), s VARCHAR(32) CHARSET utf8mb4)',
    );
    conn = await server.connect();
    await enableMultiStatements(conn);
  });

  after(async () => {
    await conn?.end().catch(() => undefined);
    await server?.stop();
  });

  it('runs every statement of the batch in order and counts them', async () => {
    const r = await rawQuery(
      conn,
      Buffer.from(
        'INSERT INTO rq.t VALUES (1, NULL, NULL);\nINSERT INTO rq.t VALUES (2, NULL, NULL); UPDATE rq.t SET id = 3 WHERE id = 2',
      ),
    );
    assert.deepEqual(r, { statements: 3, error: undefined });
    const rows = await server.query<{ id: number }[]>('SELECT id FROM rq.t ORDER BY id');
    assert.deepEqual(
      rows.map((x) => x.id),
      [1, 3],
    );
  });

  it('keeps bytes that are not UTF-8 and utf8mb4 text as sent', async () => {
    const bin = Buffer.from([0x00, 0xff, 0xfe, 0x27 /* ' escaped below */, 0x80, 0x5c]);
    const sql = Buffer.concat([
      Buffer.from("SET NAMES binary; INSERT INTO rq.t VALUES (10, _binary'"),
      Buffer.from([0x00, 0xff, 0xfe, 0x27, 0x27, 0x80, 0x5c, 0x5c]),
      Buffer.from("', NULL); SET NAMES utf8mb4; INSERT INTO rq.t VALUES (11, NULL, 'h\u00e9llo \u{1f600}')"),
    ]);
    const r = await rawQuery(conn, sql);
    assert.deepEqual(r, { statements: 4, error: undefined });
    const [row] = await server.query<{ b: Buffer }[]>('SELECT b FROM rq.t WHERE id = 10');
    assert.deepEqual(row!.b, bin);
    const [txt] = await server.query<{ s: string }[]>('SELECT s FROM rq.t WHERE id = 11');
    assert.equal(txt!.s, 'h\u00e9llo \u{1f600}');
  });

  it('skips result sets between OK packets', async () => {
    const r = await rawQuery(
      conn,
      Buffer.from('SELECT 1, 2; SELECT id FROM rq.t; INSERT INTO rq.t VALUES (20, NULL, NULL); SELECT 3'),
    );
    assert.deepEqual(r, { statements: 4, error: undefined });
  });

  it('stops at the first error: earlier statements applied, later ones never run', async () => {
    const r = await rawQuery(
      conn,
      Buffer.from(
        'INSERT INTO rq.t VALUES (30, NULL, NULL); INSERT INTO rq.t VALUES (1, NULL, NULL); INSERT INTO rq.t VALUES (31, NULL, NULL)',
      ),
    );
    assert.equal(r.statements, 1);
    assert.equal(r.error?.errno, 1062);
    assert.equal(r.error?.sqlState, '23000');
    assert.match(r.error?.sqlMessage ?? '', /Duplicate entry '1'/);
    const rows = await server.query<{ id: number }[]>('SELECT id FROM rq.t WHERE id >= 30 ORDER BY id');
    assert.deepEqual(
      rows.map((x) => x.id),
      [30],
    );
    // the connection is still in a clean state for the next query
    const again = await rawQuery(conn, Buffer.from('SELECT 1'));
    assert.deepEqual(again, { statements: 1, error: undefined });
  });

  it('reports a syntax error in the first statement with zero completed', async () => {
    const r = await rawQuery(
      conn,
      Buffer.from('INSRT INTO rq.t VALUES (40); INSERT INTO rq.t VALUES (41, NULL, NULL)'),
    );
    assert.equal(r.statements, 0);
    assert.equal(r.error?.errno, 1064);
    const rows = await server.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM rq.t WHERE id >= 40');
    assert.equal(Number(rows[0]!.n), 0);
  });

  it('sends a payload larger than one 16 MiB protocol packet', async () => {
    await server.query('SET GLOBAL max_allowed_packet = 64 * 1024 * 1024');
    const big = await server.connect();
    try {
      await enableMultiStatements(big);
      await server.query('CREATE TABLE rq.big (id INT PRIMARY KEY, v LONGBLOB)');
      // 17 MiB of hex literal plus a second statement after it
      const blob = Buffer.alloc(9 * 1024 * 1024, 0xab);
      const sql = Buffer.concat([
        Buffer.from('INSERT INTO rq.big VALUES (1, 0x'),
        Buffer.from(blob.toString('hex')),
        Buffer.from('); INSERT INTO rq.big VALUES (2, 0x00)'),
      ]);
      assert.ok(sql.length > 16 * 1024 * 1024);
      const r = await rawQuery(big, sql);
      assert.deepEqual(r, { statements: 2, error: undefined });
      const [row] = await server.query<{ n: number; l: number }[]>(
        'SELECT COUNT(*) AS n, MAX(LENGTH(v)) AS l FROM rq.big',
      );
      assert.equal(Number(row!.n), 2);
      assert.equal(Number(row!.l), blob.length);
    } finally {
      await big.end();
    }
  });

  it('without multi-statements on, the server refuses a batch with a syntax error', async () => {
    const plain = await server.connect();
    try {
      const r = await rawQuery(plain, Buffer.from('SELECT 1; SELECT 2'));
      assert.equal(r.statements, 0);
      assert.equal(r.error?.errno, 1064);
    } finally {
      await plain.end();
    }
  });
});
