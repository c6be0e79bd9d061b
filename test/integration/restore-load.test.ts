/**
 * `restore backup` (the parallel dump load) end to end against real MariaDB, through the CLI: a
 * source with several databases (binary blobs holding every byte value, utf8mb4 text, a table
 * without a primary key, a FOREIGN KEY, a FULLTEXT index, views on views, a trigger, a procedure, a
 * function, an event, awkward identifiers, enough rows for many INSERT statements per table),
 * `backup create`, then `restore backup` with 1, 2 and 4 load sessions gives the source's CHECKSUM
 * TABLE for every table and the same views, routines, triggers and events. Error paths: a non-empty
 * target is refused unchanged; a failing statement (--force over a conflicting object) is named by
 * dump line and table; a stored dump that does not match its manifest fails with the checksum error.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import type { RestoreBackupReport } from '../../src/restore/index.js';

const USER_DBS = ['shop', 'we`ird db', 'bulk'];
const q = (id: string): string => `\`${id.replace(/`/g, '``')}\``;

/** CHECKSUM TABLE of every user base table, `db.table` -> checksum. */
async function checksums(server: MariadbServer): Promise<Record<string, string>> {
  const tables = await server.query<{ db: string; t: string }[]>(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' " +
      "AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1, 2",
  );
  const out: Record<string, string> = {};
  for (const { db, t } of tables) {
    const [r] = await server.query<{ Checksum: string | number }[]>(`CHECKSUM TABLE ${q(db)}.${q(t)}`);
    out[`${db}.${t}`] = String(r!.Checksum);
  }
  return out;
}

/** Views, routines, triggers and events of the user databases, as comparable text. */
async function objects(server: MariadbServer): Promise<string[]> {
  const inList = USER_DBS.map((d) => `'${d.replace(/'/g, "''")}'`).join(',');
  const parts = await Promise.all([
    server.query<Record<string, unknown>[]>(
      `SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (${inList}) ORDER BY 1, 2`,
    ),
    server.query<Record<string, unknown>[]>(
      `SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_DEFINITION, SQL_MODE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (${inList}) ORDER BY 1, 2`,
    ),
    server.query<Record<string, unknown>[]>(
      `SELECT TRIGGER_SCHEMA, TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (${inList}) ORDER BY 1, 2`,
    ),
    server.query<Record<string, unknown>[]>(
      `SELECT EVENT_SCHEMA, EVENT_NAME, EVENT_DEFINITION, STATUS FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (${inList}) ORDER BY 1, 2`,
    ),
  ]);
  return parts.flat().map((r) => JSON.stringify(r));
}

const SCHEMA = `
CREATE DATABASE shop CHARACTER SET utf8mb4;
CREATE DATABASE \`we\`\`ird db\`;
CREATE DATABASE bulk;
USE shop;
CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(100), note TEXT, KEY k_name (name)) ENGINE=InnoDB;
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(10,2), created DATETIME,
  KEY k_created (created), CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers(id)) ENGINE=InnoDB;
CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB, v VARBINARY(300), t TINYBLOB);
CREATE TABLE nopk (a INT, b VARCHAR(20), KEY (a));
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(200));
CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, FULLTEXT KEY ft_body (body)) ENGINE=InnoDB;
INSERT INTO customers (name, note) VALUES ('Zoë', 'line1\\nline2; DROP TABLE x; -- not a comment'),
  ('日本語', 'tab\\tquote\\'dq"bs\\\\'), ('emoji 🎉', NULL), ('cr\\rlf', '/* not a comment */ # nor this;');
INSERT INTO orders VALUES (1, 1, 10.50, '2026-01-01 10:00:00'), (2, 2, 99.99, '2026-02-02 11:11:11'), (3, 1, 0, NULL);
INSERT INTO nopk VALUES (1,'a'),(1,'a'),(2,NULL),(NULL,'dup;'),(NULL,'dup;');
INSERT INTO docs VALUES (1, 'hello world'), (2, 'full text');
CREATE VIEW v_orders AS SELECT c.name, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id;
CREATE VIEW v_top AS SELECT * FROM v_orders WHERE amount > 5;
DELIMITER ;;
CREATE TRIGGER trg_orders_ai AFTER INSERT ON orders FOR EACH ROW BEGIN INSERT INTO audit (msg) VALUES (CONCAT('order ', NEW.id, ';')); END;;
CREATE PROCEDURE add_order(IN cid INT, IN amt DECIMAL(10,2)) BEGIN DECLARE n BIGINT; SELECT COALESCE(MAX(id),0)+1 INTO n FROM orders; INSERT INTO orders VALUES (n, cid, amt, NOW()); END;;
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;;
CREATE EVENT ev_cleanup ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit WHERE id < 0;;
DELIMITER ;
CALL add_order(3, 7.25);
USE \`we\`\`ird db\`;
CREATE TABLE \`tab;le\` (\`co\`\`l\` INT PRIMARY KEY, \`x y\` VARCHAR(10));
INSERT INTO \`tab;le\` VALUES (1, ';'), (2, '/*'), (3, '--'), (4, '\\\\'), (5, '''');
USE bulk;
CREATE TABLE big (id INT PRIMARY KEY, k INT NOT NULL, pad CHAR(120) NOT NULL, bin VARBINARY(64), KEY k_k (k)) ENGINE=InnoDB;
INSERT INTO big SELECT seq, (seq * 7919) % 1000, CONCAT('row-', seq, REPEAT('x', 80)), UNHEX(SHA2(seq, 256)) FROM seq_1_to_30000;
CREATE TABLE big_nopk (k INT, pad VARCHAR(100)) ENGINE=InnoDB;
INSERT INTO big_nopk SELECT seq % 97, REPEAT(CHAR(65 + seq % 26), 90) FROM seq_1_to_20000;
`;

describe('restore backup (parallel dump load) against MariaDB', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repoDir: string;
  let repo: string;
  let dumpKey: string;
  let sourceSums: Record<string, string>;
  let sourceObjects: string[];
  let sourceGtid: string;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 180_000 });
  const restore = (args: string[], repoUrl = repo): Promise<CliResult> =>
    cli(['restore', 'backup', '--repo', repoUrl, '--target', target.url('admin'), '--json', ...args], {
      MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
    });
  const emptyTarget = async (): Promise<void> => {
    for (const db of USER_DBS) await target.query(`DROP DATABASE IF EXISTS ${q(db)}`);
  };

  before(async () => {
    [source, target] = await Promise.all([startMariadb(), startMariadb({ binlog: false })]);
    work = await mkdtemp(join(tmpdir(), 'pitr-restore-load-'));
    repoDir = join(work, 'repo');
    repo = pathToFileURL(repoDir).href;
    execFileSync(
      'mariadb',
      ['--no-defaults', '-uroot', `--socket=${source.socket}`, '--default-character-set=utf8mb4'],
      {
        input: SCHEMA,
      },
    );
    // Every byte value in a LONGBLOB, and a VARBINARY with the bytes a dump must escape.
    await source.query(
      "INSERT INTO shop.blobs VALUES (1, (SELECT GROUP_CONCAT(CHAR(seq) ORDER BY seq SEPARATOR '') FROM shop.seq_0_to_255), " +
        "x'00ff0a0d5c27225c6e1a', x'80'), (2, '', NULL, ''), (3, REPEAT(x'00ff', 40000), x'0a', NULL)",
    );
    sourceSums = await checksums(source);
    sourceObjects = await objects(source);
    assert.equal(Object.keys(sourceSums).length, 9);
    assert.equal(sourceObjects.length, 6);
    // one dump object (format 1): this file tests its lane load; split backups are in
    // restore-split-backup.test.ts
    const backup = await cli(
      ['backup', 'create', '--source', source.url('admin'), '--repo', repo, '--single-file', '--json'],
      {
        MYSQL_PITR_SOURCE_PASSWORD: source.admin.password,
      },
    );
    assert.equal(backup.code, 0, backup.stderr);
    const manifest = JSON.parse(backup.stdout) as { dump: { key: string }; gtidPosition: string };
    dumpKey = manifest.dump.key;
    sourceGtid = manifest.gtidPosition;
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const threads of ['1', '2', '4']) {
    it(`--load-threads ${threads} gives the source's checksums, views, routines, triggers and events`, async () => {
      await emptyTarget();
      const r = await restore(['--backup', 'latest', '--load-threads', threads]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as RestoreBackupReport;
      assert.equal(report.loadThreads, Number(threads));
      assert.equal(report.gtidPosition, sourceGtid);
      assert.equal(report.server?.gtidSlavePos, sourceGtid);
      assert.equal(report.tables['bulk.big'], 30000);
      assert.equal(report.tables['bulk.big_nopk'], 20000);
      assert.equal(report.tables['shop.nopk'], 5);
      assert.deepEqual(await checksums(target), sourceSums);
      assert.deepEqual(await objects(target), sourceObjects);
      // The trigger works after the load (it was not fired by the load itself: audit kept its rows).
      await target.query('INSERT INTO shop.orders VALUES (100, 1, 1, NULL)');
      const [a] = await target.query<{ n: number }[]>(
        "SELECT COUNT(*) AS n FROM shop.audit WHERE msg = 'order 100;'",
      );
      assert.equal(Number(a!.n), 1);
    });
  }

  it('refuses a target that holds user databases and leaves it unchanged', async () => {
    await emptyTarget();
    await target.query('CREATE DATABASE shop');
    await target.query('CREATE TABLE shop.keepme (id INT PRIMARY KEY)');
    const r = await restore([]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /already holds user databases \(shop\); nothing was changed/);
    const [t] = await target.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'",
    );
    assert.equal(Number(t!.n), 1);
  });

  it('names the failing statement (dump line, table) when --force loads over a conflicting object', async () => {
    await emptyTarget();
    await target.query('CREATE DATABASE shop');
    // A view where the dump creates a table: its DROP TABLE / CREATE TABLE `orders` fails.
    await target.query('CREATE VIEW shop.orders AS SELECT 1 AS x');
    const r = await restore(['--force', '--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /failed at dump line \d+ \(table shop\.orders\): (DROP|CREATE) TABLE/);
    assert.match(r.stderr, /partly loaded/);
  });

  it('fails with the checksum error when the stored dump does not match its manifest', async () => {
    await emptyTarget();
    const copy = join(work, 'repo-recompressed');
    await cp(repoDir, copy, { recursive: true });
    const stored = join(copy, dumpKey);
    // The same SQL compressed differently: it loads, but its bytes are not the ones the manifest records.
    const sql = execFileSync('zstd', ['-dc', stored], { maxBuffer: 1 << 30 });
    await writeFile(stored, execFileSync('zstd', ['-q', '-1', '-c'], { input: sql, maxBuffer: 1 << 30 }));
    const r = await restore([], pathToFileURL(copy).href);
    assert.equal(r.code, 5, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`checksum mismatch in ${dumpKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    assert.match(r.stderr, /partly loaded/);

    // A flipped byte: zstd's own frame check or the SHA-256 catches it; either way the key is named.
    await emptyTarget();
    const bytes = await readFile(join(repoDir, dumpKey));
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await writeFile(stored, bytes);
    const r2 = await restore([], pathToFileURL(copy).href);
    assert.equal(r2.code, 5, r2.stderr);
    assert.ok(r2.stderr.includes(dumpKey), r2.stderr);
  });
});
