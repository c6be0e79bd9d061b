/**
 * bench/rpo-archive.ts -- RPO of `mysql-pitr archive` under sustained writes, at default settings
 * (flush interval 400 ms with the idle flush, 64 MiB segments, zstd level 1).
 *
 * Starts a throwaway MariaDB (test/support/mariadb-server.ts) and the compiled CLI
 * (`node dist/src/cli/main.js archive`, follow mode) into a fresh file:// repository. RPO_CONNECTIONS
 * writers then commit small transactions (an INSERT of ~200 bytes, autocommit) at RPO_TPS in total
 * for RPO_SECONDS, each recording, with millisecond precision on the client, the wall-clock time
 * its COMMIT returned and its GTID (`@@last_gtid`). (MariaDB's own commit timestamps have 1 s
 * precision, hence the client clock.) Meanwhile the repository is polled every RPO_POLL_MS for new
 * segment objects; the fs store renames a finished object into place, so a key that appears is
 * durable. Each segment's header names its GTID range, which gives each transaction its durable
 * time. Prints `RESULT tool=rpo-archive` with p50 / p99 / max of commit-to-durable over every
 * transaction, and how many were never seen durable (must be 0).
 *
 * Usage:  npx tsc -p tsconfig.build.json && node --import tsx bench/rpo-archive.ts
 * Env:    RPO_TPS (default 1000), RPO_SECONDS (default 30), RPO_CONNECTIONS (default 4),
 *         RPO_POLL_MS (default 5), PITR_CLI (default dist/src/cli/main.js),
 *         RPO_ARGS (extra archive flags, e.g. "--flush-interval 500ms").
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { decodeSegmentHeader, type SegmentHeader } from '../src/catalog/index.js';
import { startMariadb } from '../test/support/mariadb-server.js';

const TPS = Number(process.env.RPO_TPS ?? 1000);
const SECONDS = Number(process.env.RPO_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.RPO_CONNECTIONS ?? 4);
const POLL_MS = Number(process.env.RPO_POLL_MS ?? 5);
const CLI = resolve(process.env.PITR_CLI ?? 'dist/src/cli/main.js');
const EXTRA = (process.env.RPO_ARGS ?? '').split(' ').filter(Boolean);

const work = await mkdtemp(join(tmpdir(), 'pitr-rpo-'));
const repo = join(work, 'repo');
const server = await startMariadb({ gtidDomainId: 0 });
let archiver: ReturnType<typeof spawn> | undefined;
try {
  await server.query('CREATE DATABASE rpo');
  await server.query(
    'CREATE TABLE rpo.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, w INT NOT NULL, pad VARCHAR(255) NOT NULL)',
  );
  archiver = spawn(
    process.execPath,
    [
      CLI,
      'archive',
      '--source',
      `mysql://${server.repl.user}@127.0.0.1:${server.port}`,
      '--repo',
      `file://${repo}`,
      '--log-level',
      'warn',
      ...EXTRA,
    ],
    {
      env: { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: server.repl.password },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  archiver.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 1 << 20) stderr = stderr.slice(-65536);
  });

  // segment key -> time it appeared; polled until the writers are done and the last one is seen
  const appeared = new Map<string, number>();
  const headers: { header: SegmentHeader; at: number }[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const base = join(repo, 'binlogs');
      const timelines = await readdir(base).catch(() => [] as string[]);
      for (const t of timelines) {
        for (const f of await readdir(join(base, t)).catch(() => [] as string[])) {
          for (const s of await readdir(join(base, t, f)).catch(() => [] as string[])) {
            if (!s.endsWith('.zst') || s.startsWith('.')) continue;
            const key = join(base, t, f, s);
            if (appeared.has(key)) continue;
            const at = Date.now();
            appeared.set(key, at);
            const fh = await open(key, 'r');
            try {
              const buf = Buffer.alloc(64 * 1024);
              const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
              headers.push({ header: decodeSegmentHeader(buf.subarray(0, bytesRead), key).header, at });
            } finally {
              await fh.close();
            }
          }
        }
      }
      await sleep(POLL_MS);
    }
  })();

  // wait for the archiver to store its first segment of the setup transactions
  const ready = Date.now();
  while (headers.length === 0) {
    if (Date.now() - ready > 30_000) throw new Error(`the archiver stored nothing in 30 s:\n${stderr}`);
    await sleep(20);
  }

  /** GTID sequence number -> client commit time. */
  const committed = new Map<number, number>();
  const pad = 'x'.repeat(200);
  const until = Date.now() + SECONDS * 1000;
  const perConnInterval = (1000 * CONNECTIONS) / TPS;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, w) => {
      const conn = await server.connect(server.admin, 'rpo');
      try {
        let next = Date.now() + (w * perConnInterval) / CONNECTIONS;
        while (Date.now() < until) {
          const wait = next - Date.now();
          if (wait > 0) await sleep(wait);
          next += perConnInterval;
          await conn.query('INSERT INTO t (w, pad) VALUES (?, ?)', [w, pad]);
          const at = Date.now();
          const [rows] = (await conn.query('SELECT @@last_gtid AS g')) as unknown as [{ g: string }[]];
          const seq = Number(rows[0]!.g.split('-')[2]);
          committed.set(seq, at);
        }
      } finally {
        await conn.end();
      }
    }),
  );
  // wait until the last transaction is durable (or 10 s)
  const maxSeq = Math.max(...committed.keys());
  const covered = (): boolean =>
    headers.some((h) => Object.values(h.header.gtids).some((r) => Number(r.last.split('-')[2]) >= maxSeq));
  const endWait = Date.now();
  while (!covered() && Date.now() - endWait < 10_000) await sleep(20);
  polling = false;
  await poll;

  const lags: number[] = [];
  let missing = 0;
  const durableAt = new Map<number, number>();
  for (const { header, at } of headers) {
    for (const r of Object.values(header.gtids)) {
      const first = Number(r.first.split('-')[2]);
      const last = Number(r.last.split('-')[2]);
      for (let s = first; s <= last; s++) if (!durableAt.has(s)) durableAt.set(s, at);
    }
  }
  for (const [seq, at] of committed) {
    const d = durableAt.get(seq);
    if (d === undefined) missing += 1;
    else lags.push(d - at);
  }
  lags.sort((a, b) => a - b);
  const q = (p: number): number =>
    lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] ?? NaN;
  console.log(
    `RESULT tool=rpo-archive tps_target=${TPS} seconds=${SECONDS} connections=${CONNECTIONS} ` +
      `transactions=${committed.size} achieved_tps=${(committed.size / SECONDS).toFixed(0)} segments=${headers.length - 1} ` +
      `p50_ms=${q(50)} p90_ms=${q(90)} p99_ms=${q(99)} max_ms=${lags.at(-1)} min_ms=${lags[0]} ` +
      `never_durable=${missing} poll_ms=${POLL_MS}`,
  );
} finally {
  if (archiver?.pid !== undefined && archiver.exitCode === null) {
    archiver.kill('SIGTERM');
    await new Promise((r) => archiver!.once('exit', r));
  }
  await server.stop();
  await rm(work, { recursive: true, force: true });
}
