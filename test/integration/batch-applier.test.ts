/**
 * BatchBinlogApplier against real MariaDB: a source runs a mixed workload (row-based DML with
 * multi-statement transactions, a row event over 1 MiB, DDL, statement-based events with NOW(),
 * RAND(), LAST_INSERT_ID() and user variables, utf8mb4 and non-UTF-8 binary bytes) after a backup,
 * is archived, and the range is applied to a target loaded from the backup. CHECKSUM TABLE equals
 * the source's at exact stop points; the result equals MariadbBinlogApplier's; a conflicting row
 * on the target makes the apply stop at exactly that transaction; --binlog keeps the source GTIDs.
 * Then `restore apply` (CLI child process) rolls a target forward and refuses bad input.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Connection } from 'mysql2/promise';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { rawQuery, enableMultiStatements } from '../../src/mysql/index.js';
import {
  BatchBinlogApplier,
  ClientCommand,
  MariadbBinlogApplier,
  executeRestore,
  loadRestorePlan,
  readArchivedSegments,
  type BinlogApplier,
  type RestoreProgress,
  type RestoreReport,
  type RestoreTarget,
} from '../../src/restore/index.js';
import { PitrError } from '../../src/errors/index.js';
import { silentLogger } from '../../src/log/index.js';

type Checksums = Record<string, string>;

async function checksums(server: MariadbServer, except: string[] = []): Promise<Checksums> {
  const tables = await server.query<{ n: string }[]>(
    "SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') AS n FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' " +
      "AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1",
  );
  const names = tables.map((t) => t.n).filter((n) => !except.includes(n));
  if (names.length === 0) return {};
  const rows = await server.query<{ Table: string; Checksum: string | number }[]>(
    `CHECKSUM TABLE ${names.join(', ')}`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

async function gtidPos(server: MariadbServer): Promise<string> {
  const [r] = await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
  return r!.p;
}

async function masterPos(server: MariadbServer): Promise<{ file: string; position: number }> {
  const [r] = await server.query<{ File: string; Position: number }[]>('SHOW MASTER STATUS');
  return { file: r!.File, position: Number(r!.Position) };
}

const nextGtid = (g: string): string => {
  const [d, s, n] = g.split('-');
  return `${d}-${s}-${Number(n) + 1}`;
};

interface Snap {
  gtid: string;
  pos: { file: string; position: number };
  sums: Checksums;
}

describe('BatchBinlogApplier and restore apply against MariaDB', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let store: ObjectStore;
  let s1: Snap; // after the row-based workload
  let s2: Snap; // after the statement-based part
  let beforeFail: Snap; // just before the transaction that conflicts on the target
  let failGtid: string;
  let backupGtid: string;
  let end: Snap;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 180_000 });

  const connectTarget = (): Promise<Connection> => target.connect();
  const batch = (opts: { binlog?: boolean; batchTransactions?: number } = {}): BatchBinlogApplier =>
    new BatchBinlogApplier(connectTarget, { binlogProgram: 'mariadb-binlog', ...opts });

  /** Empties the target: no user databases, empty binlog and GTID positions. */
  const resetTarget = async (): Promise<void> => {
    for (const db of ['wl', 'app']) await target.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await target.query('RESET MASTER');
    await target.query("SET GLOBAL gtid_slave_pos = ''");
  };

  /** Loads the backup into the emptied target and applies up to `to` with `applier`. */
  const restore = async (to: RestoreTarget, applier: BinlogApplier): Promise<RestoreReport> => {
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
      return await executeRestore(plan, {
        store,
        target: conn,
        targetName: `${target.host}:${target.port}`,
        client,
        applier,
      });
    } finally {
      await client.close();
      await conn.end();
    }
  };

  const snap = async (): Promise<Snap> => ({
    gtid: await gtidPos(source),
    pos: await masterPos(source),
    sums: await checksums(source),
  });

  before(async () => {
    source = await startMariadb({ maxBinlogSize: '512K' });
    target = await startMariadb({});
    work = await mkdtemp(join(tmpdir(), 'pitr-batch-apply-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    store = openObjectStore(repo);

    const conn = await source.connect();
    try {
      await conn.query('CREATE DATABASE app');
      await conn.query(
        'CREATE TABLE app.k (id INT PRIMARY KEY, v VARCHAR(64) CHARSET utf8mb4, b VARBINARY(64), t DATETIME(6), r DOUBLE)',
      );
      await conn.query(
        'CREATE TABLE app.m (id INT PRIMARY KEY AUTO_INCREMENT, n INT NOT NULL, note VARCHAR(80) CHARSET utf8mb4)',
      );
      await conn.query("INSERT INTO app.k VALUES (1, 'one', NULL, NULL, NULL)");
      backupGtid = await gtidPos(source);
      const backup = await cli(
        ['backup', 'create', '--source', source.url('admin'), '--repo', repo, '--json'],
        {
          MYSQL_PITR_SOURCE_PASSWORD: source.admin.password,
        },
      );
      assert.equal(backup.code, 0, backup.stderr);

      // row-based: mixed DML, multi-statement transactions, DDL, a 1.5 MiB row event, a rotation
      await runWorkload(conn, {
        seed: 11,
        transactions: 250,
        bigTransactions: 1,
        bigTransactionBytes: 600_000,
        hugeRowBytes: 1_500_000,
        database: 'wl',
        flushBinaryLogsAt: [0.5],
      });
      await conn.query(
        "INSERT INTO app.k VALUES (2, 'h\u00e9llo \u{1f600} \u4e16\u754c', 0x00ff80fe27, NOW(6), NULL)",
      );
      s1 = await snap();

      // statement-based: NOW(), RAND(), LAST_INSERT_ID(), user variables, auto-increment, raw bytes
      await conn.query('SET SESSION binlog_format = STATEMENT');
      await conn.query("SET @v = 41, @s = _utf8mb4'\u00fcber \u{1f680}'");
      await conn.query('INSERT INTO app.m (n, note) VALUES (@v + 1, @s)');
      await conn.query(
        "INSERT INTO app.m (n, note) VALUES (LAST_INSERT_ID() * 10, CONCAT('r', FLOOR(RAND() * 1000000)))",
      );
      await conn.query("INSERT INTO app.k VALUES (3, CONCAT('at ', NOW()), NULL, NOW(6), RAND(7))");
      await conn.beginTransaction();
      await conn.query('UPDATE app.m SET n = n + FLOOR(RAND() * 100) WHERE id <= 2');
      await conn.query('INSERT INTO app.m (n, note) VALUES (LAST_INSERT_ID(), @s)');
      await conn.commit();
      // bytes that are not UTF-8 inside the statement text itself
      await enableMultiStatements(conn);
      const raw = await rawQuery(
        conn,
        Buffer.concat([
          Buffer.from("INSERT INTO app.k VALUES (4, 'bin', _binary'"),
          Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x5c, 0x5c, 0x27, 0x27, 0x0a]),
          Buffer.from("', NULL, NULL)"),
        ]),
      );
      assert.equal(raw.error, undefined);
      await conn.query('SET SESSION binlog_format = ROW');
      s2 = await snap();

      // small transactions around the one that will conflict on the target (all in one batch)
      for (let i = 0; i < 20; i++) {
        await conn.query('INSERT INTO app.m (n, note) VALUES (?, ?)', [1000 + i, `pre ${i}`]);
      }
      beforeFail = await snap();
      await conn.beginTransaction();
      await conn.query('UPDATE app.m SET n = n + 1 WHERE id = 1');
      await conn.query("INSERT INTO app.k VALUES (500, 'conflicts on the target', NULL, NULL, NULL)");
      await conn.query("UPDATE app.m SET note = 'after 500' WHERE id = 2");
      await conn.commit();
      failGtid = await gtidPos(source);
      for (let i = 0; i < 20; i++) {
        await conn.query('INSERT INTO app.m (n, note) VALUES (?, ?)', [2000 + i, `post ${i}`]);
      }
      await conn.query('ALTER TABLE app.m ADD COLUMN extra INT NULL');
      await conn.query('UPDATE app.m SET extra = id * 2');
      end = await snap();
    } finally {
      await conn.end();
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
        '--segment-size',
        '128KiB',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: source.repl.password },
    );
    assert.equal(archived.code, 0, archived.stderr);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the recorded states differ (so equal checksums prove the stop point)', () => {
    const states = [s1, s2, beforeFail, end].map((s) => JSON.stringify(s.sums));
    assert.equal(new Set(states).size, states.length);
  });

  it('--to-gtid: checksums equal the source after the statement-based part', async () => {
    const r = await restore({ kind: 'to-gtid', gtid: s2.gtid }, batch());
    assert.deepEqual(await checksums(target), s2.sums);
    const seq = (g: string): number => Number(g.split('-')[2]);
    assert.equal(r.transactionsApplied, seq(s2.gtid) - seq(backupGtid));
  });

  it('--before-gtid: checksums equal the source before that transaction', async () => {
    await restore({ kind: 'before-gtid', gtid: nextGtid(s1.gtid) }, batch());
    assert.deepEqual(await checksums(target), s1.sums);
  });

  it('--to-position: checksums equal the source at that binlog position', async () => {
    await restore({ kind: 'position', ...beforeFail.pos }, batch({ batchTransactions: 5 }));
    assert.deepEqual(await checksums(target), beforeFail.sums);
  });

  it('a transaction bigger than a query goes in several queries of one session', async () => {
    // 64 KiB queries: the 600 kB transaction is cut between its statements, the 1.5 MB row event goes alone
    await restore({ kind: 'latest' }, new BatchBinlogApplier(connectTarget, { maxQueryBytes: 64 * 1024 }));
    assert.deepEqual(await checksums(target), end.sums);
  });

  it('gives the same result as MariadbBinlogApplier on the same plan', async () => {
    const client = await ClientCommand.create({
      host: target.host,
      port: target.port,
      user: target.admin.user,
      password: target.admin.password,
    });
    let ref: RestoreReport;
    try {
      ref = await restore({ kind: 'latest' }, new MariadbBinlogApplier(client, silentLogger));
    } finally {
      await client.close();
    }
    const refSums = await checksums(target);
    const ours = await restore({ kind: 'latest' }, batch());
    assert.deepEqual(await checksums(target), refSums);
    assert.deepEqual(refSums, end.sums);
    assert.equal(ours.transactionsApplied, ref.transactionsApplied);
  });

  it('reports apply progress up to the whole range', async () => {
    await resetTarget();
    const plan = await loadRestorePlan(store, { kind: 'to-gtid', gtid: s2.gtid });
    // load the backup with the reference path, then apply with progress
    const client = await ClientCommand.create({
      host: target.host,
      port: target.port,
      user: target.admin.user,
      password: target.admin.password,
    });
    const conn = await target.connect();
    const seen: RestoreProgress[] = [];
    try {
      await executeRestore(
        { ...plan, files: [] },
        { store, target: conn, targetName: 't', client, applier: batch() },
      );
      const r = await batch().apply(
        plan,
        (f) => readArchivedSegments(store, f.segments),
        undefined,
        (p) => seen.push(p),
      );
      const total = plan.files.reduce((a, f) => a + ((f.to ?? f.segments.at(-1)!.end) - f.from), 0);
      assert.ok(seen.length >= plan.files.length);
      assert.ok(seen.every((p) => p.phase === 'apply' && p.total === total));
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.done >= seen[i - 1]!.done);
      assert.equal(seen.at(-1)!.done, total);
      assert.equal(seen.at(-1)!.transactions, r.transactions);
      assert.deepEqual(await checksums(target), s2.sums);
    } finally {
      await client.close();
      await conn.end();
    }
  });

  it('a conflicting row on the target: names the failing GTID, applies everything before it and nothing after', async () => {
    await resetTarget();
    const plan = await loadRestorePlan(store, { kind: 'latest' });
    const client = await ClientCommand.create({
      host: target.host,
      port: target.port,
      user: target.admin.user,
      password: target.admin.password,
    });
    const conn = await target.connect();
    try {
      // load only the backup, then plant the conflicting row (not binlogged)
      await executeRestore(
        { ...plan, files: [] },
        { store, target: conn, targetName: 't', client, applier: batch() },
      );
      await conn.query('SET SESSION sql_log_bin = 0');
      await conn.query("INSERT INTO app.k VALUES (500, 'planted', NULL, NULL, NULL)");
      await assert.rejects(
        batch().apply(plan, (f) => readArchivedSegments(store, f.segments)),
        (err: unknown) => {
          assert.ok(err instanceof PitrError);
          assert.equal(err.code, 'RESTORE_APPLY_FAILED');
          assert.match(err.message, new RegExp(`failed at transaction ${failGtid} at mysql-bin\\.\\d+:\\d+`));
          assert.match(err.message, /server error 1062 \(23000\): Duplicate entry '500'/);
          assert.match(err.message, new RegExp(`the last one: transaction ${beforeFail.gtid} at`));
          assert.match(err.message, /restore apply --from mysql-bin\.\d+:\d+ --to latest/);
          return true;
        },
      );
      await conn.query('DELETE FROM app.k WHERE id = 500');
      // everything before the failing transaction, none of it (rolled back) and nothing after
      assert.deepEqual(await checksums(target), beforeFail.sums);
    } finally {
      await client.close();
      await conn.end();
    }
  });

  it('a decoder failure or an unreadable segment stops the apply with the cause', async () => {
    await resetTarget();
    const plan = await loadRestorePlan(store, { kind: 'to-gtid', gtid: s2.gtid });
    await assert.rejects(
      new BatchBinlogApplier(connectTarget, { binlogProgram: 'false' }).apply(plan, (f) =>
        readArchivedSegments(store, f.segments),
      ),
      (err: unknown) =>
        err instanceof PitrError &&
        err.code === 'RESTORE_APPLY_FAILED' &&
        new RegExp(`^false failed on ${plan.files[0]!.file} \\(exit 1\\)`).test(err.message) &&
        /continue with `mysql-pitr restore apply --from mysql-bin\.\d+:\d+ --to-gtid /.test(err.message),
    );
    const damaged = new Error('segment checksum mismatch (test)');
    await assert.rejects(
      batch().apply(plan, async function* () {
        yield* [];
        throw damaged;
      }),
      (err: unknown) => err === damaged,
    );
  });

  it('--binlog: the target logs the source GTIDs (gtid_binlog_pos equals the source)', async () => {
    await restore({ kind: 'latest' }, batch({ binlog: true }));
    assert.equal(await gtidPos(target), end.gtid);
    assert.deepEqual(await checksums(target), end.sums);
  });

  it('without --binlog the target writes nothing to its binary log', async () => {
    await restore({ kind: 'to-gtid', gtid: s2.gtid }, batch());
    assert.equal(await gtidPos(target), '');
  });

  describe('restore apply (CLI)', () => {
    const apply = (args: string[]): Promise<CliResult> =>
      cli(['restore', 'apply', '--repo', repo, '--target', target.url('admin'), ...args], {
        MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
      });

    it('refuses a --from that is not FILE:POS, and a missing start', async () => {
      const bad = await apply(['--from', 'nonsense', '--to', 'latest', '--yes']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /--from "nonsense" is not FILE:POS such as mysql-bin\.000042:1234/);
      const none = await apply(['--to', 'latest', '--yes']);
      assert.equal(none.code, 2, none.stderr);
      assert.match(none.stderr, /--from FILE:POS .* or --from-gtid-of-target/);
    });

    it('refuses a --from outside the archive or inside a transaction', async () => {
      const outside = await apply(['--from', 'mysql-bin.000999:4', '--to', 'latest', '--yes']);
      assert.notEqual(outside.code, 0);
      assert.match(outside.stderr, /--from mysql-bin\.000999:4 is not in the archive \(it holds/);
      const inside = await apply([
        '--from',
        `${beforeFail.pos.file}:${beforeFail.pos.position + 10}`,
        '--to',
        'latest',
        '--yes',
      ]);
      assert.equal(inside.code, 2, inside.stderr);
      assert.match(
        inside.stderr,
        /is inside transaction .* applying must start at a transaction boundary. Use --from/,
      );
    });

    it('rolls a restored target forward from --from, then from its own GTID position', async () => {
      await restore({ kind: 'position', ...s1.pos }, batch());
      assert.deepEqual(await checksums(target), s1.sums);
      // off a terminal without --yes: refused, nothing changed
      const unconfirmed = await apply(['--from', `${s1.pos.file}:${s1.pos.position}`, '--to-gtid', s2.gtid]);
      assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
      assert.match(unconfirmed.stderr, /will be applied to .* pass --yes/s);
      assert.deepEqual(await checksums(target), s1.sums);

      const r = await apply([
        '--from',
        `${s1.pos.file}:${s1.pos.position}`,
        '--to-gtid',
        s2.gtid,
        '--yes',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        report: { lastGtid: string; transactionsApplied: number; server: { gtidSlavePos: string } };
      };
      assert.equal(out.report.lastGtid, s2.gtid);
      assert.equal(out.report.server.gtidSlavePos, s2.gtid);
      assert.deepEqual(await checksums(target), s2.sums);

      const more = await apply(['--from-gtid-of-target', '--to', 'latest', '--yes']);
      assert.equal(more.code, 0, more.stderr);
      assert.match(more.stdout, /applied \d+ transaction\(s\) from mysql-bin\.\d+:\d+ up to/);
      assert.deepEqual(await checksums(target), end.sums);
    });

    it('a failing transaction: exit 3, names it, and the printed --from continues', async () => {
      await restore({ kind: 'position', ...s2.pos }, batch());
      await target.query("INSERT INTO app.k VALUES (500, 'planted', NULL, NULL, NULL)");
      await target.query('RESET MASTER'); // the planted row is not a source transaction
      const r = await apply(['--from', `${s2.pos.file}:${s2.pos.position}`, '--to', 'latest', '--yes']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`failed at transaction ${failGtid} at`));
      const from = /restore apply --from (\S+)/.exec(r.stderr)?.[1];
      assert.ok(from, r.stderr);
      await target.query('DELETE FROM app.k WHERE id = 500');
      const again = await apply(['--from', from, '--to', 'latest', '--yes']);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(await checksums(target), end.sums);
    });
  });
});
