/**
 * `mysql-pitr binlog compact` end to end: a real MariaDB under load with FLUSH BINARY LOGS, archived
 * with tiny segments (so closed files have many), compacted by the real CLI on a file:// repository
 * and on the S3 emulator. Checks that `binlog fetch --all` stays byte-identical to the source, the
 * object count drops, the active file is untouched, and that kill -9 of the compaction at several
 * points (test hook MYSQL_PITR_TEST_COMPACT_CRASH_AFTER: SIGKILL after the N-th repository write)
 * leaves a repository every reader handles, which a re-run finishes. Then verify, restore plan and
 * expire on the compacted repository.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { cliCommand, runCli, PROJECT_ROOT, type CliResult } from '../support/run-cli.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { LOG_EVENT_BINLOG_IN_USE_F } from '../../src/binlog/event-header.js';
import { IN_USE_FLAG_OFFSET } from '../support/binlog-compare.js';
import { runJob, jobMarkerKeys, type ResolvedJob } from '../../src/jobs/index.js';
import { silentLogger } from '../../src/log/index.js';
import { productionJobFunctions } from '../../lambdas/job-functions.js';

const COMPACTED = /\/\d{20}-\d{20}\.zst$/;
const PLAIN = /\/\d{20}\.zst$/;

interface CompactJson {
  dryRun: boolean;
  objectsBefore: number;
  objectsAfter: number;
  storedBytesBefore: number;
  storedBytesAfter: number;
  files: { timeline: string; file: string; objectsBefore: number; objectsAfter: number; written: number }[];
}

async function binlogKeys(store: ObjectStore): Promise<string[]> {
  const keys: string[] = [];
  // segments and compacted objects (not the per-file index.json: test/unit/catalog-file-index.test.ts)
  for await (const o of store.list('binlogs/')) if (o.key.endsWith('.zst')) keys.push(o.key);
  return keys;
}

const fileOf = (key: string): string => key.split('/')[2]!;

describe('mysql-pitr binlog compact (real CLI, real MariaDB, file:// and the S3 emulator)', () => {
  let server: MariadbServer;
  let s3: S3Emulator;
  let work: string;
  let base: string;
  let s3Repo: string;
  let s3Store: ObjectStore;
  let binlogs: { name: string; data: Buffer }[];
  const s3Env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const cli = (repo: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const s3Args = repo.startsWith('s3://') ? ['--s3-endpoint', s3.endpoint, '--region', s3.region] : [];
    return runCli([...args, '--repo', repo, ...s3Args], {
      env: { ...s3Env, PATH: `/usr/sbin:${process.env.PATH ?? ''}`, ...env },
    });
  };
  const ok = async (repo: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const r = await cli(repo, args, env);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const compact = async (repo: string, extra: string[] = []): Promise<CompactJson> =>
    JSON.parse((await ok(repo, ['binlog', 'compact', '--json', ...extra])).stdout) as CompactJson;

  /** `binlog fetch --all` reproduces every source binlog (the active one but its in-use bit). */
  const assertFetchIdentical = async (repo: string): Promise<void> => {
    const dest = await mkdtemp(join(work, 'fetch-'));
    await ok(repo, ['binlog', 'fetch', '--all', '--dest', dest]);
    const fetched = (await readdir(dest)).sort();
    assert.deepEqual(
      fetched,
      binlogs.map((b) => b.name),
    );
    for (const [i, b] of binlogs.entries()) {
      const copy = await readFile(join(dest, b.name));
      if (i < binlogs.length - 1) {
        assert.ok(copy.equals(b.data), `${b.name} is byte-identical`);
      } else {
        assert.equal(copy.length, b.data.length, `active ${b.name} length`);
        const flipped = Buffer.from(copy);
        if (flipped[IN_USE_FLAG_OFFSET] !== b.data[IN_USE_FLAG_OFFSET]) {
          flipped[IN_USE_FLAG_OFFSET] = flipped[IN_USE_FLAG_OFFSET]! ^ LOG_EVENT_BINLOG_IN_USE_F;
        }
        assert.ok(flipped.equals(b.data), `active ${b.name} equal but for its in-use bit`);
      }
    }
    await rm(dest, { recursive: true, force: true });
  };
  const assertVerifies = async (repo: string): Promise<void> => {
    const r = await cli(repo, ['verify', '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; problems: { message: string }[] };
    assert.deepEqual(
      report.problems.map((p) => p.message),
      [],
    );
    assert.equal(r.code, 0, r.stderr);
  };
  /** A private copy of the archived (not yet compacted) file:// repository. */
  const copyOfBase = async (name: string): Promise<{ repo: string; store: ObjectStore }> => {
    const dir = join(work, name);
    await cp(base, dir, { recursive: true });
    return { repo: `file://${dir}`, store: openObjectStore(`file://${dir}`) };
  };

  const readSourceBinlogs = async (): Promise<void> => {
    const logs = await server.query<{ Log_name: string }[]>('SHOW BINARY LOGS');
    binlogs = [];
    for (const l of logs)
      binlogs.push({ name: l.Log_name, data: await readFile(join(server.binlogDir, l.Log_name)) });
  };

  before(async () => {
    [server, s3] = await Promise.all([startMariadb({ maxBinlogSize: '1M' }), startS3Emulator()]);
    work = await mkdtemp(join(tmpdir(), 'pitr-compact-'));
    base = join(work, 'base');
    s3Repo = `s3://${s3.bucket}/pitr/db1`;
    s3Store = openObjectStore(s3Repo, {
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: s3.credentials,
    });
    const conn = await server.connect();
    try {
      await runWorkload(conn, { seed: 1, database: 'wa', transactions: 200, bigTransactions: 0 });
      await conn.query('FLUSH BINARY LOGS');
      for (const repo of [`file://${base}`, s3Repo]) {
        await ok(repo, ['backup', 'create', '--source', server.url(server.admin.user)], {
          MYSQL_PITR_SOURCE_PASSWORD: server.admin.password,
        });
      }
      await runWorkload(conn, {
        seed: 2,
        database: 'wb',
        transactions: 500,
        bigTransactions: 1,
        bigTransactionBytes: 300_000,
        flushBinaryLogsAt: [0.3, 0.6],
      });
    } finally {
      await conn.end();
    }
    for (const [repo, size] of [
      [`file://${base}`, '4KiB'],
      [s3Repo, '16KiB'],
    ] as const) {
      await ok(
        repo,
        ['archive', '--source', server.url('repl'), '--until-caught-up', '--segment-size', size],
        {
          MYSQL_PITR_SOURCE_PASSWORD: server.repl.password,
        },
      );
    }
    const logs = await server.query<{ Log_name: string }[]>('SHOW BINARY LOGS');
    binlogs = [];
    for (const l of logs)
      binlogs.push({ name: l.Log_name, data: await readFile(join(server.binlogDir, l.Log_name)) });
    assert.ok(binlogs.length >= 4, `several binlog files (${binlogs.length})`);
  });

  after(async () => {
    await Promise.all([server?.stop(), s3?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('compacts every closed file into one object, leaves the active file alone, and fetch stays byte-identical (file://)', async () => {
    const { repo, store } = await copyOfBase('plain');
    const before = await binlogKeys(store);
    const active = binlogs.at(-1)!.name;
    const activeBefore = before.filter((k) => fileOf(k) === active);
    assert.ok(before.filter((k) => fileOf(k) !== active).length > 50, 'closed files have many segments');

    const recent = JSON.parse(
      (await ok(repo, ['binlog', 'compact', '--older-than', '1h', '--json'])).stdout,
    ) as CompactJson & { tooRecent: number };
    assert.deepEqual(
      [recent.files.length, recent.tooRecent],
      [0, binlogs.length - 1],
      '--older-than 1h: all too recent',
    );
    assert.deepEqual(await binlogKeys(store), before);

    const dry = await compact(repo, ['--dry-run']);
    assert.equal(dry.dryRun, true);
    assert.deepEqual(await binlogKeys(store), before, 'a dry run changes nothing');
    assert.equal(dry.files.length, binlogs.length - 1);
    assert.equal(dry.objectsAfter, activeBefore.length + binlogs.length - 1);

    // one compaction at a time: a live holder of locks/compact.json makes a second one exit 7
    const now = Date.now();
    await store.put(
      'locks/compact.json',
      Buffer.from(
        JSON.stringify({
          format: 1,
          owner: 'other',
          host: hostname(),
          pid: process.pid,
          source: 'binlog compact',
          acquiredAt: new Date(now).toISOString(),
          renewedAt: new Date(now).toISOString(),
          expiresAt: new Date(now + 60_000).toISOString(),
        }),
      ),
    );
    const locked = await cli(repo, ['binlog', 'compact']);
    assert.equal(locked.code, 7, locked.stderr);
    assert.match(locked.stderr, /another `mysql-pitr binlog compact` is running/);
    await store.delete(['locks/compact.json']);
    assert.deepEqual(await binlogKeys(store), before, 'the locked-out run changed nothing');

    const done = await compact(repo);
    assert.equal(done.objectsBefore, before.length);
    assert.equal(done.objectsAfter, activeBefore.length + binlogs.length - 1);
    assert.deepEqual(
      done.files.map((f) => f.file),
      binlogs.slice(0, -1).map((b) => b.name),
    );
    const after = await binlogKeys(store);
    assert.equal(after.length, done.objectsAfter);
    for (const b of binlogs.slice(0, -1)) {
      const keys = after.filter((k) => fileOf(k) === b.name);
      assert.equal(keys.length, 1, `${b.name}: one object`);
      assert.match(keys[0]!, COMPACTED);
      assert.ok(keys[0]!.endsWith(`-${String(b.data.length).padStart(20, '0')}.zst`), `${b.name} whole`);
    }
    assert.deepEqual(
      after.filter((k) => fileOf(k) === active),
      activeBefore,
      'the active file is untouched',
    );
    assert.ok(done.storedBytesAfter < done.storedBytesBefore, 'fewer stored bytes');
    await assertFetchIdentical(repo);
    await assertVerifies(repo);

    // list shows one object per closed file, no holes
    const list = JSON.parse((await ok(repo, ['binlog', 'list', '--json'])).stdout) as unknown;
    assert.match(JSON.stringify(list), /"segments":1\b/);
    // a second run has nothing to do
    const again = await compact(repo);
    assert.equal(again.files.length, 0);
    assert.equal(again.objectsAfter, again.objectsBefore);
  });

  it('survives kill -9 at several points: readers stay correct and a re-run finishes the job (file://)', async () => {
    const { store: probe } = await copyOfBase('probe');
    const keys = await binlogKeys(probe);
    const first = keys.filter((k) => fileOf(k) === binlogs[0]!.name).length;
    // writes: 1 lease put, then per file one merged put and one delete per input
    const points = [
      { n: 2, what: 'after the first merged object is written' },
      { n: 3, what: 'after its first input is deleted' },
      { n: 2 + Math.floor(first / 2), what: 'half way through deleting its inputs' },
      { n: 2 + first + 1, what: "after the second file's merged object is written" },
    ];
    for (const [i, p] of points.entries()) {
      const { repo, store } = await copyOfBase(`crash-${i}`);
      const crashed = await cli(repo, ['binlog', 'compact'], {
        MYSQL_PITR_TEST_COMPACT_CRASH_AFTER: String(p.n),
      });
      assert.equal(crashed.signal, 'SIGKILL', `killed ${p.what}: ${crashed.stderr}`);
      const mid = await binlogKeys(store);
      assert.ok(
        mid.some((k) => COMPACTED.test(k)),
        `a merged object exists ${p.what}`,
      );
      assert.ok(
        mid.some((k) => PLAIN.test(k) && fileOf(k) === binlogs[0]!.name) || p.n > 2 + first,
        `covered segments remain ${p.what}`,
      );
      await assertFetchIdentical(repo);
      await assertVerifies(repo);
      // the re-run takes over the dead run's lease at once (same host, process gone) and finishes
      const done = await compact(repo);
      assert.ok(done.files.length > 0);
      const final = await binlogKeys(store);
      for (const b of binlogs.slice(0, -1)) {
        assert.deepEqual(
          final.filter((k) => fileOf(k) === b.name).map((k) => COMPACTED.test(k)),
          [true],
          `${b.name} is one merged object after the re-run (${p.what})`,
        );
      }
      await assertFetchIdentical(repo);
    }
  });

  it('restore plan, verify and expire work on a compacted repository (file://)', async () => {
    const { repo, store } = await copyOfBase('expire');
    await compact(repo);
    const plan = await ok(repo, ['restore', 'plan', '--to', 'latest', '--json']);
    assert.match(plan.stdout, /\d{20}-\d{20}\.zst/, 'the plan reads merged objects');
    // and a real restore applies them: the target ends with the source's tables
    const target = await startMariadb();
    try {
      await ok(repo, ['restore', 'pitr', '--target', target.url('admin'), '--to', 'latest'], {
        MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
      });
      const tables = await server.query<{ t: string }[]>(
        "SELECT CONCAT(table_schema, '.', table_name) AS t FROM information_schema.tables " +
          "WHERE table_schema IN ('wa', 'wb') AND table_type = 'BASE TABLE' ORDER BY 1",
      );
      assert.ok(tables.length >= 2);
      const sql = `CHECKSUM TABLE ${tables.map((r) => r.t).join(', ')}`;
      assert.deepEqual(await target.query(sql), await server.query(sql), 'table checksums match the source');
    } finally {
      await target.stop();
    }
    const dry = await ok(repo, ['expire', '--keep-backups', '1', '--dry-run', '--json']);
    const planned = JSON.parse(dry.stdout) as { plan: { expireBinlogs: { segments: { key: string }[] }[] } };
    const expiring = planned.plan.expireBinlogs.flatMap((t) => t.segments.map((s) => s.key));
    // the backup was taken after FLUSH BINARY LOGS: the first file (now one merged object) goes
    assert.deepEqual(
      expiring.map((k) => [fileOf(k), COMPACTED.test(k)]),
      [[binlogs[0]!.name, true]],
    );
    await ok(repo, ['expire', '--keep-backups', '1']);
    assert.ok(!(await binlogKeys(store)).some((k) => fileOf(k) === binlogs[0]!.name));
    await assertVerifies(repo);
  });

  it('runs as the scheduled compact job (production job functions, runJob markers)', async () => {
    const { repo, store } = await copyOfBase('job');
    const before = await binlogKeys(store);
    const scheduledAt = '2026-11-25T05:00:00Z';
    const job: ResolvedJob = {
      schema: 'mysql-pitr/job@2',
      kind: 'compact',
      cluster: 'db1',
      idempotencyKey: `db1/compact/${scheduledAt}`,
      scheduledAt,
      trigger: 'schedule',
      repository: 's3://unused/db1/',
      source: { url: server.url('repl'), flavour: 'mariadb' },
      credentials: { secret: 'unused', passwordKey: 'password' },
      retention: { keepDays: 14, keepBackups: 7 },
      tls: { mode: 'preferred' },
    };
    const metrics: string[] = [];
    const deps = {
      repository: store,
      functions: productionJobFunctions({}, () => Promise.reject(new Error('compaction needs no password'))),
      log: silentLogger,
      metrics: (line: string) => metrics.push(line),
      now: () => new Date(),
      leaseSeconds: 900,
      owner: 'test',
    };
    const res = await runJob(job, deps);
    assert.equal(res.status, 'succeeded');
    assert.equal(res.outcome?.details?.['objectsBefore'], before.length);
    const after = await binlogKeys(store);
    assert.equal(after.length, res.outcome?.details?.['objectsAfter']);
    assert.ok(after.length < before.length);
    assert.ok(await store.exists(jobMarkerKeys(job).done));
    assert.equal((await runJob(job, deps)).status, 'already-done');
    await assertFetchIdentical(repo);
  });

  it('compacts on the S3 emulator, and a kill -9 there is finished by a re-run', async () => {
    const before = await binlogKeys(s3Store);
    const crashed = await cli(s3Repo, ['binlog', 'compact'], { MYSQL_PITR_TEST_COMPACT_CRASH_AFTER: '3' });
    assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
    await assertFetchIdentical(s3Repo);
    const done = await compact(s3Repo);
    const after = await binlogKeys(s3Store);
    assert.ok(after.length < before.length, `${after.length} objects < ${before.length}`);
    assert.equal(after.length, done.objectsAfter);
    for (const b of binlogs.slice(0, -1)) {
      assert.deepEqual(
        after.filter((k) => fileOf(k) === b.name).map((k) => COMPACTED.test(k)),
        [true],
      );
    }
    await assertFetchIdentical(s3Repo);
    await assertVerifies(s3Repo);
  });

  it('runs beside a live archiver under load with rotations; the archive stays byte-identical', async () => {
    const { repo, store } = await copyOfBase('live');
    await compact(repo);
    const { command, args } = cliCommand([
      'archive',
      '--source',
      server.url('repl'),
      '--repo',
      repo,
      '--flush-interval',
      '100ms',
      '--segment-size',
      '4KiB',
    ]);
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: server.repl.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let compactions = 0;
    try {
      for (let i = 0; i < 150 && !stderr.includes('streaming binlogs'); i++) await sleep(100);
      assert.match(stderr, /streaming binlogs/);
      const conn = await server.connect();
      let loadDone = false;
      const load = runWorkload(conn, {
        seed: 3,
        database: 'wc',
        transactions: 4000,
        bigTransactions: 0,
        flushBinaryLogsAt: [0.2, 0.4, 0.6, 0.8],
      }).finally(() => {
        loadDone = true;
        return conn.end();
      });
      while (!loadDone) {
        await compact(repo);
        compactions += 1;
      }
      await load;
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(compactions >= 2, `${compactions} compactions ran beside the archiver`);
    // small segments here too: a file the live archiver had not reached yet must still have
    // several objects to merge (one big segment would leave nothing for compaction to do)
    await ok(
      repo,
      ['archive', '--source', server.url('repl'), '--until-caught-up', '--segment-size', '4KiB'],
      {
        MYSQL_PITR_SOURCE_PASSWORD: server.repl.password,
      },
    );
    await compact(repo);
    await readSourceBinlogs();
    const keys = await binlogKeys(store);
    for (const b of binlogs.slice(0, -1)) {
      assert.deepEqual(
        keys.filter((k) => fileOf(k) === b.name).map((k) => COMPACTED.test(k)),
        [true],
        `${b.name} is one merged object`,
      );
    }
    await assertFetchIdentical(repo);
    await assertVerifies(repo);
  });
});
