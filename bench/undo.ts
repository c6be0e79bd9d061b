/**
 * bench/undo.ts -- time of `mysql-pitr undo` reversing one 10,000-row DELETE (target < 5 s).
 *
 * Starts a throwaway MariaDB (test/support/mariadb-server.ts), writes PRE_MB MiB of unrelated history
 * (default 64: `bench.filler`, 1,000-row transactions, in several binlog files of 16 MiB), fills
 * `bench.orders` with ROWS rows (default 10000; id, customer, amount DECIMAL, note VARCHAR(64),
 * created DATETIME(6)), records its CHECKSUM TABLE, runs `DELETE FROM bench.orders` in one
 * transaction, archives the binlog (`archive --until-caught-up`, untimed), then REPEAT times (default
 * 3) times `mysql-pitr undo --gtid GTID --yes --json` as a child process from start to exit (PITR_CMD,
 * the compiled build from bench/lib.sh), checks that the checksum is back, and deletes the rows again
 * with sql_log_bin=0 for the next run. Per run it prints the phases from the report: read (catalog,
 * segments, row images), plan, check, apply, and the rest of the wall time (process start, module
 * loading, connecting, exit). Then it times `undo --help` (start-up and module loading alone) and
 * `timeline search --table bench.orders` over the whole archive and with `--from` just before the
 * DELETE. Prints one `RESULT` line:
 * `RESULT undo_rows=N undo_seconds=S(median) undo_runs=S,S,S read= plan= check= apply= startup=
 *  segments_read=R/T search_all_seconds= search_from_seconds= checksum_ok=1 load_average=L`.
 *
 * Usage:  bash bench/undo.sh   (or: node --import tsx bench/undo.ts)
 * Env:    ROWS (default 10000), PRE_MB (default 64), REPEAT (default 3), CPU_PROF=DIR (node --cpu-prof
 *         for each undo run), KEEP_WORK=1 keeps the temp dir.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb } from '../test/support/mariadb-server.js';
import { runCli } from '../test/support/run-cli.js';

const rows = Number(process.env.ROWS ?? 10_000);
const preMb = Number(process.env.PRE_MB ?? 64);
const repeat = Number(process.env.REPEAT ?? 3);
const server = await startMariadb({ maxBinlogSize: '16M' });
const work = await mkdtemp(join(tmpdir(), 'bench-undo-'));
const repo = pathToFileURL(join(work, 'repo')).href;
const env = {
  PATH: `/usr/sbin:${process.env.PATH ?? ''}`,
  MYSQL_PITR_TARGET_PASSWORD: server.admin.password,
  MYSQL_PITR_SOURCE_PASSWORD: server.repl.password,
};
// The CLI as the other benchmarks run it (bench/lib.sh: the compiled dist/ build when present).
const [bin, ...pre] = (process.env.PITR_CMD ?? 'node --import tsx src/cli/main.ts').split(' ');
const cli = (
  args: string[],
  nodeFlags: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> => {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    execFile(
      bin!,
      [...nodeFlags, ...pre, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) =>
        err && typeof err.code !== 'number'
          ? reject(err)
          : resolve({
              code: err ? (err.code as number) : 0,
              stdout,
              stderr,
              seconds: Number(process.hrtime.bigint() - t0) / 1e9,
            }),
    );
  });
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f2 = (x: number): string => x.toFixed(2);
try {
  await server.query('CREATE DATABASE bench');
  await server.query('CREATE TABLE bench.filler (id INT PRIMARY KEY, pad VARCHAR(1000))');
  // About 1 MiB of binlog per 1,000-row transaction.
  for (let i = 0; i < preMb; i++) {
    await server.query(
      `INSERT INTO bench.filler SELECT seq + ${i * 1000}, REPEAT('p', 1000) FROM bench.seq_1_to_1000`,
    );
  }
  await server.query(
    'CREATE TABLE bench.orders (id INT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(12,2), ' +
      'note VARCHAR(64), created DATETIME(6)) DEFAULT CHARSET = utf8mb4',
  );
  await server.query(
    `INSERT INTO bench.orders SELECT seq, seq % 977, seq * 1.25, CONCAT('order note ', seq), ` +
      `'2026-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL seq MICROSECOND FROM bench.seq_1_to_${rows}`,
  );
  const sum = async (): Promise<string> =>
    String((await server.query<{ Checksum: string }[]>('CHECKSUM TABLE bench.orders'))[0]!.Checksum);
  const before = await sum();
  await new Promise((r) => setTimeout(r, 1100 - (Date.now() % 1000)));
  const deletedFrom = new Date(Date.now() - 1000).toISOString();
  await server.query('DELETE FROM bench.orders');
  const [g] = await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
  const archived = await runCli(
    ['archive', '--source', server.url('repl'), '--repo', repo, '--until-caught-up', '--log-level', 'warn'],
    { env },
  );
  assert.equal(archived.code, 0, archived.stderr);

  const walls: number[] = [];
  const phases: { read: number; plan: number; check: number; apply: number; rest: number }[] = [];
  let reading = { segmentsRead: 0, segmentsInTimeline: 0 };
  let ok = true;
  for (let i = 0; i < repeat; i++) {
    const prof = process.env.CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF}`] : [];
    const r = await cli(
      ['undo', '--repo', repo, '--target', server.url('admin'), '--gtid', g!.p, '--yes', '--json'],
      prof,
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      rowsChanged: number;
      seconds?: { read: number; plan: number; check: number; apply: number };
      reading?: { segmentsRead: number; segmentsInTimeline: number };
    };
    ok &&= report.rowsChanged === rows && (await sum()) === before;
    // A build before phase timings (a baseline run) has no `seconds`: its phases count as NaN.
    const t = report.seconds ?? { read: NaN, plan: NaN, check: NaN, apply: NaN };
    walls.push(r.seconds);
    phases.push({ ...t, rest: r.seconds - t.read - t.plan - t.check - t.apply });
    reading = report.reading ?? reading;
    process.stderr.write(
      `run ${i + 1}: ${f2(r.seconds)} s (read ${f2(t.read)}, plan ${f2(t.plan)}, check ${f2(t.check)}, apply ${f2(t.apply)}, ` +
        `start-up/connect/exit ${f2(phases.at(-1)!.rest)}) load ${loadavg()[0]!.toFixed(1)}\n`,
    );
    // Back to the state the DELETE left, unlogged, for the next run.
    await server.query('SET sql_log_bin = 0');
    await server.query('DELETE FROM bench.orders');
    await server.query('SET sql_log_bin = 1');
  }
  const helps: number[] = [];
  for (let i = 0; i < repeat; i++) helps.push((await cli(['undo', '--help'])).seconds);
  const searchAll = await cli(['timeline', 'search', '--repo', repo, '--table', 'bench.orders']);
  assert.equal(searchAll.code, 0, searchAll.stderr);
  const searchFrom = await cli([
    'timeline',
    'search',
    '--repo',
    repo,
    '--table',
    'bench.orders',
    '--from',
    deletedFrom,
  ]);
  assert.equal(searchFrom.code, 0, searchFrom.stderr);
  ok &&= searchFrom.stdout.includes(g!.p);
  process.stderr.write(
    `timeline search (all): ${searchAll.stderr.trim()}\ntimeline search --from: ${searchFrom.stderr.trim()}\n`,
  );
  const m = (k: keyof (typeof phases)[number]): string => f2(median(phases.map((p) => p[k])));
  process.stdout.write(
    `RESULT undo_rows=${rows} undo_seconds=${f2(median(walls))} undo_runs=${walls.map(f2).join(',')} ` +
      `read=${m('read')} plan=${m('plan')} check=${m('check')} apply=${m('apply')} rest=${m('rest')} ` +
      `startup=${f2(median(helps))} segments_read=${reading.segmentsRead}/${reading.segmentsInTimeline} ` +
      `search_all_seconds=${f2(searchAll.seconds)} search_from_seconds=${f2(searchFrom.seconds)} ` +
      `checksum_ok=${ok ? 1 : 0} load_average=${loadavg()[0]!.toFixed(1)}\n`,
  );
  if (!ok) process.exitCode = 1;
} finally {
  await server.stop();
  if (process.env.KEEP_WORK !== '1') await rm(work, { recursive: true, force: true });
}
