/**
 * EventBinlogApplier against real MariaDB: a source writes, after a backup, row-based and
 * statement-based sessions whose data holds every shape that confused the text splitter
 * (`x/*!*\/;` + newline, `DELIMITER`, `# at 1` at a line start, NUL, backslashes, quotes), user
 * variables of each type, a non-UTC time zone, auto-increment settings, foreign_key_checks=0,
 * NO_BACKSLASH_ESCAPES, two sessions using a temporary table of the same name, a 17 MiB row
 * event (above the target's 16 MiB max_allowed_packet: BINLOG fragments) and a 21 MB
 * INSERT ... SELECT. The archive is restored with the event applier: CHECKSUM TABLE and the bytes
 * of every table, and the routine body, equal the source's. Then: GTIDs left out on a
 * gtid_strict_mode target; a TableEventFilter restores one table into another schema; a LOAD DATA
 * event stops the apply with a typed error. An XA transaction is applied too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { enableMultiStatements, rawQuery } from '../../src/mysql/index.js';
import {
  ClientCommand,
  EventApplyError,
  EventBinlogApplier,
  TableEventFilter,
  executeRestore,
  loadRestorePlan,
  readArchivedSegments,
  type EventApplierOptions,
  type RestoreReport,
  type RestoreTarget,
} from '../../src/restore/index.js';

type Checksums = Record<string, string>;

async function checksums(server: MariadbServer, schemas = ['app']): Promise<Checksums> {
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

/** The bytes of every row of the small tables, as hex. */
async function contents(server: MariadbServer): Promise<unknown> {
  return {
    s: await server.query('SELECT id, HEX(v) AS v, HEX(b) AS b, HEX(ts) AS ts FROM app.s ORDER BY id'),
    r: await server.query('SELECT id, HEX(v) AS v FROM app.r ORDER BY id'),
    f: await server.query('SELECT id, p FROM app.f ORDER BY id'),
    big: await server.query('SELECT id, LENGTH(b) AS n, MD5(b) AS m FROM app.big ORDER BY id'),
    proc: await server.query(
      "SELECT HEX(ROUTINE_DEFINITION) AS d FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app'",
    ),
    comment: await server.query(
      "SELECT HEX(TABLE_COMMENT) AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'r'",
    ),
  };
}

async function gtidPos(server: MariadbServer): Promise<string> {
  const [r] = await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
  return r!.p;
}

/** String values that a splitter of mariadb-binlog text gets wrong. */
const TRICKY = [
  'x/*!*/;\ny',
  "a'b\\c\\\\d",
  'one\nDELIMITER ;;\ntwo;;\nDELIMITER ;\n',
  'lead\n# at 1\n#251205 12:00:00 server id 1  end_log_pos 2\ntail',
  'nul\u0000byte',
  "'/*!*/;\n';\n--\n# \n/*",
];

describe('EventBinlogApplier against MariaDB', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let store: ObjectStore;
  let sourceSums: Checksums;
  let sourceContents: unknown;
  let sourceGtid: string;
  let loadGtid: string;
  let rAtBackup: Checksums;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 180_000 });
  const applier = (opts: EventApplierOptions = {}): EventBinlogApplier =>
    new EventBinlogApplier(() => target.connect(), opts);

  const resetTarget = async (): Promise<void> => {
    for (const db of ['app', 'side']) await target.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await target.query('RESET MASTER');
    await target.query("SET GLOBAL gtid_slave_pos = ''");
  };

  const restore = async (
    to: RestoreTarget,
    files: 'all' | 'none',
    a: EventBinlogApplier,
  ): Promise<RestoreReport> => {
    await resetTarget();
    const plan = await loadRestorePlan(store, to);
    const client = await ClientCommand.create({
      host: target.host,
      port: target.port,
      user: target.admin.user,
      password: target.admin.password,
    });
    const conn = await target.connect();
    try {
      return await executeRestore(files === 'all' ? plan : { ...plan, files: [] }, {
        store,
        target: conn,
        targetName: `${target.host}:${target.port}`,
        client,
        applier: a,
      });
    } finally {
      await client.close();
      await conn.end();
    }
  };

  before(async () => {
    source = await startMariadb({ extraArgs: ['--max-allowed-packet=64M'] });
    target = await startMariadb({ extraArgs: ['--max-allowed-packet=16M'] });
    work = await mkdtemp(join(tmpdir(), 'pitr-event-apply-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    store = openObjectStore(repo);

    const a = await source.connect();
    await a.query('CREATE DATABASE app');
    await a.query('USE app');
    const b = await source.connect(source.admin, 'app');
    try {
      await a.query(
        'CREATE TABLE app.s (id INT PRIMARY KEY AUTO_INCREMENT, v LONGTEXT CHARSET utf8mb4, b LONGBLOB, ts TIMESTAMP(6) NULL, d DOUBLE, n DECIMAL(20,6))',
      );
      await a.query('CREATE TABLE app.r (id INT PRIMARY KEY, v LONGTEXT CHARSET utf8mb4, b LONGBLOB)');
      await a.query('CREATE TABLE app.p (id INT PRIMARY KEY)');
      await a.query(
        'CREATE TABLE app.f (id INT PRIMARY KEY, p INT, FOREIGN KEY (p) REFERENCES app.p (id)) ENGINE=InnoDB',
      );
      await a.query('CREATE TABLE app.big (id INT PRIMARY KEY, b LONGBLOB)');
      await a.query("INSERT INTO app.r VALUES (0, 'before the backup', NULL)");
      const backup = await cli(
        ['backup', 'create', '--source', source.url('admin'), '--repo', repo, '--json'],
        {
          MYSQL_PITR_SOURCE_PASSWORD: source.admin.password,
        },
      );
      assert.equal(backup.code, 0, backup.stderr);
      rAtBackup = await checksums(source);

      // ROW format: the tricky strings in rows, a DDL comment and a routine body holding them
      for (const [i, v] of TRICKY.entries()) {
        await a.query('INSERT INTO app.r VALUES (?, ?, ?)', [i + 1, v, Buffer.from(v)]);
      }
      await a.query("ALTER TABLE app.r COMMENT = 'x/*!*/;\\ny DELIMITER ;;'");
      await a.query(
        "CREATE PROCEDURE app.pr() BEGIN\n  -- a comment /*!*/;\n  SELECT 'x/*!*/;\n# at 1\nDELIMITER ;;' AS v; -- tail\nEND",
      );
      // a 17 MiB row event: above the target's 16 MiB max_allowed_packet
      await a.query("INSERT INTO app.big VALUES (1, REPEAT('z', 17 * 1024 * 1024))");
      // a 21 MB INSERT ... SELECT: many rows events in one statement
      await a.query(
        'INSERT INTO app.big SELECT seq + 10, REPEAT(CHAR(65 + seq % 26), 7000) FROM app.seq_1_to_3000',
      );

      // STATEMENT format
      for (const c of [a, b]) await c.query("SET SESSION binlog_format = 'STATEMENT'");
      for (const v of TRICKY) await a.query('INSERT INTO app.s (v, b) VALUES (?, ?)', [v, Buffer.from(v)]);
      // raw bytes (NUL, non-UTF-8, backslash, quote) inside the statement text itself
      await enableMultiStatements(a);
      const raw = await rawQuery(
        a,
        Buffer.concat([
          Buffer.from("INSERT INTO app.s (v, b) VALUES ('raw', _binary'"),
          Buffer.from([
            0x00, 0xff, 0xfe, 0x80, 0x5c, 0x5c, 0x27, 0x27, 0x0a, 0x2f, 0x2a, 0x21, 0x2a, 0x2f, 0x3b,
          ]),
          Buffer.from("')"),
        ]),
      );
      assert.equal(raw.error, undefined);
      // user variables of each type, non-ASCII names and values
      await a.query(
        "SET @str = _utf8mb4'\u00fcber \u{1f680} x/*!*/;', @i = -42, @u = 18446744073709551615, @dbl = 0.1e0, " +
          '@dec = -1234.500100, @nul = NULL, @`n\u00e4me` = 7',
      );
      await a.query(
        "INSERT INTO app.s (v, d, n) VALUES (CONCAT(@str, @i, @u, IFNULL(@nul, '-'), @`n\u00e4me`), @dbl, @dec)",
      );
      // a non-UTC time zone, NOW() and auto-increment settings, LAST_INSERT_ID, RAND
      await a.query("SET time_zone = '+05:30', auto_increment_increment = 5, auto_increment_offset = 3");
      await a.query("INSERT INTO app.s (v, ts) VALUES (CONCAT('now ', NOW(6)), NOW(6))");
      await a.query("INSERT INTO app.s (v, d) VALUES (CONCAT('lid ', LAST_INSERT_ID()), RAND())");
      await a.query("SET time_zone = '-03:00', lc_time_names = 'de_DE'");
      await a.query(
        "INSERT INTO app.s (v, ts) VALUES (DATE_FORMAT(NOW(), '%W %M'), FROM_UNIXTIME(1700000000))",
      );
      // sql_mode NO_BACKSLASH_ESCAPES: a backslash is a character
      await a.query("SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
      await a.query("INSERT INTO app.s (v) VALUES ('back\\slash\\n')");
      await a.query('SET sql_mode = DEFAULT, time_zone = DEFAULT, lc_time_names = DEFAULT');
      // foreign_key_checks=0: a child without its parent
      await a.query('SET foreign_key_checks = 0');
      await a.query('INSERT INTO app.f VALUES (1, 999)');
      await a.query('SET foreign_key_checks = 1');
      // two sessions, each with its own temporary table named tmp
      await a.query("CREATE TEMPORARY TABLE tmp (v VARCHAR(20)) SELECT 'from a' AS v");
      await b.query("CREATE TEMPORARY TABLE tmp (v VARCHAR(20)) SELECT 'from b' AS v");
      await a.query('INSERT INTO app.s (v) SELECT v FROM tmp');
      await b.query('INSERT INTO app.s (v) SELECT v FROM tmp');
      await a.query('DROP TEMPORARY TABLE tmp');
      await b.query('DROP TEMPORARY TABLE tmp');
      // back to ROW: an XA transaction (MariaDB: its GTID event stands for XA START), the last rows of app.r
      await a.query("SET SESSION binlog_format = 'ROW'");
      await a.query("XA START 'xa1'");
      await a.query("INSERT INTO app.r VALUES (100, 'xa', NULL)");
      await a.query("XA END 'xa1'");
      await a.query("XA PREPARE 'xa1'");
      await a.query("XA COMMIT 'xa1'");
      await a.query("UPDATE app.r SET v = CONCAT(v, '/*!*/;') WHERE id <= 3");
      await a.query('DELETE FROM app.r WHERE id = 4');
      sourceSums = await checksums(source);
      sourceContents = await contents(source);
      sourceGtid = await gtidPos(source);
      // last: a statement-based LOAD DATA (its file travels in BEGIN_LOAD_QUERY/EXECUTE_LOAD_QUERY events)
      const file = join(work, 'load.txt');
      await a.query(`SELECT id, v FROM app.r WHERE id < 3 INTO OUTFILE '${file}'`);
      await a.query("SET SESSION binlog_format = 'STATEMENT'");
      await a.query('CREATE TABLE app.loaded (id INT PRIMARY KEY, v LONGTEXT)');
      await a.query(`LOAD DATA INFILE '${file}' INTO TABLE app.loaded`);
      loadGtid = await gtidPos(source);
    } finally {
      await a.end();
      await b.end();
    }
    const archived = await cli(
      [
        'archive',
        '--source',
        source.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--flush-interval',
        '200ms',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: source.repl.password },
    );
    assert.equal(archived.code, 0, archived.stderr);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('restores every table, byte for byte, the routine body and the table comment included', async () => {
    const [m] = await target.query<{ m: number }[]>('SELECT @@max_allowed_packet AS m');
    assert.equal(Number(m!.m), 16 * 1024 * 1024); // the 17 MiB row event needed fragments
    const r = await restore({ kind: 'to-gtid', gtid: sourceGtid }, 'all', applier());
    assert.ok(r.transactionsApplied > 30);
    assert.deepEqual(await checksums(target), sourceSums);
    assert.deepEqual(await contents(target), sourceContents);
    // without --binlog the target logs nothing
    assert.equal(await gtidPos(target), '');
  });

  it('--binlog with GTIDs: the target logs the source GTIDs', async () => {
    await restore({ kind: 'to-gtid', gtid: sourceGtid }, 'all', applier({ binlog: true }));
    assert.equal(await gtidPos(target), sourceGtid);
    assert.deepEqual(await checksums(target), sourceSums);
  });

  it('gtids: false applies on a gtid_strict_mode target whose own GTIDs are ahead', async () => {
    await resetTarget();
    // the target's own history is ahead of the source's sequence numbers in the same domain
    await target.query(`SET SESSION gtid_seq_no = 100000, SESSION server_id = ${source.serverId}`);
    await target.query('CREATE DATABASE ahead');
    await target.query('DROP DATABASE ahead');
    const [strict] = await target.query<{ s: number }[]>('SELECT @@gtid_strict_mode AS s');
    assert.equal(Number(strict!.s), 1);
    const plan = await loadRestorePlan(store, { kind: 'to-gtid', gtid: sourceGtid });
    const client = await ClientCommand.create({
      host: target.host,
      port: target.port,
      user: target.admin.user,
      password: target.admin.password,
    });
    const conn = await target.connect();
    try {
      await executeRestore(
        { ...plan, files: [] },
        { store, target: conn, targetName: 't', client, applier: applier(), force: true },
      );
      // with the GTIDs set, the first transaction fails with error 1950 (out-of-order sequence number)
      await assert.rejects(
        applier({ binlog: true }).apply(plan, (f) => readArchivedSegments(store, f.segments)),
        /server error 1950/,
      );
      await applier({ binlog: true, gtids: false }).apply(plan, (f) =>
        readArchivedSegments(store, f.segments),
      );
      assert.deepEqual(await checksums(target), sourceSums);
      // the target logged the transactions under its own server_id, continuing its own sequence
      const m = /^0-(\d+)-(\d+)$/.exec(await gtidPos(target));
      assert.ok(m, await gtidPos(target));
      assert.equal(Number(m[1]), target.serverId);
      assert.ok(Number(m[2]) > 100002);
    } finally {
      await client.close();
      await conn.end();
    }
  });

  it('a TableEventFilter restores one table into another schema, rows events rewritten', async () => {
    await restore({ kind: 'to-gtid', gtid: sourceGtid }, 'none', applier());
    await target.query('CREATE DATABASE side');
    await target.query('CREATE TABLE side.r LIKE app.r');
    await target.query('INSERT INTO side.r SELECT * FROM app.r');
    const plan = await loadRestorePlan(store, { kind: 'to-gtid', gtid: sourceGtid });
    const filter = new TableEventFilter({
      tables: [{ database: 'app', table: 'r' }],
      renameDatabase: new Map([['app', 'side']]),
    });
    await applier({ filter, gtids: false }).apply(plan, (f) => readArchivedSegments(store, f.segments));
    const side = await checksums(target, ['side']);
    assert.equal(side['side.r'], sourceSums['app.r']);
    // app.r on the target is as the backup left it: nothing else was applied
    assert.equal((await checksums(target))['app.r'], rAtBackup['app.r']);
    const [n] = await target.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.s');
    assert.equal(Number(n!.n), 0);
  });

  it('a LOAD DATA event stops the apply with a typed error naming its transaction and --applier client', async () => {
    await assert.rejects(restore({ kind: 'latest' }, 'all', applier()), (err: unknown) => {
      assert.ok(err instanceof EventApplyError, String(err));
      assert.equal(err.code, 'RESTORE_APPLY_FAILED');
      assert.equal(err.failure, 'unsupported-event');
      assert.equal(err.at.gtid, loadGtid);
      assert.match(err.message, /LOAD DATA/);
      assert.match(
        err.message,
        new RegExp(`restore apply --from ${err.at.file}:${err.at.position} --to latest`),
      );
      assert.match(err.message, /--applier client/);
      return true;
    });
    // everything before it is applied (the CREATE TABLE before the LOAD too), none of it
    assert.deepEqual(await checksums(target), { ...sourceSums, 'app.loaded': '0' });
  });
});
