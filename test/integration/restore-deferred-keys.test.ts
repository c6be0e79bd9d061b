/**
 * Secondary keys added after the rows (loadBackupParts' `deferKeys`, on by default) against real
 * MariaDB. The source holds the user-like schema (test/support/user-like-workload.ts: foreign keys,
 * a partitioned table, awkward names) and a schema `ixdb` of tables with many kinds of index: the
 * sysbench shape, several plain keys with prefixes, IGNORED keys and comments holding "KEY" and
 * commas, names with backticks and commas, generated columns with keys, CHECK constraints, plain
 * keys given before UNIQUE and FULLTEXT ones, a SPATIAL key, an AUTO_INCREMENT column that only a
 * plain key leads, a long UNIQUE (hash) key, a table without a primary key, a MyISAM table, an
 * empty table, and a table big enough for many `rows` chunks.
 * - `restore backup` (CLI) with and without `--no-defer-keys` both give SHOW CREATE TABLE of every
 *   table byte-identical to the source's (AUTO_INCREMENT included) and the same CHECKSUM TABLE, and
 *   the user-like schema's whole state (views, triggers, routines, events).
 * - loadBackupParts on 2 sessions (every statement recorded at the session seam): the deferred
 *   tables' CREATE TABLE went without their plain keys, each got exactly one ALTER TABLE ... ADD KEY,
 *   after the last INSERT of that table on any session (ixdb.big: many chunks); the tables that must keep their keys
 *   (SPATIAL, MyISAM, partitioned, foreign keys, AUTO_INCREMENT led by a plain key) got none.
 * - An ALTER TABLE that fails (injected at the session seam) fails the load with
 *   RESTORE_APPLY_FAILED naming the table, the statement and --no-defer-keys.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readBackupCatalog, type BackupManifest } from '../../src/catalog/index.js';
import { isPitrError } from '../../src/errors/index.js';
import { ClientCommand } from '../../src/restore/apply/client-command.js';
import { loadBackupParts } from '../../src/restore/load/load-backup-parts.js';
import {
  openMysqlLoadSession,
  type ParallelLoadSession,
} from '../../src/restore/load/parallel-load-session.js';
import { openObjectStore } from '../../src/storage/index.js';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { createUserSchema, qi, snapshotState, type SchemaState } from '../support/user-like-workload.js';

const USER_DBS = ['app', 'ünï code'];
const KEYS_DB = 'ixdb';
const WEIRD = 'we`ird, KEY (t)';

/** The `ixdb` schema: each statement run on the source. */
const KEYS_SCHEMA = [
  `CREATE DATABASE ${KEYS_DB}`,
  // sysbench shape
  `CREATE TABLE ixdb.sb (id INT UNSIGNED NOT NULL AUTO_INCREMENT, k INT UNSIGNED NOT NULL DEFAULT 0,
     c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k)) ENGINE=InnoDB`,
  `INSERT INTO ixdb.sb (k, c, pad) SELECT seq % 1000, SHA2(seq, 224), MD5(seq) FROM seq_1_to_3000`,
  // many plain keys given before the UNIQUE and FULLTEXT ones, IGNORED, comments, prefixes
  `CREATE TABLE ixdb.users (id BIGINT NOT NULL, account_id INT NOT NULL, email VARCHAR(120) NOT NULL,
     name VARCHAR(80) CHARACTER SET utf8mb4 NOT NULL COMMENT 'KEY, (name)', status TINYINT NOT NULL,
     created DATETIME(3) NOT NULL, bio TEXT, login VARCHAR(40) NOT NULL,
     KEY ix_account (account_id) COMMENT 'a KEY, with ) and ''quotes''',
     INDEX ix_email (email(20)) USING BTREE,
     UNIQUE KEY uq_login (login),
     KEY ix_status_created (status, created DESC),
     KEY ix_created (created) IGNORED,
     FULLTEXT KEY ft_bio (bio),
     KEY ix_name (name(10), account_id) KEY_BLOCK_SIZE=8,
     PRIMARY KEY (id)) ENGINE=InnoDB COMMENT='KEY x (y), PARTITION in a comment'`,
  `INSERT INTO ixdb.users SELECT seq, seq % 50, CONCAT(MD5(seq), '@example.com'), CONCAT('ñame ', seq), seq % 5,
     '2024-01-01' + INTERVAL seq MINUTE, IF(seq % 3 = 0, NULL, CONCAT('bio KEY ', seq)), CONCAT('login', seq)
     FROM seq_1_to_2000`,
  // names with backticks and commas; generated columns with keys; CHECK constraints
  `CREATE TABLE ixdb.${qi(WEIRD)} (${qi('a,b`')} INT NOT NULL, ${qi('KEY (c)')} VARCHAR(30) NOT NULL,
     v INT AS (${qi('a,b`')} * 2) VIRTUAL, s VARCHAR(40) AS (CONCAT(${qi('KEY (c)')}, ',', ${qi('a,b`')})) STORED,
     j JSON CHECK (JSON_VALID(j)),
     PRIMARY KEY (${qi('a,b`')}),
     KEY ${qi('k`1, (x)')} (${qi('KEY (c)')}(5)),
     KEY kv (v), KEY ks (s),
     CONSTRAINT ${qi('chk, KEY')} CHECK (${qi('a,b`')} >= 0)) ENGINE=InnoDB`,
  `INSERT INTO ixdb.${qi(WEIRD)} (${qi('a,b`')}, ${qi('KEY (c)')}, j)
     SELECT seq, CONCAT('c', seq % 7, ',KEY'), JSON_OBJECT('n', seq) FROM seq_1_to_500`,
  // a long UNIQUE (hash) key among the plain ones; a table without a primary key
  `CREATE TABLE ixdb.lh (id INT NOT NULL PRIMARY KEY, a INT, b TEXT, c INT, KEY ka (a),
     UNIQUE KEY ub (b) USING HASH, KEY kc (c)) ENGINE=InnoDB`,
  `INSERT INTO ixdb.lh SELECT seq, seq % 7, CONCAT('long ', seq), seq % 11 FROM seq_1_to_300`,
  `CREATE TABLE ixdb.nopk (a INT, c INT, KEY ka (a), KEY kc (c, a)) ENGINE=InnoDB`,
  `INSERT INTO ixdb.nopk SELECT seq % 13, seq FROM seq_1_to_300`,
  // kept as they are: SPATIAL (ordered among the plain keys), MyISAM, AUTO_INCREMENT led by a plain key
  `CREATE TABLE ixdb.geo (id INT NOT NULL PRIMARY KEY, p POINT NOT NULL, k INT, KEY kk (k), SPATIAL KEY sp (p)) ENGINE=InnoDB`,
  `INSERT INTO ixdb.geo SELECT seq, POINT(seq, seq), seq % 9 FROM seq_1_to_200`,
  `CREATE TABLE ixdb.my (id INT NOT NULL PRIMARY KEY, k INT, KEY kk (k)) ENGINE=MyISAM`,
  `INSERT INTO ixdb.my SELECT seq, seq % 9 FROM seq_1_to_200`,
  `CREATE TABLE ixdb.ai (a INT NOT NULL, id INT NOT NULL AUTO_INCREMENT, k INT, PRIMARY KEY (a, id), KEY id (id), KEY kk (k)) ENGINE=InnoDB`,
  `INSERT INTO ixdb.ai (a, k) SELECT seq % 3, seq FROM seq_1_to_200`,
  // no rows: its keys right after the pre parts
  `CREATE TABLE ixdb.empty (id INT NOT NULL PRIMARY KEY, k INT, l VARCHAR(10), KEY kk (k), KEY kl (l, k)) ENGINE=InnoDB`,
  // many rows chunks, loaded by both sessions
  `CREATE TABLE ixdb.big (id INT NOT NULL PRIMARY KEY, k INT, pad VARCHAR(200), KEY k_k (k), KEY k_pad (pad(12), k)) ENGINE=InnoDB`,
  `INSERT INTO ixdb.big SELECT seq, seq % 97, REPEAT(CONCAT('p', seq, ';'), 25) FROM seq_1_to_20000`,
];

/** Tables whose plain keys must be deferred / must stay in their CREATE TABLE. */
const DEFERRED = ['sb', 'users', WEIRD, 'empty', 'big', 'lh', 'nopk'];
const KEPT = ['geo', 'my', 'ai'];

interface TableState {
  create: Record<string, string>;
  checksum: Record<string, string>;
}

describe('secondary keys after the rows (split-backup load)', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let split: BackupManifest;
  let keysAtBackup: TableState;
  let userAtBackup: SchemaState;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 120_000 });
  const targetOptions = (): { host: string; port: number; user: string; password: string } => ({
    host: '127.0.0.1',
    port: target.port,
    user: target.admin.user,
    password: target.admin.password,
  });
  /** SHOW CREATE TABLE (AUTO_INCREMENT kept) and CHECKSUM TABLE of every table of `ixdb`. */
  const keysState = async (server: MariadbServer): Promise<TableState> => {
    const out: TableState = { create: {}, checksum: {} };
    const tables = await server.query<{ t: string }[]>(
      `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${KEYS_DB}' ORDER BY 1`,
    );
    for (const { t } of tables) {
      const name = `${KEYS_DB}.${qi(t)}`;
      const [c] = await server.query<Record<string, string>[]>(`SHOW CREATE TABLE ${name}`);
      out.create[t] = c!['Create Table']!;
      const [s] = await server.query<{ Checksum: string | number }[]>(`CHECKSUM TABLE ${name}`);
      out.checksum[t] = String(s!.Checksum);
    }
    return out;
  };
  const userState = async (server: MariadbServer): Promise<SchemaState> => {
    const c = await server.connect();
    try {
      return await snapshotState(c, USER_DBS);
    } finally {
      await c.end();
    }
  };
  const emptyTarget = async (): Promise<void> => {
    const dbs = await target.query<{ n: string }[]>(
      "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
    );
    for (const { n } of dbs) await target.query(`DROP DATABASE ${qi(n)}`);
  };

  before(async () => {
    [source, target] = await Promise.all([startMariadb(), startMariadb({ binlog: false })]);
    work = await mkdtemp(join(tmpdir(), 'pitr-keys-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    const c = await source.connect();
    try {
      await c.query('SET SESSION binlog_format = ROW');
      await createUserSchema(c);
      await c.query('USE app'); // the sequence engine's tables are found in the current database
      for (const sql of KEYS_SCHEMA) await c.query(sql);
    } finally {
      await c.end();
    }
    const backup = await cli(
      [
        'backup',
        'create',
        '--source',
        source.url('admin'),
        '--repo',
        repo,
        '--chunk-size',
        '16KiB',
        '--json',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: source.admin.password },
    );
    assert.equal(backup.code, 0, backup.stderr);
    split = (await readBackupCatalog(openObjectStore(repo))).complete[0]!;
    keysAtBackup = await keysState(source);
    userAtBackup = await userState(source);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the source tables are what the test means: keys of every kind, ixdb.big in many chunks', () => {
    assert.match(keysAtBackup.create['users']!, /KEY `ix_created` \(`created`\) IGNORED/);
    assert.match(keysAtBackup.create['users']!, /COMMENT 'a KEY, with \) and ''quotes'''/);
    assert.match(keysAtBackup.create[WEIRD]!, /CONSTRAINT `chk, KEY` CHECK/);
    const bigChunks = split.parts!.filter(
      (p) => p.stage === 'rows' && p.database === KEYS_DB && p.table === 'big',
    );
    assert.ok(bigChunks.length >= 4, `ixdb.big in ${bigChunks.length} rows parts`);
  });

  for (const variant of [[], ['--no-defer-keys']]) {
    it(`restore backup ${variant.join(' ') || '(keys after the rows)'} gives identical SHOW CREATE TABLE and checksums`, async () => {
      await emptyTarget();
      const r = await cli(
        [
          'restore',
          'backup',
          '--repo',
          repo,
          '--backup',
          split.id,
          '--target',
          target.url('admin'),
          '--load-threads',
          '2',
          '--log-level',
          'info',
          '--log-format',
          'json',
          '--no-progress',
          ...variant,
        ],
        { MYSQL_PITR_TARGET_PASSWORD: target.admin.password },
      );
      assert.equal(r.code, 0, r.stderr);
      const loaded = r.stderr
        .split('\n')
        .filter((l) => l.includes('dump parts loaded'))
        .map((l) => JSON.parse(l) as { keysAfterRows?: number });
      assert.equal(loaded.length, 1, r.stderr);
      assert.equal(loaded[0]!.keysAfterRows, variant.length === 0 ? DEFERRED.length : 0, r.stderr);
      const got = await keysState(target);
      assert.deepEqual(got.create, keysAtBackup.create);
      assert.deepEqual(got.checksum, keysAtBackup.checksum);
      assert.deepEqual(await userState(target), userAtBackup);
    });
  }

  it('loadBackupParts: CREATE TABLE without the plain keys, one ALTER per table after its last INSERT', async () => {
    await emptyTarget();
    // every statement of every session, in the order they were sent
    const log: { session: number; sql: string }[] = [];
    let opened = 0;
    const recording = async (): Promise<ParallelLoadSession> => {
      const inner = await openMysqlLoadSession(targetOptions());
      const session = opened++;
      const note = (sql: Buffer): void => {
        log.push({ session, sql: sql.toString('utf8', 0, Math.min(sql.length, 2000)) });
      };
      return {
        query: async (sql) => {
          note(sql);
          await inner.query(sql);
        },
        queryMany: async (sqls) => {
          sqls.forEach(note);
          await inner.queryMany!(sqls);
        },
        close: () => inner.close(),
        destroy: () => inner.destroy(),
      };
    };
    const client = await ClientCommand.create(targetOptions());
    let stats;
    try {
      stats = await loadBackupParts(split, {
        store: openObjectStore(repo),
        client,
        targetName: 'target',
        openLoadSession: recording,
        loadThreads: 2,
      });
    } finally {
      await client.close();
    }
    assert.equal(stats.keysAfterRows, DEFERRED.length);
    const intoKeys = (t: string): RegExp =>
      new RegExp(`^(?:INSERT INTO|ALTER TABLE \`${KEYS_DB}\`\\.)\\s*${escapeRe(qi(t))}[ (]`);
    for (const t of DEFERRED) {
      const creates = log.filter((e) => e.sql.startsWith(`CREATE TABLE ${qi(t)} (`));
      assert.equal(creates.length, 1, t);
      assert.doesNotMatch(
        creates[0]!.sql,
        /^\s+(?:KEY|INDEX) `/m,
        `${t}: CREATE TABLE without its plain keys`,
      );
      const alters = log.filter((e) => e.sql.startsWith(`ALTER TABLE \`${KEYS_DB}\`.${qi(t)} ADD KEY`));
      assert.equal(alters.length, 1, `${t}: one ALTER TABLE`);
      const lastInsert = log.findLastIndex((e) => e.sql.startsWith(`INSERT INTO ${qi(t)} `));
      assert.ok(log.indexOf(alters[0]!) > lastInsert, `${t}: the ALTER after the last INSERT`);
      assert.ok(intoKeys(t).test(alters[0]!.sql));
    }
    // ixdb.big's many chunks (on whichever sessions were free): still one ALTER, after the last
    const bigInserts = log.filter((e) => e.sql.startsWith('INSERT INTO `big` ')).length;
    assert.ok(bigInserts >= 4, `ixdb.big sent in ${bigInserts} INSERTs`);
    for (const t of KEPT) {
      assert.ok(!log.some((e) => e.sql.startsWith(`ALTER TABLE \`${KEYS_DB}\`.${qi(t)} `)), `${t}: no ALTER`);
    }
    // app.orders and app.`order items` have foreign keys: no ALTER; app.customers (KEY
    // email_domain), which orders references, had its key deferred and added before orders exists
    for (const t of ['orders', 'order items']) {
      assert.ok(!log.some((e) => e.sql.startsWith(`ALTER TABLE \`app\`.${qi(t)} `)), `app.${t}: no ALTER`);
    }
    const customersAlter = log.findIndex((e) => e.sql.startsWith('ALTER TABLE `app`.`customers` '));
    assert.ok(customersAlter >= 0, 'app.customers: its key added');
    assert.ok(customersAlter < log.findIndex((e) => e.sql.startsWith('CREATE TABLE `orders` (')));
    const got = await keysState(target);
    assert.deepEqual(got.create, keysAtBackup.create);
    assert.deepEqual(got.checksum, keysAtBackup.checksum);
    assert.deepEqual(await userState(target), userAtBackup);
  });

  it('a failing ALTER TABLE fails the load with RESTORE_APPLY_FAILED naming the table and --no-defer-keys', async () => {
    await emptyTarget();
    const failing = async (): Promise<ParallelLoadSession> => {
      const inner = await openMysqlLoadSession(targetOptions());
      // as the real session does: the failing statement's index in a queryMany batch
      const refuse = (sql: Buffer, statementIndex = 0): void => {
        if (sql.toString('utf8', 0, 40).startsWith('ALTER TABLE `ixdb`.`users`')) {
          throw Object.assign(new Error('injected: the server refused the ALTER'), { statementIndex });
        }
      };
      return {
        query: async (sql) => {
          refuse(sql);
          await inner.query(sql);
        },
        queryMany: async (sqls) => {
          sqls.forEach((sql, i) => refuse(sql, i));
          await inner.queryMany!(sqls);
        },
        close: () => inner.close(),
        destroy: () => inner.destroy(),
      };
    };
    const client = await ClientCommand.create(targetOptions());
    try {
      await assert.rejects(
        loadBackupParts(split, {
          store: openObjectStore(repo),
          client,
          targetName: 'target',
          openLoadSession: failing,
          loadThreads: 2,
        }),
        (e: unknown) => {
          assert.ok(isPitrError(e, 'RESTORE_APPLY_FAILED'), String(e));
          const m = (e as Error).message;
          assert.match(m, /secondary keys of table ixdb\.users after its rows/);
          assert.match(m, /ALTER TABLE `ixdb`\.`users` ADD KEY `ix_account`/);
          assert.match(m, /injected: the server refused the ALTER/);
          assert.match(m, /--no-defer-keys/);
          return true;
        },
      );
    } finally {
      await client.close();
    }
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
