/**
 * `restore pitr --tables` on a live primary (issue 19): the primary is archived and backed up,
 * takes writes on several tables and schemas, then a bad DELETE. One table is restored with
 * `--before-gtid` into a side schema on that same primary: CHECKSUM TABLE equals the table just
 * before the DELETE (and, with --to, at a chosen time), every other table is unchanged, the primary's gtid_binlog_pos and
 * gtid_slave_pos are unchanged (DDL on the table after the backup is applied under the side schema), and running it again is refused without --force (nothing changes).
 * Two tables joined by a foreign key restore together with the key; the child alone is restored
 * without the key, with a warning naming it and the parent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';

type Checksums = Record<string, string>;

async function checksums(server: MariadbServer, schemas: string[]): Promise<Checksums> {
  const tables = await server.query<{ n: string }[]>(
    "SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') AS n FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' " +
      `AND TABLE_SCHEMA IN (${schemas.map((s) => `'${s}'`).join(',')}) ORDER BY 1`,
  );
  if (tables.length === 0) return {};
  const rows = await server.query<{ Table: string; Checksum: string | number }[]>(
    `CHECKSUM TABLE ${tables.map((t) => t.n).join(', ')}`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

async function gtidState(server: MariadbServer): Promise<{ b: string; s: string }> {
  const [r] = await server.query<{ b: string; s: string }[]>(
    'SELECT @@gtid_binlog_pos AS b, @@gtid_slave_pos AS s',
  );
  return r!;
}

describe('restore pitr --tables on a live primary', () => {
  let primary: MariadbServer;
  let work: string;
  let repo: string;
  let badGtid: string;
  let beforeDelete: Checksums;
  let chosenTime: string;
  let atChosenTime: Checksums;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 120_000 });
  const restore = (args: string[], to = ['--before-gtid', badGtid]): Promise<CliResult> =>
    cli(['restore', 'pitr', '--repo', repo, '--target', primary.url('admin'), ...to, '--yes', ...args], {
      MYSQL_PITR_TARGET_PASSWORD: primary.admin.password,
    });

  before(async () => {
    primary = await startMariadb();
    work = await mkdtemp(join(tmpdir(), 'pitr-restore-tables-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    await primary.query('CREATE DATABASE app');
    await primary.query('CREATE DATABASE shop');
    await primary.query(
      'CREATE TABLE app.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer VARCHAR(40), amount DECIMAL(10,2), note TEXT)',
    );
    await primary.query('CREATE TABLE app.parent (id INT PRIMARY KEY, name VARCHAR(20))');
    await primary.query(
      'CREATE TABLE app.child (id INT PRIMARY KEY, parent_id INT, v INT, ' +
        'CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES app.parent (id)) ENGINE=InnoDB',
    );
    await primary.query('CREATE TABLE shop.items (id INT PRIMARY KEY, qty INT)');
    await primary.query(
      "INSERT INTO app.orders (customer, amount, note) SELECT CONCAT('c', seq), seq * 1.5, REPEAT('n', seq % 50) FROM app.seq_1_to_200",
    );
    await primary.query("INSERT INTO app.parent SELECT seq, CONCAT('p', seq) FROM app.seq_1_to_10");
    await primary.query('INSERT INTO app.child SELECT seq, 1 + seq % 10, seq FROM app.seq_1_to_50');
    await primary.query('INSERT INTO shop.items SELECT seq, seq FROM app.seq_1_to_20');

    const backup = await cli(
      ['backup', 'create', '--source', primary.url('admin'), '--repo', repo, '--json'],
      {
        MYSQL_PITR_SOURCE_PASSWORD: primary.admin.password,
      },
    );
    assert.equal(backup.code, 0, backup.stderr);

    // writes after the backup, on every table
    for (let i = 0; i < 20; i++) {
      await primary.query("INSERT INTO app.orders (customer, amount, note) VALUES (?, ?, 'after backup')", [
        `late${i}`,
        i,
      ]);
      await primary.query('UPDATE app.orders SET amount = amount + 1 WHERE id = ?', [i * 7 + 1]);
      await primary.query('UPDATE shop.items SET qty = qty + 1 WHERE id = ?', [(i % 20) + 1]);
      await primary.query('UPDATE app.child SET v = v + 100 WHERE id = ?', [i + 1]);
    }
    // DDL on the restored table after the backup: qualified, and unqualified under its default database
    await primary.query('ALTER TABLE app.orders ADD COLUMN flag INT DEFAULT 7');
    const inApp = await primary.connect(primary.admin, 'app');
    await inApp.query('CREATE INDEX i_customer ON orders (customer)');
    await inApp.end();
    await primary.query("INSERT INTO app.orders (customer, amount, flag) VALUES ('after the alter', 99, 1)");
    await primary.query("INSERT INTO app.parent VALUES (11, 'p11')");
    await primary.query('INSERT INTO app.child VALUES (51, 11, 51)');
    await primary.query("ALTER TABLE shop.items ADD COLUMN tag VARCHAR(10) DEFAULT 'x'");
    beforeDelete = await checksums(primary, ['app']);

    // the bad statement, then the application goes on
    await primary.query('DELETE FROM app.orders WHERE amount > 10');
    badGtid = (await gtidState(primary)).b;
    await primary.query("INSERT INTO app.orders (customer, amount) VALUES ('after the delete', 1)");
    await primary.query('DELETE FROM app.child WHERE id > 40');
    await primary.query('UPDATE shop.items SET qty = 0');
    // a chosen time: the second of a marker write; the next write is a second later
    await new Promise((r) => setTimeout(r, 1100));
    await primary.query("UPDATE app.orders SET note = 'at the chosen time' WHERE id = 1");
    const [t] = await primary.query<{ t: string }[]>(
      "SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:%i:%s') AS t",
    );
    chosenTime = t!.t;
    atChosenTime = await checksums(primary, ['app']);
    await new Promise((r) => setTimeout(r, 1100));
    await primary.query('UPDATE app.orders SET amount = 0');

    const archived = await cli(
      [
        'archive',
        '--source',
        primary.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--flush-interval',
        '200ms',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: primary.repl.password },
    );
    assert.equal(archived.code, 0, archived.stderr);
  });

  after(async () => {
    await primary?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('restores one table into a side schema as it was just before the DELETE; nothing else changes', async () => {
    const live = await checksums(primary, ['app', 'shop']);
    const gtids = await gtidState(primary);
    const r = await restore(['--tables', 'app.orders', '--into-schema', 'side']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /restored app\.orders as side\.orders/);
    assert.deepEqual(await checksums(primary, ['side']), { 'side.orders': beforeDelete['app.orders'] });
    const [idx] = await primary.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'side' AND INDEX_NAME = 'i_customer'",
    );
    assert.equal(Number(idx!.n), 1);
    assert.notEqual(live['app.orders'], beforeDelete['app.orders']);
    assert.deepEqual(await checksums(primary, ['app', 'shop']), live);
    assert.deepEqual(await gtidState(primary), gtids);

    // again: refused, nothing changes
    await primary.query('DELETE FROM side.orders WHERE id < 5');
    const changed = await checksums(primary, ['side']);
    const afterOwnDelete = await gtidState(primary); // that DELETE is logged: the test's own write
    const again = await restore(['--tables', 'app.orders', '--into-schema', 'side']);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /side\.orders already exist.*--force/s);
    assert.deepEqual(await checksums(primary, ['side']), changed);

    // with --force it is replaced
    const forced = await restore(['--tables', 'app.orders', '--into-schema', 'side', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(await checksums(primary, ['side']), { 'side.orders': beforeDelete['app.orders'] });
    assert.deepEqual(await gtidState(primary), afterOwnDelete);
  });

  it('two tables joined by a foreign key restore together, with the key; one alone goes without it, with a warning', async () => {
    const gtids = await gtidState(primary);
    const r = await restore(['--tables', 'app.parent,app.child', '--into-schema', 'side2']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /foreign key/);
    assert.deepEqual(await checksums(primary, ['side2']), {
      'side2.child': beforeDelete['app.child'],
      'side2.parent': beforeDelete['app.parent'],
    });
    const fk = await primary.query<{ t: string; rs: string; rt: string }[]>(
      'SELECT TABLE_NAME AS t, UNIQUE_CONSTRAINT_SCHEMA AS rs, REFERENCED_TABLE_NAME AS rt ' +
        "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'side2'",
    );
    assert.deepEqual(fk, [{ t: 'child', rs: 'side2', rt: 'parent' }]);

    const alone = await restore(['--tables', 'app.child', '--into-schema', 'side3']);
    assert.equal(alone.code, 0, alone.stderr);
    assert.match(
      alone.stderr,
      /app\.child has a foreign key fk_parent to app\.parent, which is not restored: side3\.child was restored without it/,
    );
    assert.deepEqual(await checksums(primary, ['side3']), { 'side3.child': beforeDelete['app.child'] });
    const none = await primary.query<unknown[]>(
      "SELECT * FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'side3'",
    );
    assert.deepEqual(none, []);
    assert.deepEqual(await gtidState(primary), gtids);
  });

  it('restores a table as it was at a chosen time (--to)', async () => {
    const r = await restore(['--tables', 'app.orders', '--into-schema', 'side5'], ['--to', chosenTime]);
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual(atChosenTime['app.orders'], beforeDelete['app.orders']);
    assert.deepEqual(await checksums(primary, ['side5']), { 'side5.orders': atChosenTime['app.orders'] });
  });

  it('a table the backup does not hold is refused by name', async () => {
    const r = await restore(['--tables', 'app.nope', '--into-schema', 'side4']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /holds no table app\.nope/);
  });
});
