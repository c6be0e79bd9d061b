/**
 * Point-in-time restore end to end against real MariaDB, through the CLI as an operator runs it:
 * a source under a mixed workload, `backup create`, batches of writes with table checksums and the
 * GTID position recorded after each, a bad `DELETE FROM orders`, `archive --until-caught-up`; then
 * `timeline search` finds the DELETE, `restore plan` shows the plan, and `restore pitr` with
 * --to-gtid / --before-gtid / --to TIME into a fresh target gives exactly the recorded checksums.
 * Error paths: a non-empty target is refused and left unchanged; targets outside the archive.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { startS3Emulator } from '../support/s3-emulator.js';
import { openObjectStore } from '../../src/storage/index.js';
import type { RestorePlan, RestoreReport } from '../../src/restore/index.js';

type Checksums = Record<string, string>;

/** CHECKSUM TABLE of every user table, `db.table` -> checksum. */
async function checksums(server: MariadbServer): Promise<Checksums> {
  const tables = await server.query<{ n: string }[]>(
    "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS n FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' " +
      "AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1",
  );
  if (tables.length === 0) return {};
  const rows = await server.query<{ Table: string; Checksum: string | number }[]>(
    `CHECKSUM TABLE ${tables
      .map((t) =>
        t.n
          .split('.')
          .map((p) => `\`${p}\``)
          .join('.'),
      )
      .join(', ')}`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

async function lastGtid(server: MariadbServer): Promise<string> {
  const [r] = await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
  return r!.p;
}

/** Waits until the wall clock is in a later second than `ms` (binlog times have 1-second resolution). */
async function nextSecond(ms: number): Promise<void> {
  const wait = (Math.floor(ms / 1000) + 1) * 1000 + 100 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
function utcText(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

interface Snapshot {
  gtid: string;
  /** The second all of the batch committed in or before. */
  time: number;
  sums: Checksums;
}

describe('restore plan / restore pitr / timeline search against MariaDB', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  const snaps: Snapshot[] = [];
  let beforeBad: Snapshot;
  let badGtid: string;
  let backupId: string;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 180_000 });
  const restore = (args: string[]): Promise<CliResult> =>
    cli(['restore', 'pitr', '--repo', repo, '--target', target.url('admin'), '--json', ...args], {
      MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
    });
  const emptyTarget = async (): Promise<void> => {
    for (const db of ['shop', 'wl', 'wl2']) await target.query(`DROP DATABASE IF EXISTS \`${db}\``);
  };

  before(async () => {
    source = await startMariadb({ maxBinlogSize: '256K' });
    target = await startMariadb({ binlog: false });
    work = await mkdtemp(join(tmpdir(), 'pitr-restore-'));
    repo = pathToFileURL(join(work, 'repo')).href;

    const conn = await source.connect();
    try {
      await runWorkload(conn, { seed: 7, transactions: 300, bigTransactions: 0, database: 'wl' });
      await conn.query('CREATE DATABASE shop');
      await conn.query(
        'CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, customer INT, amount INT, note VARCHAR(64))',
      );
      await conn.query('CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(32), credit INT)');
      for (let i = 0; i < 20; i++) {
        await conn.query('INSERT INTO shop.customers VALUES (?, ?, 100)', [i, `c${i}`]);
        await conn.query('INSERT INTO shop.orders (customer, amount, note) VALUES (?, ?, ?)', [
          i,
          i * 3,
          'initial',
        ]);
      }
      const backup = await cli(
        ['backup', 'create', '--source', source.url('admin'), '--repo', repo, '--json'],
        {
          MYSQL_PITR_SOURCE_PASSWORD: source.admin.password,
        },
      );
      assert.equal(backup.code, 0, backup.stderr);
      backupId = (JSON.parse(backup.stdout) as { id: string }).id;

      // batch 0: the mixed workload in another schema, with a binlog rotation in the middle
      await nextSecond(Date.now());
      await runWorkload(conn, {
        seed: 8,
        transactions: 250,
        bigTransactions: 1,
        bigTransactionBytes: 300_000,
        database: 'wl2',
        flushBinaryLogsAt: [0.5],
      });
      snaps.push({ gtid: await lastGtid(source), time: Date.now(), sums: await checksums(source) });
      // batches 1..3: orders and customers, one with DDL
      for (let b = 1; b <= 7; b++) {
        await nextSecond(snaps.at(-1)!.time);
        await conn.beginTransaction();
        for (let i = 0; i < 5; i++) {
          await conn.query('INSERT INTO shop.orders (customer, amount, note) VALUES (?, ?, ?)', [
            i,
            b * 100 + i,
            `batch ${b}`,
          ]);
        }
        await conn.query('UPDATE shop.customers SET credit = credit - ? WHERE id < 10', [b]);
        await conn.commit();
        await conn.query('DELETE FROM shop.orders WHERE customer = ? AND note = ?', [b, 'initial']);
        if (b === 2) await conn.query('ALTER TABLE shop.customers ADD COLUMN tier INT NOT NULL DEFAULT 0');
        if (b === 3 || b === 6) await conn.query('FLUSH BINARY LOGS');
        await conn.query('UPDATE shop.orders SET amount = amount + 1 WHERE id % 3 = ?', [b % 3]);
        snaps.push({ gtid: await lastGtid(source), time: Date.now(), sums: await checksums(source) });
      }
      beforeBad = snaps.at(-1)!;
      // the incident, then life goes on
      await nextSecond(beforeBad.time);
      await conn.query('DELETE FROM orders', []).catch(() => undefined); // no default schema: fails, not logged
      await conn.query('USE shop');
      await conn.query('DELETE FROM orders');
      badGtid = await lastGtid(source);
      await conn.query(
        "INSERT INTO shop.orders (customer, amount, note) VALUES (99, 1, 'after the incident')",
      );
      await conn.query('UPDATE shop.customers SET credit = 0 WHERE id = 1');
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
        '64KiB',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: source.repl.password },
    );
    assert.equal(archived.code, 0, archived.stderr);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the recorded states differ from each other (so equal checksums prove the stop point)', async () => {
    const states = [...snaps.map((s) => JSON.stringify(s.sums)), JSON.stringify(await checksums(source))];
    assert.equal(new Set(states).size, states.length);
    assert.equal(new Set(snaps.map((s) => s.gtid)).size, snaps.length);
  });

  it('timeline search finds the bad DELETE with its GTID, position and commit time', async () => {
    const r = await cli(['timeline', 'search', '--repo', repo, '--query', 'DELETE FROM orders', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const matches = r.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            gtid: string;
            file: string;
            startOffset: number;
            endOffset: number;
            commitTime: string;
            statements: string[];
            tables: string[];
          },
      );
    assert.equal(matches.length, 1, r.stdout);
    const m = matches[0]!;
    assert.equal(m.gtid, badGtid);
    assert.match(m.file, /^mysql-bin\.\d+$/);
    assert.ok(m.endOffset > m.startOffset);
    assert.deepEqual(m.tables, ['shop.orders']);
    assert.ok(Date.parse(m.commitTime) >= Math.floor(beforeBad.time / 1000) * 1000 + 1000, m.commitTime);
    // --from / --to bound the commit time (the DELETE ran in the second after beforeBad)
    const until = await cli([
      'timeline',
      'search',
      '--repo',
      repo,
      '--query',
      'DELETE FROM orders',
      '--to',
      utcText(beforeBad.time),
    ]);
    assert.equal(until.code, 0, until.stderr);
    assert.equal(until.stdout, '');
    assert.match(until.stderr, /^0 of \d+ transactions match/m);
    const since = await cli([
      'timeline',
      'search',
      '--repo',
      repo,
      '--query',
      'delete from ORDERS',
      '--from',
      utcText(beforeBad.time + 1000),
    ]);
    assert.equal(since.code, 0, since.stderr);
    assert.equal(since.stdout.trim().split('\n').length, 1, since.stdout);
    assert.match(since.stdout, new RegExp(`  ${badGtid}  `));
    // text output and --table
    const byTable = await cli(['timeline', 'search', '--repo', repo, '--table', 'shop.customers']);
    assert.equal(byTable.code, 0, byTable.stderr);
    assert.ok(byTable.stdout.trim().split('\n').length >= 4, byTable.stdout);
    assert.ok(byTable.stdout.split('\n').every((l) => l === '' || l.includes('shop.customers')));
  });

  it('restore plan --before-gtid stops at the start of the bad transaction, from the backup', async () => {
    const r = await cli(['restore', 'plan', '--repo', repo, '--before-gtid', badGtid, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as RestorePlan;
    assert.equal(plan.backup.id, backupId);
    assert.equal(plan.firstExcluded?.gtid, badGtid);
    assert.equal(plan.stop.position, plan.firstExcluded!.startOffset);
    assert.equal(plan.lastIncluded?.gtid, beforeBad.gtid);
    assert.equal(plan.expectedGtidPosition, beforeBad.gtid);
    assert.ok(plan.files.length >= 3, `spans rotations: ${plan.files.map((f) => f.file).join(',')}`);
    assert.equal(plan.files[0]!.from, plan.backup.binlog.position);
    assert.equal(plan.files.at(-1)!.to, plan.stop.position);
    assert.ok(plan.files.slice(0, -1).every((f) => f.to === undefined));
    const text = await cli(['restore', 'plan', '--repo', repo, '--before-gtid', badGtid]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`first skipped  ${badGtid}`));
    assert.match(text.stdout, /estimate/);
  });

  it('restore pitr --before-gtid skips exactly the bad DELETE', async () => {
    const r = await restore(['--before-gtid', badGtid]);
    assert.equal(r.code, 0, r.stderr);
    const { report } = JSON.parse(r.stdout) as { report: RestoreReport };
    assert.deepEqual(await checksums(target), beforeBad.sums);
    assert.equal(report.gtidPosition, beforeBad.gtid);
    assert.equal(report.server?.gtidSlavePos, beforeBad.gtid);
    const [n] = await target.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM shop.orders');
    assert.equal(report.tables['shop.orders'], Number(n!.n));
    assert.ok(Number(n!.n) > 0);
  });

  it('a target holding user databases is refused without --force and left unchanged', async () => {
    const sums = await checksums(target);
    const r = await restore(['--to-gtid', snaps[0]!.gtid]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /already holds user databases \(shop, wl, wl2\); nothing was changed/);
    assert.deepEqual(await checksums(target), sums);
    // --dry-run prints the plan and touches nothing
    const dry = await restore(['--to-gtid', snaps[0]!.gtid, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal((JSON.parse(dry.stdout) as { plan: RestorePlan }).plan.lastIncluded?.gtid, snaps[0]!.gtid);
    assert.deepEqual(await checksums(target), sums);
  });

  it('restore pitr --to-gtid gives the checksums recorded at that GTID (each batch)', async () => {
    for (const snap of snaps.filter((_, i) => i % 2 === 0)) {
      await emptyTarget();
      const r = await restore(['--to-gtid', snap.gtid]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await checksums(target), snap.sums, `--to-gtid ${snap.gtid}`);
    }
  });

  it('restore pitr --to TIME includes every transaction of that second and none after', async () => {
    for (const [i, snap] of snaps.entries()) {
      if (i % 2 === 0) continue;
      await emptyTarget();
      // "YYYY-MM-DD HH:MM:SS" (UTC) for some, RFC 3339 at a random instant of the quiet second for others
      const quiet = snap.time + Math.floor(Math.random() * (999 - (snap.time % 1000)));
      const to = i % 4 === 1 ? utcText(snap.time) : new Date(quiet).toISOString();
      const r = await restore(['--to', to]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await checksums(target), snap.sums, `--to ${to}`);
    }
  });

  it('a failure mid-apply names the failing transaction and how to continue (--force over a clashing table)', async () => {
    const found = await cli([
      'timeline',
      'search',
      '--repo',
      repo,
      '--query',
      'CREATE TABLE `wl2`.`?items',
      '--json',
    ]);
    assert.equal(found.code, 0, found.stderr);
    const create = JSON.parse(found.stdout.trim().split('\n')[0]!) as {
      gtid: string;
      file: string;
      startOffset: number;
    };
    await emptyTarget();
    await target.query('CREATE DATABASE wl2');
    await target.query('CREATE TABLE wl2.items (x INT)');
    // --force is destructive: off a terminal it needs --yes, and refusing changes nothing
    const sums = await checksums(target);
    const refused = await restore(['--to-gtid', snaps[0]!.gtid, '--force']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /over the databases it already holds.*pass --yes/s);
    assert.deepEqual(await checksums(target), sums);
    const r = await restore(['--to-gtid', snaps[0]!.gtid, '--force', '--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `applying the binlogs failed at transaction ${create.gtid} at ${create.file}:${create.startOffset}: .*already exists.*` +
          `--start-position=${create.startOffset}`,
        's',
      ),
    );
    await emptyTarget();
  });

  it('restores from an S3 repository (the emulator): the same plan, the same checksums', async () => {
    const s3 = await startS3Emulator();
    try {
      const creds = {
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      };
      Object.assign(process.env, creds);
      const s3Repo = `s3://${s3.bucket}/pitr/db1`;
      const from = openObjectStore(repo);
      const to = openObjectStore(s3Repo, { endpoint: s3.endpoint, region: s3.region });
      let copied = 0;
      for await (const o of from.list('')) {
        await to.put(o.key, await from.get(o.key));
        copied += 1;
      }
      assert.ok(copied > 5, `${copied} objects`);
      await emptyTarget();
      const s3Args = ['--s3-endpoint', s3.endpoint, '--region', s3.region];
      const r = await cli(
        [
          'restore',
          'pitr',
          '--repo',
          s3Repo,
          ...s3Args,
          '--target',
          target.url('admin'),
          '--before-gtid',
          badGtid,
        ],
        { ...creds, MYSQL_PITR_TARGET_PASSWORD: target.admin.password },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /rows per table:\n(.|\n)*shop\.orders {2}\d+/);
      assert.deepEqual(await checksums(target), beforeBad.sums);
      const found = await cli(
        ['timeline', 'search', '--repo', s3Repo, ...s3Args, '--query', '^DELETE FROM orders$'],
        creds,
      );
      assert.equal(found.code, 0, found.stderr);
      assert.match(
        found.stdout,
        new RegExp(
          `${badGtid}  mysql-bin\\.\\d+:\\d+\\.\\.\\d+  shop\\.orders \\+0 ~0 -\\d+  DELETE FROM orders`,
        ),
      );
    } finally {
      await s3.stop();
    }
  });

  it('a damaged segment in the apply range stops the restore with the DATA exit code, naming the object', async () => {
    const copy = join(work, 'repo-damaged');
    await cp(join(work, 'repo'), copy, { recursive: true });
    const segDir = join(copy, 'binlogs', '000001', 'mysql-bin.000002');
    const seg = join(segDir, (await readdir(segDir)).sort()[1]!);
    const bytes = await readFile(seg);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    await writeFile(seg, bytes);
    await emptyTarget();
    const r = await cli(
      [
        'restore',
        'pitr',
        '--repo',
        pathToFileURL(copy).href,
        '--target',
        target.url('admin'),
        '--before-gtid',
        badGtid,
      ],
      { MYSQL_PITR_TARGET_PASSWORD: target.admin.password },
    );
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /binlogs\/000001\/mysql-bin\.000002\/\d{20}\.zst/);
    await emptyTarget();
  });

  it('targets outside the archive fail with what the repository can do instead', async () => {
    const plan = (args: string[]): Promise<CliResult> => cli(['restore', 'plan', '--repo', repo, ...args]);
    const [domain, server] = badGtid.split('-');
    const future = await plan(['--to-gtid', `${domain}-${server}-999999`]);
    assert.equal(future.code, 6, future.stderr);
    assert.match(future.stderr, /after the newest archived transaction.*--to latest/s);

    const early = await plan(['--to', '2000-01-01 00:00:00']);
    assert.equal(early.code, 6, early.stderr);
    assert.match(early.stderr, /before the oldest backup.*--to-position mysql-bin\.\d+:\d+/s);

    const p = JSON.parse(
      (await cli(['restore', 'plan', '--repo', repo, '--before-gtid', badGtid, '--json'])).stdout,
    ) as RestorePlan;
    const inside = await plan([
      '--to-position',
      `${p.firstExcluded!.file}:${p.firstExcluded!.startOffset + 1}`,
    ]);
    assert.equal(inside.code, 2, inside.stderr);
    assert.match(
      inside.stderr,
      new RegExp(`inside transaction GTID ${badGtid}.*nearest boundaries are`, 's'),
    );

    const none = await plan([]);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /say where to stop/);
  });
});
