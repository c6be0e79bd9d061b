/**
 * `undo` and `timeline search --table` row counts end to end against a real MariaDB, through the CLI:
 * the archive is read back, the live server is both source and undo target.
 *
 * - A transaction mixing DELETE and UPDATE on two tables is undone exactly (CHECKSUM TABLE equals a
 *   reference copy that received the same later writes), while later unrelated writes stay.
 * - A row changed after the bad transaction is named (key, column, expected, found) and nothing changes.
 * - Refusals: MINIMAL row image, DDL after the transaction, a table without a key.
 * - A table with every column type: one bad transaction undone by `--dry-run` SQL applied by hand with
 *   `mariadb`, the one before it by `undo`; both give the reference checksums. Its binlog is also
 *   decoded value by value against mariadb-binlog.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import {
  decodeFileRows,
  decodedValueLines,
  firstDifference,
  oracleValueLines,
} from '../support/rows-oracle.js';

const ALLTYPES_COLUMNS = `(
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, bi BIGINT,
  bu BIGINT UNSIGNED, de DECIMAL(30,10), dn DECIMAL(5,2), f FLOAT, d DOUBLE,
  dt DATE, tm TIME, tm6 TIME(6), tm3 TIME(3), dtm DATETIME, dtm6 DATETIME(6), dtm2 DATETIME(2),
  ts TIMESTAMP NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL, y YEAR,
  b1 BIT(1), b13 BIT(13), b64 BIT(64), e ENUM('a','b','c'), st SET('x','y','z'),
  c CHAR(10), vc VARCHAR(300), bn BINARY(8), vb VARBINARY(50), tx TEXT, bl BLOB, lt LONGTEXT,
  l1 VARCHAR(20) CHARACTER SET latin1, js JSON, g GEOMETRY,
  u VARCHAR(20) NOT NULL, UNIQUE KEY (u)
) DEFAULT CHARSET = utf8mb4`;

const ALLTYPES_ROWS = [
  `(1, -128, 255, -32768, -8388608, 16777215, -2147483648, -9223372036854775808, 18446744073709551615,
    -12345678901234567890.0123456789, -0.99, 1.1, 3.141592653589793, '1000-01-01', '-838:59:59',
    '-01:02:03.000004', '12:34:56.789', '9999-12-31 23:59:59', '2024-02-29 12:00:00.123456',
    '2000-01-01 00:00:00.50', '2038-01-19 03:14:07', '1970-01-01 00:00:01.000001', 1901, 1, b'1010101010101',
    0xFFFFFFFFFFFFFFFF, 'c', 'x,z', 'abc', 'quote '' and \\\\ backslash, 日本語 😀', X'00010200',
    X'00FF00', 'text\\nnewline\\ttab', X'DEADBEEF00', REPEAT('long text ', 7000), 'café',
    '{"a": [1, 2.5, "x"], "b": null}', ST_GeomFromText('POINT(1 2)'), 'u1')`,
  `(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, 'u2')`,
  `(3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.000001, '0000-00-00', '00:00:00', '00:00:00.5', '-00:00:00.001',
    '0000-00-00 00:00:00', '2001-02-03 04:05:06.000001', '2001-02-03 04:05:06.99', '0000-00-00 00:00:00',
    '2020-06-30 23:59:59.999999', 0, 0, 0, 0, 'a', '', '', '', X'', X'', '', X'', '', '', '[]',
    ST_GeomFromText('LINESTRING(0 0, 1 1, 2 3)'), 'u3')`,
];

/** CHECKSUM TABLE of each `db.table`. */
async function checksums(server: MariadbServer, tables: string[]): Promise<string[]> {
  const rows = await server.query<{ Checksum: string | number }[]>(`CHECKSUM TABLE ${tables.join(', ')}`);
  return rows.map((r) => String(r.Checksum));
}

async function lastGtid(server: MariadbServer): Promise<string> {
  const [r] = await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
  return r!.p;
}

/** Waits until the wall clock is in a later second (binlog commit times have 1-second resolution). */
async function nextSecond(): Promise<number> {
  await sleep(1100 - (Date.now() % 1000));
  return Date.now();
}

const utcText = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** Runs an SQL script with the `mariadb` client as root over the socket; resolves with its exit code. */
function mariadbClient(server: MariadbServer, sql: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('mariadb', ['--no-defaults', `--socket=${server.socket}`, '-uroot'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin.end(sql);
  });
}

describe('undo against MariaDB', () => {
  let server: MariadbServer;
  let work: string;
  let repo: string;
  let bad1: string;
  let bad1From: number;
  let bad1To: number;
  let bad2: string;
  let bad3: string;
  let minimalGtid: string;
  let nokeyGtid: string;
  let alteredGtid: string;
  let bigGtid: string;
  let zippedGtid: string;
  let bigSum: string;
  let manyGtid: string;
  let manyFrom: number;
  let manySum: string;
  const env = (): Record<string, string> => ({
    PATH: `/usr/sbin:${process.env.PATH ?? ''}`,
    MYSQL_PITR_TARGET_PASSWORD: server.admin.password,
  });
  const undo = (args: string[]): Promise<CliResult> =>
    runCli(['undo', '--repo', repo, '--target', server.url('admin'), ...args], {
      env: env(),
      timeoutMs: 120_000,
    });
  const SHOP = ['shop.orders', 'shop.customers'];
  const REF = ['ref.orders_copy', 'ref.customers_copy'];

  before(async () => {
    server = await startMariadb({ maxBinlogSize: '1M' });
    work = await mkdtemp(join(tmpdir(), 'pitr-undo-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    const conn = await server.connect();
    const q = async (sql: string): Promise<void> => {
      await conn.query(sql);
    };
    try {
      await q("SET time_zone = '+00:00'");
      await q('CREATE DATABASE shop');
      await q('CREATE DATABASE ref');
      await q('CREATE DATABASE types');
      for (const [db, suffix] of [
        ['shop', ''],
        ['ref', '_copy'],
      ] as const) {
        await q(
          `CREATE TABLE ${db}.orders${suffix} (id INT PRIMARY KEY AUTO_INCREMENT, customer INT, amount DECIMAL(10,2), note VARCHAR(64), at DATETIME(3))`,
        );
        await q(`CREATE TABLE ${db}.customers${suffix} (id INT PRIMARY KEY, name VARCHAR(32), credit INT)`);
      }
      for (let i = 0; i < 20; i++) {
        await q(`INSERT INTO shop.customers VALUES (${i}, 'c${i}', 100)`);
        await q(
          `INSERT INTO shop.orders VALUES (${i + 1}, ${i}, ${i * 3}.25, 'initial ${i}', '2026-01-02 03:04:05.${String(i).padStart(3, '0')}')`,
        );
      }
      await q('INSERT INTO ref.orders_copy SELECT * FROM shop.orders');
      await q('INSERT INTO ref.customers_copy SELECT * FROM shop.customers');

      // bad1: DELETE and UPDATE on two tables in one transaction.
      bad1From = await nextSecond();
      await q('BEGIN');
      await q('DELETE FROM shop.orders WHERE id <= 9');
      await q('UPDATE shop.customers SET credit = 0 WHERE id < 10');
      await q('COMMIT');
      bad1 = await lastGtid(server);
      bad1To = Date.now();
      await nextSecond();
      // Later unrelated writes, to the live tables and the reference copies alike.
      for (const [o, c] of [
        ['shop.orders', 'shop.customers'],
        ['ref.orders_copy', 'ref.customers_copy'],
      ]) {
        await q(
          `INSERT INTO ${o} VALUES (100, 1, 9.99, 'later', '2026-02-03 00:00:00.5'), (101, 2, 0.01, NULL, NULL)`,
        );
        await q(`UPDATE ${c} SET credit = 555 WHERE id = 15`);
        await q(`DELETE FROM ${o} WHERE id = 20`);
      }

      // Every column type: bad2 (UPDATE two rows, DELETE one), then bad3 (DELETE all).
      await q(`CREATE TABLE types.alltypes ${ALLTYPES_COLUMNS}`);
      await q(`CREATE TABLE ref.alltypes_before ${ALLTYPES_COLUMNS}`);
      await q(`CREATE TABLE ref.alltypes_mid ${ALLTYPES_COLUMNS}`);
      await q(`INSERT INTO types.alltypes VALUES ${ALLTYPES_ROWS.join(', ')}`);
      await q('INSERT INTO ref.alltypes_before SELECT * FROM types.alltypes');
      await q('BEGIN');
      await q(
        "UPDATE types.alltypes SET ti = 5, bu = 1, de = 1.5, f = 2.5, d = -1e300, dtm6 = '2025-05-05 05:05:05.5', ts6 = NULL, " +
          "b64 = 0, e = 'b', st = 'y', c = 'new', vc = 'changed', bn = X'FF', lt = 'short', js = '{}', " +
          "g = ST_GeomFromText('POINT(3 4)'), y = 2155 WHERE id IN (1, 3)",
      );
      await q('DELETE FROM types.alltypes WHERE id = 2');
      await q('COMMIT');
      bad2 = await lastGtid(server);
      await q('INSERT INTO ref.alltypes_mid SELECT * FROM types.alltypes');
      await q('DELETE FROM types.alltypes');
      bad3 = await lastGtid(server);

      // Refusals: a MINIMAL row image, a table without a key, DDL after the transaction.
      await q('CREATE TABLE shop.minimal (id INT PRIMARY KEY, v INT, w INT)');
      await q('INSERT INTO shop.minimal VALUES (1, 1, 1), (2, 2, 2)');
      await q("SET SESSION binlog_row_image = 'MINIMAL'");
      await q('UPDATE shop.minimal SET v = v + 10');
      minimalGtid = await lastGtid(server);
      await q("SET SESSION binlog_row_image = 'FULL'");
      await q('CREATE TABLE shop.nokey (a INT, b INT)');
      await q('INSERT INTO shop.nokey VALUES (1, 1), (1, 1), (2, 2)');
      await q('DELETE FROM shop.nokey WHERE a = 2');
      nokeyGtid = await lastGtid(server);
      await q('CREATE TABLE shop.altered (id INT PRIMARY KEY, v INT)');
      await q('INSERT INTO shop.altered VALUES (1, 1), (2, 2)');
      await q('DELETE FROM shop.altered WHERE id = 1');
      alteredGtid = await lastGtid(server);
      await q('ALTER TABLE shop.altered ADD COLUMN w INT');
      // MariaDB's compressed rows events (log_bin_compress; events of 256 bytes and more).
      await q('CREATE TABLE shop.big (id INT PRIMARY KEY, body LONGTEXT) DEFAULT CHARSET = utf8mb4');
      await q("INSERT INTO shop.big SELECT seq, REPEAT(CONCAT('row ', seq, ' '), 200) FROM shop.seq_1_to_50");
      bigSum = (await checksums(server, ['shop.big']))[0]!;
      await q('SET GLOBAL log_bin_compress = ON');
      await q('DELETE FROM shop.big WHERE id > 10');
      bigGtid = await lastGtid(server);
      await q('SET GLOBAL log_bin_compress = OFF');
      // A MariaDB COMPRESSED column: its row images cannot be decoded.
      await q('CREATE TABLE shop.zipped (id INT PRIMARY KEY, body VARCHAR(1000) COMPRESSED)');
      await q("INSERT INTO shop.zipped VALUES (1, REPEAT('z', 500)), (2, 'two')");
      await q('DELETE FROM shop.zipped WHERE id = 2');
      zippedGtid = await lastGtid(server);
      // 600 rows updated in one transaction: more keys than one conflict-check SELECT takes (500).
      await q('CREATE TABLE shop.many (id INT PRIMARY KEY, v INT, note VARCHAR(40))');
      await q("INSERT INTO shop.many SELECT seq, seq, CONCAT('n', seq) FROM shop.seq_1_to_600");
      manySum = (await checksums(server, ['shop.many']))[0]!;
      // Unrelated history before it, in many segments, that undo and a time-bounded search skip.
      await q('CREATE TABLE shop.filler (id INT PRIMARY KEY, pad VARCHAR(200))');
      for (let i = 0; i < 20; i++) {
        await q(`INSERT INTO shop.filler SELECT seq + ${i * 100}, REPEAT('f', 200) FROM shop.seq_1_to_100`);
      }
      manyFrom = await nextSecond();
      await q('UPDATE shop.many SET v = v + 1000');
      manyGtid = await lastGtid(server);
    } finally {
      await conn.end();
    }
    const archived = await runCli(
      [
        'archive',
        '--source',
        server.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--flush-interval',
        '200ms',
        // Many small segments, transactions split across them: undo and timeline search skip some.
        '--segment-size',
        '4KiB',
      ],
      { env: { ...env(), MYSQL_PITR_SOURCE_PASSWORD: server.repl.password } },
    );
    assert.equal(archived.code, 0, archived.stderr);
  });

  after(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('decodes every column type of the MariaDB binlog exactly as mariadb-binlog does', async () => {
    const files = (await readdir(server.binlogDir)).filter((f) => /^mysql-bin\.\d+$/.test(f)).sort();
    let compressed = 0;
    for (const f of files) {
      const path = join(server.binlogDir, f);
      // shop.zipped has a COMPRESSED column, which the decoder refuses (tested below).
      const rows = decodeFileRows(await readFile(path), f, undefined, ['shop.zipped']);
      compressed += rows.filter((r) => r.compressed).length;
      const oracle = await oracleValueLines(path, ['shop.zipped']);
      assert.equal(firstDifference(decodedValueLines(rows), oracle), undefined, f);
      assert.equal(decodedValueLines(rows).length, oracle.length);
    }
    assert.ok(compressed > 0, 'the binlog holds compressed rows events');
  });

  it('a COMPRESSED column: timeline search marks its counts unknown, undo refuses', async () => {
    const s = await runCli(['timeline', 'search', '--repo', repo, '--table', 'shop.zipped'], { env: env() });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`${zippedGtid}.*shop\\.zipped \\+0 ~0 -0 \\(rows not decoded: \\?\\)`));
    const r = await undo(['--gtid', zippedGtid, '--yes']);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /shop\.zipped .*cannot be decoded.*COMPRESSED column/s);
    const [n] = await server.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM shop.zipped');
    assert.equal(Number(n!.n), 1);
  });

  it('undoes a DELETE logged as compressed rows events', async () => {
    const r = await undo(['--gtid', bigGtid, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /undone: 40 row\(s\) changed/);
    assert.deepEqual(await checksums(server, ['shop.big']), [bigSum]);
  });

  it('timeline search --table shows rows inserted, updated and deleted per table', async () => {
    const r = await runCli(['timeline', 'search', '--repo', repo, '--table', 'shop.orders', '--json'], {
      env: env(),
    });
    assert.equal(r.code, 0, r.stderr);
    const matches = r.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            gtid: string;
            rows: { table: string; inserted: number; updated: number; deleted: number }[];
          },
      );
    const m = matches.find((x) => x.gtid === bad1)!;
    assert.deepEqual(m.rows, [
      { table: 'shop.orders', inserted: 0, updated: 0, deleted: 9 },
      { table: 'shop.customers', inserted: 0, updated: 10, deleted: 0 },
    ]);
    const text = await runCli(['timeline', 'search', '--repo', repo, '--table', 'shop.customers'], {
      env: env(),
    });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${bad1}.*shop\\.orders \\+0 ~0 -9, shop\\.customers \\+0 ~10 -0`));
  });

  it('refuses a MINIMAL row image, a table without a key and DDL after the transaction; nothing changes', async () => {
    const before = await checksums(server, ['shop.minimal', 'shop.nokey', 'shop.altered']);
    const minimal = await undo(['--gtid', minimalGtid, '--yes']);
    assert.equal(minimal.code, 6, minimal.stderr);
    assert.match(minimal.stderr, /binlog_row_image was MINIMAL or NOBLOB, not FULL/);
    const nokey = await undo(['--gtid', nokeyGtid, '--yes']);
    assert.equal(nokey.code, 6, nokey.stderr);
    assert.match(nokey.stderr, /shop\.nokey has no primary key and no unique key/);
    const altered = await undo(['--gtid', alteredGtid, '--yes']);
    assert.equal(altered.code, 6, altered.stderr);
    assert.match(
      altered.stderr,
      /shop\.altered was changed by DDL .*ALTER TABLE shop\.altered ADD COLUMN w INT/,
    );
    assert.match(altered.stderr, /restore/);
    assert.deepEqual(await checksums(server, ['shop.minimal', 'shop.nokey', 'shop.altered']), before);
  });

  it('refuses when a row changed after the bad transaction, naming it, and changes nothing', async () => {
    await server.query('UPDATE shop.customers SET credit = 77 WHERE id = 3');
    const before = await checksums(server, SHOP);
    const r = await undo(['--gtid', bad1, '--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /shop\.customers \(id=3\) column credit: expected 0, found 77/);
    assert.match(r.stderr, /Nothing was changed/);
    assert.deepEqual(await checksums(server, SHOP), before);
    await server.query('UPDATE shop.customers SET credit = 0 WHERE id = 3');
  });

  it('--table with --from/--to and --dry-run prints the inverse SQL and changes nothing', async () => {
    const before = await checksums(server, SHOP);
    const r = await undo([
      '--table',
      'shop.orders',
      '--from',
      utcText(bad1From),
      '--to',
      utcText(bad1To),
      '--dry-run',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /shop\.orders: 9 deleted row\(s\) re-inserted/);
    assert.match(
      r.stdout,
      /^INSERT INTO `shop`\.`orders` .*\(1, 0, 0\.25, 'initial 0', '2026-01-02 03:04:05\.000'\)/m,
    );
    assert.doesNotMatch(r.stdout, /customers/);
    assert.deepEqual(await checksums(server, SHOP), before);
  });

  it('undoes a DELETE + UPDATE on two tables exactly, keeping later writes', async () => {
    const r = await undo(['--gtid', bad1, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /undone: 19 row\(s\) changed/);
    assert.deepEqual(await checksums(server, SHOP), await checksums(server, REF));
    const [later] = await server.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM shop.orders WHERE id IN (100, 101)',
    );
    assert.equal(Number(later!.n), 2);
    // Written to the binary log as an ordinary transaction: the position moved on.
    assert.notEqual(await lastGtid(server), bad1);
  });

  it('every column type: --dry-run SQL applied with mariadb, then undo, give the reference checksums', async () => {
    const dry = await undo(['--gtid', bad3, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^START TRANSACTION;$/m);
    const [empty] = await server.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM types.alltypes');
    assert.equal(Number(empty!.n), 0, '--dry-run changed nothing');
    const applied = await mariadbClient(server, dry.stdout);
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(
      await checksums(server, ['types.alltypes']),
      await checksums(server, ['ref.alltypes_mid']),
    );

    const r = await undo(['--gtid', bad2, '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      await checksums(server, ['types.alltypes']),
      await checksums(server, ['ref.alltypes_before']),
    );
    const [n] = await server.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM types.alltypes');
    assert.equal(Number(n!.n), 3);
  });

  it('reads only the segments from the GTID on; a GTID not in the archive is named', async () => {
    const sql = join(work, 'many.sql');
    const r = await undo(['--gtid', manyGtid, '--sql-out', sql, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      summary: { table: string; updated: number }[];
      reading: { segmentsRead: number; segmentsInTimeline: number };
    };
    assert.deepEqual(
      report.summary.map((x) => [x.table, x.updated]),
      [['shop.many', 600]],
    );
    assert.ok(report.reading.segmentsInTimeline > 20, JSON.stringify(report.reading));
    // The file's first segment (its FORMAT_DESCRIPTION) and the segments from the UPDATE's start on.
    assert.ok(
      report.reading.segmentsRead < report.reading.segmentsInTimeline / 2,
      JSON.stringify(report.reading),
    );
    assert.match(await readFile(sql, 'utf8'), /^UPDATE `shop`\.`many` SET .* WHERE `id` = 600;$/m);

    // One GTID found from the headers, one in no segment: the whole timeline is read, then refused.
    const before = await checksums(server, ['shop.many']);
    const missing = await undo(['--gtid', `${manyGtid},0-1-999999`, '--yes']);
    assert.equal(missing.code, 6, missing.stderr);
    assert.match(missing.stderr, /GTID 0-1-999999 is not in the archive/);
    assert.deepEqual(await checksums(server, ['shop.many']), before);
  });

  it('timeline search --from reads only the segments of its time range', async () => {
    const all = await runCli(['timeline', 'search', '--repo', repo, '--table', 'shop.many'], { env: env() });
    assert.equal(all.code, 0, all.stderr);
    const [, readAll, total] = /\((\d+) of (\d+) segments read\)/.exec(all.stderr)!;
    assert.equal(readAll, total);
    const r = await runCli(
      ['timeline', 'search', '--repo', repo, '--table', 'shop.many', '--from', utcText(manyFrom)],
      { env: env() },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${manyGtid}.*shop\\.many \\+0 ~600 -0`));
    assert.doesNotMatch(r.stdout, /shop\.many \+600/, 'the INSERT before --from is not shown');
    const [, read, total2] = /\((\d+) of (\d+) segments read\)/.exec(r.stderr)!;
    assert.equal(total2, total);
    assert.ok(Number(read) < Number(total) / 2, r.stderr);
  });

  it('conflicts found inside batched row checks are reported per row; then the undo succeeds', async () => {
    // Rows 120 (first check batch) and 550 (second) changed after the bad UPDATE.
    await server.query('UPDATE shop.many SET note = CONCAT(note, ?) WHERE id = 550', ['!']);
    await server.query('DELETE FROM shop.many WHERE id = 120');
    const before = await checksums(server, ['shop.many']);
    const r = await undo(['--gtid', manyGtid, '--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /refusing to undo: 2 row\(s\) changed/);
    assert.match(r.stderr, /shop\.many \(id=550\) column note: expected 'n550', found 'n550!'/);
    assert.match(r.stderr, /shop\.many \(id=120\): expected \(the row\), found \(absent\)/);
    assert.deepEqual(await checksums(server, ['shop.many']), before, 'nothing changed');

    await server.query("UPDATE shop.many SET note = 'n550' WHERE id = 550");
    await server.query("INSERT INTO shop.many VALUES (120, 1120, 'n120')");
    const ok = await undo(['--gtid', manyGtid, '--yes']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /undone: 600 row\(s\) changed .*\(read [\d.]+ s, plan [\d.]+ s, check [\d.]+ s, apply [\d.]+ s\)/,
    );
    assert.deepEqual(await checksums(server, ['shop.many']), [manySum]);
  });
});
