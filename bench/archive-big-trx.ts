/**
 * bench/archive-big-trx.ts -- peak memory of `mysql-pitr archive` on one very large transaction.
 *
 * Starts a throwaway MariaDB (test/support/mariadb-server.ts), writes BIG_TRX_MB (default 1024) MiB
 * of row events in ONE transaction (INSERT ... SELECT from the sequence engine, rows of about 1 KiB
 * of hex text that zstd -1 shrinks about 2x), rotates the binlog, then runs the compiled CLI
 * (`node dist/src/cli/main.js archive --until-caught-up`) under `/usr/bin/time -v` into a fresh
 * file:// repository, and checks with `binlog fetch --all` that every closed binlog comes back byte
 * for byte. Prints one `RESULT` line: peak RSS, wall time, MiB/s, stored bytes, segments.
 *
 * Usage:  npx tsc -p tsconfig.build.json && node --import tsx bench/archive-big-trx.ts
 * Env:    BIG_TRX_MB (default 1024), SEGMENT_SIZE (default 64MiB; a comma-separated list runs the
 *         archiver once per size on the same binlogs), NODE_FLAGS (node flags for the CLI), PITR_CLI (default
 *         dist/src/cli/main.js: point it at another build to compare; a comma-separated list runs each
 *         build in turn on the same binlogs), ROUNDS (default 1: repeat the whole list, interleaved),
 *         KEEP_WORK=1 keeps the temp dir.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { startMariadb } from '../test/support/mariadb-server.js';

const run = promisify(execFile);
const MB = Number(process.env.BIG_TRX_MB ?? 1024);
const SEGMENT_SIZES = (process.env.SEGMENT_SIZE ?? '64MiB').split(',');
const NODE_FLAGS = (process.env.NODE_FLAGS ?? '').split(' ').filter(Boolean);
const CLIS = (process.env.PITR_CLI ?? 'dist/src/cli/main.js').split(',').map((c) => resolve(c));
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const ROW = 1000; // bytes of payload per row

const work = await mkdtemp(join(tmpdir(), 'pitr-bigtrx-'));
const server = await startMariadb({
  maxBinlogSize: '1G',
  extraArgs: ['--binlog-cache-size=1M', '--innodb-buffer-pool-size=256M', '--innodb-log-file-size=512M'],
});
try {
  await server.query('CREATE DATABASE big');
  await server.query('CREATE TABLE big.t (id BIGINT PRIMARY KEY, pad VARCHAR(1024) NOT NULL) ENGINE=InnoDB');
  await server.query('FLUSH BINARY LOGS');
  const rows = Math.ceil((MB * 1024 * 1024) / (ROW + 30));
  const t0 = Date.now();
  const conn = await server.connect(server.admin, 'big');
  try {
    await conn.query('START TRANSACTION');
    // 31 md5 hex strings (32 bytes each) + id: hex text, about 2x compressible like real row data
    const pad = `CONCAT(${Array.from({ length: 31 }, (_, i) => `MD5(seq * ${i + 7})`).join(', ')})`;
    await conn.query(`INSERT INTO big.t SELECT seq, LEFT(${pad}, ${ROW}) FROM seq_1_to_${rows}`);
    await conn.query('COMMIT');
  } finally {
    await conn.end();
  }
  await server.query('FLUSH BINARY LOGS');
  const logs = await server.query<{ Log_name: string; File_size: number }[]>('SHOW BINARY LOGS');
  const total = logs.reduce((a, l) => a + Number(l.File_size), 0);
  console.error(
    `wrote ${rows} rows in one transaction in ${((Date.now() - t0) / 1000).toFixed(1)} s; binlogs ${(total / 1048576).toFixed(0)} MiB`,
  );

  const runs = Array.from({ length: ROUNDS }, () =>
    CLIS.flatMap((cli) => SEGMENT_SIZES.map((segmentSize) => ({ cli, segmentSize }))),
  ).flat();
  for (const { cli: CLI, segmentSize } of runs) {
    const repo = join(work, `repo-${segmentSize}`);
    await rm(repo, { recursive: true, force: true });
    const env = { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: server.repl.password };
    const timed = await run(
      '/usr/bin/time',
      [
        '-v',
        process.execPath,
        ...NODE_FLAGS,
        CLI,
        'archive',
        '--source',
        `mysql://${server.repl.user}@127.0.0.1:${server.port}`,
        '--repo',
        `file://${repo}`,
        '--until-caught-up',
        '--segment-size',
        segmentSize,
        '--log-level',
        'warn',
      ],
      { env, maxBuffer: 64 << 20 },
    );
    const field = (name: string): string =>
      new RegExp(`${name}: (.*)`).exec(timed.stderr)?.[1]?.trim() ?? 'n/a';
    const rssMiB = Number(field('Maximum resident set size \\(kbytes\\)')) / 1024;
    const [m, s] = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)').split(':').map(Number);
    const seconds = (m ?? 0) * 60 + (s ?? 0);
    const segments = timed.stderr.split('\n').filter((l) => l.includes('"_aws"')).length;

    // every closed file comes back byte for byte
    const out = join(work, `fetched-${segmentSize}`);
    await rm(out, { recursive: true, force: true });
    await run(process.execPath, [CLI, 'binlog', 'fetch', '--all', '--dest', out, '--repo', `file://${repo}`]);
    let mismatched = 0;
    for (const l of logs.slice(0, -1)) {
      const a = await readFile(join(server.binlogDir, l.Log_name));
      const b = await readFile(join(out, l.Log_name)).catch(() => Buffer.alloc(0));
      if (!a.equals(b)) mismatched += 1;
    }
    let stored = 0;
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else stored += (await readFile(join(d, e.name))).length;
      }
    };
    await walk(join(repo, 'binlogs'));
    console.log(
      `RESULT tool=archive-big-trx cli=${CLI} binlog_mb=${(total / 1048576).toFixed(0)} segment_size=${segmentSize} ` +
        `peak_rss_mb=${rssMiB.toFixed(0)} seconds=${seconds.toFixed(2)} mb_per_s=${(total / 1048576 / seconds).toFixed(0)} ` +
        `user_s=${field('User time \\(seconds\\)')} sys_s=${field('System time \\(seconds\\)')} ` +
        `stored_mb=${(stored / 1048576).toFixed(1)} ratio=${(total / stored).toFixed(2)} segments=${segments} ` +
        `mismatched_files=${mismatched}`,
    );
    await rm(out, { recursive: true, force: true });
  }
} finally {
  await server.stop();
  if (!process.env.KEEP_WORK) await rm(work, { recursive: true, force: true });
}
