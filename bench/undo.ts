/**
 * bench/undo.ts -- time of `mysql-pitr undo` reversing one 10,000-row DELETE (target < 5 s).
 *
 * Starts a throwaway MariaDB (test/support/mariadb-server.ts), fills `bench.orders` with ROWS rows
 * (default 10000; id, customer, amount DECIMAL, note VARCHAR(64), created DATETIME(6)), records its
 * CHECKSUM TABLE, runs `DELETE FROM bench.orders` in one transaction, archives the binlog
 * (`archive --until-caught-up`, untimed), then times `mysql-pitr undo --gtid GTID --yes` as a child
 * process from start to exit (archive read + decode + row checks + inverse INSERTs + COMMIT; PITR_CMD,
 * the compiled build from bench/lib.sh) and checks that the checksum is back; then the same undo once
 * more in this process (executeUndo, no CLI start-up). Prints
 * `RESULT undo_rows=N undo_seconds=S undo_in_process_seconds=S checksum_ok=1 load_average=L`.
 *
 * Usage:  bash bench/undo.sh   (or: node --import tsx bench/undo.ts)
 * Env:    ROWS (default 10000), KEEP_WORK=1 keeps the temp dir.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectMysql } from '../src/mysql/index.js';
import { openObjectStore } from '../src/storage/index.js';
import { executeUndo } from '../src/undo/index.js';
import { startMariadb } from '../test/support/mariadb-server.js';
import { runCli } from '../test/support/run-cli.js';

const rows = Number(process.env.ROWS ?? 10_000);
const server = await startMariadb();
const work = await mkdtemp(join(tmpdir(), 'bench-undo-'));
const repo = pathToFileURL(join(work, 'repo')).href;
const env = {
  PATH: `/usr/sbin:${process.env.PATH ?? ''}`,
  MYSQL_PITR_TARGET_PASSWORD: server.admin.password,
  MYSQL_PITR_SOURCE_PASSWORD: server.repl.password,
};
try {
  await server.query('CREATE DATABASE bench');
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
  await server.query('DELETE FROM bench.orders');
  const [g] = await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
  const archived = await runCli(
    ['archive', '--source', server.url('repl'), '--repo', repo, '--until-caught-up', '--log-level', 'warn'],
    { env },
  );
  assert.equal(archived.code, 0, archived.stderr);
  // The CLI as the other benchmarks run it (bench/lib.sh: the compiled dist/ build when present).
  const [bin, ...pre] = (process.env.PITR_CMD ?? 'node --import tsx src/cli/main.ts').split(' ');
  const t0 = process.hrtime.bigint();
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      bin!,
      [...pre, 'undo', '--repo', repo, '--target', server.url('admin'), '--gtid', g!.p, '--yes'],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        err && typeof err.code !== 'number'
          ? reject(err)
          : resolve({ code: err ? (err.code as number) : 0, stdout, stderr }),
    );
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  assert.equal(r.code, 0, r.stderr);
  const ok = (await sum()) === before;
  // The same undo in this process (no CLI start-up): delete the rows again, archive, undo.
  await server.query('DELETE FROM bench.orders');
  const [g2] = await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
  const again = await runCli(
    ['archive', '--source', server.url('repl'), '--repo', repo, '--until-caught-up', '--log-level', 'warn'],
    { env },
  );
  assert.equal(again.code, 0, again.stderr);
  const conn = await connectMysql({ host: server.host, port: server.port, ...server.admin });
  const t1 = process.hrtime.bigint();
  const report = await executeUndo(
    { gtids: [g2!.p] },
    { store: openObjectStore(repo), conn },
    { dryRun: false },
  );
  const core = Number(process.hrtime.bigint() - t1) / 1e9;
  await conn.end();
  const ok2 = report.rowsChanged === rows && (await sum()) === before;
  process.stdout.write(
    `${r.stdout}RESULT undo_rows=${rows} undo_seconds=${seconds.toFixed(2)} undo_in_process_seconds=${core.toFixed(2)} ` +
      `checksum_ok=${ok && ok2 ? 1 : 0} load_average=${(await import('node:os')).loadavg()[0]!.toFixed(1)}\n`,
  );
  if (!ok || !ok2) process.exitCode = 1;
} finally {
  await server.stop();
  if (process.env.KEEP_WORK !== '1') await rm(work, { recursive: true, force: true });
}
