/**
 * The point-in-time proof: `restore pitr --to TIME` to 12 random moments of a mixed write workload
 * gives exactly the table checksums recorded at those moments.
 *
 * One source runs a seeded workload (single-row and multi-statement transactions, inserts,
 * updates, deletes, rolled-back transactions, a table without a primary key, DDL and binlog
 * rotations in the middle) in rounds of a random number of operations; `backup create` runs while
 * the first round writes. After each round, with nothing in flight, the test records CHECKSUM TABLE
 * of every user table and the time, then waits past the next second boundary before writing again
 * (binlog commit times have 1-second resolution, so the target time separates the snapshot from
 * the next transaction). After `archive --until-caught-up`, each snapshot is restored through the
 * CLI into one target (its databases dropped in between) with a TIME in one of the accepted forms.
 *
 * The restores also check the progress output: `{"progress":...}` JSON lines with --json, plain
 * lines without escape codes off a terminal, and bars redrawn in place on a terminal (`script`
 * gives the CLI a pseudo-terminal), coloured unless NO_COLOR.
 *
 * The seed is printed; rerun a failure with PITR_TEST_SEED=<seed>.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection } from 'mysql2/promise';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { PROJECT_ROOT, cliCommand, runCli, type CliResult } from '../support/run-cli.js';
import type { RestorePlan, RestoreReport } from '../../src/restore/index.js';
import { backupSize } from '../../src/catalog/index.js';

const SEED = Number(process.env['PITR_TEST_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = 12;
const DB = 'rt';

type Checksums = Record<string, string>;

/** mulberry32: small, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CHECKSUM TABLE of every user table, `db.table` -> checksum. */
async function checksums(server: MariadbServer): Promise<Checksums> {
  const tables = await server.query<{ n: string }[]>(
    "SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') AS n FROM information_schema.TABLES " +
      "WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1",
  );
  if (tables.length === 0) return {};
  const rows = await server.query<{ Table: string; Checksum: string | number }[]>(
    `CHECKSUM TABLE ${tables.map((t) => t.n).join(', ')}`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

/** `YYYY-MM-DD HH:MM:SS` in UTC. */
function utcText(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** RFC 3339 at `ms` in a +05:30 zone. */
function zonedText(ms: number): string {
  const local = new Date(ms + 5.5 * 3600_000).toISOString().slice(0, 23);
  return `${local}+05:30`;
}

/** Runs the CLI under a pseudo-terminal (util-linux `script`): what an operator sees, escapes included. */
function runCliOnTerminal(args: string[], env: Record<string, string>): Promise<CliResult> {
  const { command, args: argv } = cliCommand(args);
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const line = [command, ...argv].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', `stty cols 120; exec ${line}`, '/dev/null'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

interface Snapshot {
  round: number;
  /** Taken after the round's last commit, before the next round's first. */
  time: number;
  sums: Checksums;
}

interface ProgressLine {
  progress: {
    phase: 'download' | 'load' | 'apply';
    done: number;
    total: number | null;
    rate: number | null;
    etaSeconds: number | null;
    transactions?: number;
    finished: boolean;
  };
}

/**
 * The seeded workload: `ops` operations chosen by `rand` on one connection, each committed (or
 * rolled back) before the next starts.
 */
async function writeRound(conn: Connection, rand: () => number, round: number, ops: number): Promise<void> {
  const int = (n: number): number => Math.floor(rand() * n);
  for (let i = 0; i < ops; i++) {
    const r = rand();
    if (r < 0.25) {
      await conn.query(`INSERT INTO ${DB}.accounts (owner, balance) VALUES (?, ?)`, [
        `o${round}-${i}`,
        int(1000),
      ]);
    } else if (r < 0.45) {
      // a transfer: several statements, one transaction
      const [a, b, amount] = [1 + int(40), 1 + int(40), 1 + int(50)];
      await conn.beginTransaction();
      await conn.query(`UPDATE ${DB}.accounts SET balance = balance - ? WHERE id = ?`, [amount, a]);
      await conn.query(`UPDATE ${DB}.accounts SET balance = balance + ? WHERE id = ?`, [amount, b]);
      await conn.query(`INSERT INTO ${DB}.ledger (src, dst, amount, memo) VALUES (?, ?, ?, ?)`, [
        a,
        b,
        amount,
        `r${round} op${i}`,
      ]);
      await conn.commit();
    } else if (r < 0.55) {
      await conn.query(`UPDATE ${DB}.accounts SET balance = balance + 1 WHERE id % 7 = ?`, [int(7)]);
    } else if (r < 0.62) {
      await conn.query(`DELETE FROM ${DB}.ledger WHERE id % 11 = ? LIMIT 3`, [int(11)]);
    } else if (r < 0.75) {
      // no primary key: duplicates allowed, rows found by full comparison on apply
      await conn.query(`INSERT INTO ${DB}.notes (tag, body) VALUES (?, ?), (?, ?)`, [
        `t${int(5)}`,
        `note ${round}.${i}`,
        `t${int(5)}`,
        'same',
      ]);
    } else if (r < 0.82) {
      await conn.query(`UPDATE ${DB}.notes SET body = CONCAT(body, '+') WHERE tag = ? LIMIT 2`, [
        `t${int(5)}`,
      ]);
    } else if (r < 0.87) {
      await conn.query(`DELETE FROM ${DB}.notes WHERE tag = ? LIMIT 1`, [`t${int(5)}`]);
    } else if (r < 0.92) {
      await conn.beginTransaction();
      await conn.query(`INSERT INTO ${DB}.accounts (owner, balance) VALUES ('rolled back', 0)`);
      await conn.rollback();
    } else {
      await conn.beginTransaction();
      const rows = 2 + int(6);
      for (let j = 0; j < rows; j++) {
        await conn.query(`INSERT INTO ${DB}.ledger (src, dst, amount, memo) VALUES (0, 0, ?, 'batch')`, [j]);
      }
      await conn.query(`INSERT INTO ${DB}.notes (tag, body) VALUES ('batch', ?)`, [`rows ${rows}`]);
      await conn.commit();
    }
  }
  // DDL and rotations in the middle of the run
  if (round === 3) await conn.query(`ALTER TABLE ${DB}.accounts ADD COLUMN tier INT NOT NULL DEFAULT 1`);
  if (round === 4) await conn.query('FLUSH BINARY LOGS');
  if (round === 6) {
    await conn.query(`CREATE TABLE ${DB}.extra (k INT PRIMARY KEY, v VARCHAR(20))`);
    await conn.query(`INSERT INTO ${DB}.extra VALUES (1, 'one'), (2, 'two')`);
  }
  if (round === 8) {
    await conn.query(`UPDATE ${DB}.extra SET v = 'uno' WHERE k = 1`);
    await conn.query(`ALTER TABLE ${DB}.notes ADD COLUMN n INT NULL`);
    await conn.query('FLUSH BINARY LOGS');
  }
}

describe(`restore pitr --to 12 random times of a mixed workload (PITR_TEST_SEED=${SEED})`, () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let backupId: string;
  const snaps: Snapshot[] = [];
  const pathEnv = { PATH: `/usr/sbin:${process.env['PATH'] ?? ''}` };
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 120_000 });
  const restoreArgs = (): string[] => ['restore', 'pitr', '--repo', repo, '--target', target.url('admin')];
  const targetEnv = (): Record<string, string> => ({ MYSQL_PITR_TARGET_PASSWORD: target.admin.password });
  const emptyTarget = async (): Promise<void> => {
    await target.query(`DROP DATABASE IF EXISTS ${DB}`);
  };

  before(async () => {
    console.log(`# restore-random-times: PITR_TEST_SEED=${SEED}`);
    [source, target] = await Promise.all([
      startMariadb({ maxBinlogSize: '128K' }),
      startMariadb({ binlog: false }),
    ]);
    work = await mkdtemp(join(tmpdir(), 'pitr-random-times-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    const rand = prng(SEED);
    const conn = await source.connect();
    try {
      await conn.query(`CREATE DATABASE ${DB}`);
      await conn.query(
        `CREATE TABLE ${DB}.accounts (id INT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(32), balance INT NOT NULL)`,
      );
      await conn.query(
        `CREATE TABLE ${DB}.ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, src INT, dst INT, amount INT, memo VARCHAR(40))`,
      );
      await conn.query(`CREATE TABLE ${DB}.notes (tag VARCHAR(10), body VARCHAR(200))`);
      for (let i = 1; i <= 40; i++) {
        await conn.query(`INSERT INTO ${DB}.accounts (owner, balance) VALUES (?, 1000)`, [`seed${i}`]);
      }

      // the backup runs while the first round writes
      const backup = cli(['backup', 'create', '--source', source.url('admin'), '--repo', repo, '--json'], {
        MYSQL_PITR_SOURCE_PASSWORD: source.admin.password,
      });
      let backupDone = false;
      void backup.then(() => (backupDone = true));
      while (!backupDone) await writeRound(conn, rand, 0, 5);
      const b = await backup;
      assert.equal(b.code, 0, b.stderr);
      backupId = (JSON.parse(b.stdout) as { id: string }).id;

      for (let round = 0; round < ROUNDS; round++) {
        await writeRound(conn, rand, round, 10 + Math.floor(rand() * 150));
        const time = Date.now();
        snaps.push({ round, time, sums: await checksums(source) });
        // nothing may commit in the snapshot's second after it: resume in the next one
        const wait = (Math.floor(time / 1000) + 1) * 1000 + 50 - Date.now();
        if (wait > 0) await sleep(wait);
      }
      await writeRound(conn, rand, ROUNDS, 20); // the newest state is not a snapshot
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

  it('every snapshot is a different state, the schema changed on the way, and binlogs rotated', async () => {
    assert.equal(snaps.length, ROUNDS);
    const states = snaps.map((s) => JSON.stringify(s.sums));
    assert.equal(new Set(states).size, states.length, `seed ${SEED}`);
    assert.ok(!(`${DB}.extra` in snaps[0]!.sums) && `${DB}.extra` in snaps.at(-1)!.sums);
    const plan = await cli([
      'restore',
      'plan',
      '--repo',
      repo,
      '--to',
      utcText(snaps.at(-1)!.time),
      '--json',
    ]);
    assert.equal(plan.code, 0, plan.stderr);
    const p = JSON.parse(plan.stdout) as RestorePlan;
    assert.equal(p.backup.id, backupId);
    assert.ok(p.files.length >= 3, `rotations: ${p.files.map((f) => f.file).join(', ')}`);
  });

  it('restore pitr --to each snapshot time gives its checksums (JSON, plain and terminal progress)', async () => {
    const rand = prng(SEED ^ 0x5bd1e995);
    for (const [i, snap] of snaps.entries()) {
      await emptyTarget();
      // any instant from the snapshot to the end of its second is after its last commit and before the next
      const quiet = snap.time + Math.floor(rand() * (999 - (snap.time % 1000)));
      const form = i % 3;
      const to =
        form === 0 ? utcText(snap.time) : form === 1 ? new Date(quiet).toISOString() : zonedText(quiet);
      const what = `seed ${SEED}, round ${snap.round}, --to ${to}`;
      const output = i === 2 ? 'tty' : i === 5 ? 'tty-no-color' : i % 4 === 3 ? 'plain' : 'json';
      if (output === 'json') {
        const r = await cli([...restoreArgs(), '--to', to, '--json'], targetEnv());
        assert.equal(r.code, 0, `${what}: ${r.stderr}`);
        const { plan, report } = JSON.parse(r.stdout) as { plan: RestorePlan; report: RestoreReport };
        assert.deepEqual(await checksums(target), snap.sums, what);
        // progress: JSON lines on stderr, each phase ending with done === total
        const progress = r.stderr
          .split('\n')
          .filter((l) => l.startsWith('{"progress"'))
          .map((l) => (JSON.parse(l) as ProgressLine).progress);
        const last = (phase: string) => progress.filter((p) => p.phase === phase).at(-1);
        assert.deepEqual(
          [last('load')?.finished, last('load')?.done, last('load')?.total],
          [true, backupSize(plan.backup).size, backupSize(plan.backup).size],
          r.stderr,
        );
        assert.equal(last('download')?.finished, true, r.stderr);
        assert.equal(last('download')?.total, plan.bytes.binlogStored);
        const apply = last('apply');
        assert.equal(apply?.finished, true, r.stderr);
        assert.equal(apply?.done, apply?.total);
        assert.ok(apply!.total! > 0);
        assert.equal(apply?.transactions, report.transactionsApplied);
        assert.ok(progress.every((p) => p.done <= (p.total ?? Infinity) && (p.rate === null || p.rate >= 0)));
        for (const phase of ['load', 'download', 'apply']) {
          const done = progress.filter((p) => p.phase === phase).map((p) => p.done);
          assert.deepEqual(
            done,
            [...done].sort((a, b) => a - b),
            `${phase} progress only grows`,
          );
        }
      } else if (output === 'plain') {
        const r = await cli([...restoreArgs(), '--to', to], targetEnv());
        assert.equal(r.code, 0, `${what}: ${r.stderr}`);
        assert.deepEqual(await checksums(target), snap.sums, what);
        assert.doesNotMatch(r.stderr, /\x1b/, 'no escape codes off a terminal'); // eslint-disable-line no-control-regex
        assert.match(r.stderr, /^load {6}\S+ \S+ {2}100% {2}.*\/s {2}done in \d+:\d\d$/m);
        assert.match(r.stderr, /^download {2}\S+ \S+ {2}100% {2}.*\/s {2}done in \d+:\d\d$/m);
        assert.match(
          r.stderr,
          /^apply {5}\S+ \S+ {2}100% {2}.*\/s {2}\d+ trx {2}\d+ trx\/s {2}done in \d+:\d\d$/m,
        );
        // the report says where the time went
        assert.match(r.stdout, /^load \d+\.\d s, apply \d+\.\d s$/m);
        assert.match(r.stdout, /^ {2}apply {2}.* of binlog, \d+ trx in \d+\.\d s: .*\/s, \d+ trx\/s/m);
      } else {
        const env = { ...pathEnv, ...targetEnv(), ...(output === 'tty-no-color' ? { NO_COLOR: '1' } : {}) };
        const r = await runCliOnTerminal([...restoreArgs(), '--to', to], env);
        assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
        assert.deepEqual(await checksums(target), snap.sums, what);
        // bars redrawn in place: erase-line before each, cursor up over the previous drawing
        assert.match(r.stdout, /\r\x1b\[2Kload {6}\[/); // eslint-disable-line no-control-regex
        assert.match(r.stdout, /\r\x1b\[2Kapply {5}\[.*\d+ trx/); // eslint-disable-line no-control-regex
        assert.match(r.stdout, /\x1b\[\dA/); // eslint-disable-line no-control-regex
        assert.match(r.stdout, /apply {5}\[(\x1b\[32m)?#{24}(\x1b\[0m)?\] .*done in/); // eslint-disable-line no-control-regex
        if (output === 'tty')
          assert.match(r.stdout, /\[\x1b\[32m#+\x1b\[0m/); // eslint-disable-line no-control-regex
        else assert.doesNotMatch(r.stdout, /\x1b\[3\dm/); // eslint-disable-line no-control-regex
        assert.match(r.stdout, /restored backup .* transaction\(s\)/);
      }
    }
  });

  it('restore replica shows load progress, and the replica catches up to the source', async () => {
    await emptyTarget();
    const r = await cli(
      [
        'restore',
        'replica',
        '--repo',
        repo,
        '--target',
        target.url('admin'),
        '--primary',
        source.url('repl'),
        '--yes',
      ],
      { ...targetEnv(), MYSQL_PITR_PRIMARY_PASSWORD: source.repl.password },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\x1b/); // eslint-disable-line no-control-regex
    assert.match(r.stderr, /^load {6}\S+ \S+ {2}100% {2}.*\/s {2}done in \d+:\d\d$/m);
    assert.match(r.stdout, /^load \d+\.\d s: \S+ \S+ of SQL \(\S+ \S+ stored\) at \S+ \S+\/s$/m);
    const [{ p: want }] = (await source.query('SELECT @@gtid_binlog_pos AS p')) as [{ p: string }];
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [{ p }] = (await target.query('SELECT @@gtid_slave_pos AS p')) as [{ p: string }];
      if (p === want) break;
      assert.ok(Date.now() < deadline, `replica at ${p}, source at ${want}`);
      await sleep(200);
    }
    assert.deepEqual(await checksums(target), await checksums(source));
    await target.query('STOP SLAVE');
    await target.query('RESET SLAVE ALL');
  });

  it('--no-progress and --quiet print no progress', async () => {
    const snap = snaps[1]!;
    for (const flag of ['--no-progress', '--quiet']) {
      await emptyTarget();
      const r = await cli([...restoreArgs(), '--to', utcText(snap.time), flag], targetEnv());
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await checksums(target), snap.sums);
      assert.doesNotMatch(r.stderr, /done in|ETA/);
      if (flag === '--quiet') assert.doesNotMatch(r.stderr, /backup /);
      else assert.match(r.stderr, /backup /); // the plan is still shown
    }
  });
});
