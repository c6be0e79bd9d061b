/**
 * The binlog archiver against a real MariaDB, through the CLI as a user runs it: byte-identical
 * reassembly under load with rotations (file:// and the S3 emulator), the lease, purged files as
 * gaps, RESET MASTER as a new timeline, and a corrupt segment failing fetch with the DATA exit code.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { cliCommand, runCli, PROJECT_ROOT, type CliResult } from '../support/run-cli.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';
import { assertBinlogsIdentical, type BinaryLog } from '../support/binlog-compare.js';

describe('mysql-pitr archive / binlog fetch / binlog list / status against MariaDB', () => {
  let server: MariadbServer;
  let other: MariadbServer;
  let s3: S3Emulator;
  let work: string;
  let env: Record<string, string>;
  const s3Env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };

  const archive = (
    repo: string,
    extra: string[] = [],
    more: Record<string, string> = {},
  ): Promise<CliResult> =>
    runCli(
      [
        'archive',
        '--source',
        server.url('repl'),
        '--repo',
        repo,
        '--flush-interval',
        '200ms',
        '--segment-size',
        '256KiB',
        ...extra,
      ],
      {
        env: { ...env, ...more },
      },
    );

  before(async () => {
    [server, other, s3] = await Promise.all([
      startMariadb({ maxBinlogSize: '2M' }),
      startMariadb(),
      startS3Emulator(),
    ]);
    work = await mkdtemp(join(tmpdir(), 'pitr-archive-'));
    env = { MYSQL_PITR_SOURCE_PASSWORD: server.repl.password, MYSQL_PITR_LOG_FORMAT: 'json' };
  });

  after(async () => {
    await Promise.all([server?.stop(), other?.stop(), s3?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('archives under load with rotations and fetches every binlog byte for byte (file://)', async () => {
    const repo = `file://${join(work, 'repo-fs')}`;
    const conn = await server.connect();
    let loadDone = false;
    const load = runWorkload(conn, {
      transactions: 1500,
      bigTransactions: 1,
      bigTransactionBytes: 1024 * 1024,
      flushBinaryLogsAt: [0.3, 0.6],
    }).finally(() => (loadDone = true));
    // catch up repeatedly while the load runs: every run resumes where the last one stopped
    let runs = 0;
    let humanLines = '';
    while (!loadDone) {
      const r = await archive(repo, ['--until-caught-up']);
      assert.equal(r.code, 0, r.stderr);
      // off Lambda and ECS, metrics are log lines, not EMF
      assert.doesNotMatch(r.stderr, /"_aws"/);
      humanLines += r.stderr;
      runs += 1;
    }
    await load;
    assert.match(humanLines, /segments stored/);
    await conn.query('INSERT INTO wl.items (k, name) VALUES (1, ?)', ['after the load']);
    await conn.end();
    const last = await archive(repo, ['--until-caught-up', '--metrics', 'emf']);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, /archived up to mysql-bin\.\d+:\d+ on timeline 000001/);
    // with --metrics emf: one EMF line per stored segment
    const emf = last.stderr.split('\n').filter((l) => l.includes('"_aws"'));
    assert.ok(emf.length >= 1, 'metrics lines');
    const m = JSON.parse(emf[0]!) as Record<string, unknown>;
    assert.equal(
      (m._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]!.Namespace,
      'MysqlPitr',
    );
    assert.equal(typeof m.ArchivedBytes, 'number');

    const dest = join(work, 'fetch-fs');
    const fetched = await runCli(['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo], { env });
    assert.equal(fetched.code, 0, fetched.stderr);
    const files = await assertBinlogsIdentical(server, dest);
    assert.ok(files >= 3, `rotations: ${files} files`);
    // the zstd CLI skips the header frames: concatenated segments decompress into the file
    const segDir = join(work, 'repo-fs', 'binlogs', '000001', 'mysql-bin.000001');
    const segs = (await readdir(segDir))
      .filter((f) => f.endsWith('.zst'))
      .sort()
      .map((f) => join(segDir, f));
    const plain = execFileSync('zstd', ['-dc', ...segs], { maxBuffer: 64 * 1024 * 1024 });
    assert.ok(
      plain.equals(await readFile(join(dest, 'mysql-bin.000001'))),
      'zstd -dc of the segments = the file',
    );
    assert.ok(runs >= 1);

    const list = await runCli(['binlog', 'list', '--repo', repo, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as {
      timelines: {
        id: string;
        files: { file: string; holes: unknown[]; transactions: number; gtids: Record<string, unknown> }[];
        gaps: unknown[];
      }[];
    };
    assert.equal(listed.timelines.length, 1);
    assert.equal(listed.timelines[0]!.files.length, files);
    assert.ok(listed.timelines[0]!.files.every((f) => f.holes.length === 0));
    assert.ok(listed.timelines[0]!.files.reduce((a, f) => a + f.transactions, 0) > 1000);
    assert.ok(Object.keys(listed.timelines[0]!.files[0]!.gtids).length > 0);

    const st = await runCli(['status', '--repo', repo, '--json'], { env });
    assert.equal(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout) as {
      lastDurable: { file: string; position: number };
      gaps: unknown[];
      lease: unknown;
    };
    const [master] = await server.query<{ File: string; Position: string }[]>('SHOW MASTER STATUS');
    assert.equal(status.lastDurable.file, master!.File);
    assert.equal(status.lastDurable.position, Number(master!.Position));
    assert.deepEqual(status.gaps, []);
    assert.equal(status.lease, undefined, 'a clean exit releases the lease');
  });

  it('archives to S3 (the emulator) and fetches byte-identical files; a corrupt segment fails fetch with exit 5', async () => {
    const repo = `s3://${s3.bucket}/pitr/db1`;
    const s3Args = ['--s3-endpoint', s3.endpoint, '--region', s3.region];
    // an incompressible 6 MiB row: its segment is uploaded as a multipart stream, not one buffer
    const { randomBytes } = await import('node:crypto');
    await server.query('INSERT INTO wl.blobs (data) VALUES (?)', [randomBytes(6 * 1024 * 1024)]);
    const r = await archive(repo, ['--until-caught-up', ...s3Args, '--segment-size', '32MiB'], s3Env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      s3.requests.some((q) => q.url.includes('/binlogs/') && q.url.includes('uploadId=')),
      'the large segment went up as a multipart stream',
    );
    const dest = join(work, 'fetch-s3');
    const f = await runCli(['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo, ...s3Args], {
      env: { ...env, ...s3Env },
    });
    assert.equal(f.code, 0, f.stderr);
    await assertBinlogsIdentical(server, dest);

    // flip one byte in the compressed data of a segment of a copy of the file:// repository
    const fsRepo = join(work, 'repo-fs');
    const segDir = join(fsRepo, 'binlogs', '000001', 'mysql-bin.000001');
    const seg = (await readdir(segDir)).filter((f) => f.endsWith('.zst')).sort()[0]!;
    const path = join(segDir, seg);
    const bytes = await readFile(path);
    const original = Buffer.from(bytes);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 0xff, bytes.length - 20);
    await writeFile(path, bytes);
    try {
      const bad = await runCli(
        [
          'binlog',
          'fetch',
          '--file',
          'mysql-bin.000001',
          '--dest',
          join(work, 'fetch-bad'),
          '--repo',
          `file://${fsRepo}`,
        ],
        { env },
      );
      assert.equal(bad.code, 5, bad.stderr);
      assert.match(bad.stderr, new RegExp(`binlogs/000001/mysql-bin.000001/${seg.replace('.', '\\.')}`));
      assert.deepEqual(await readdir(join(work, 'fetch-bad')), [], 'no partial file is left');
    } finally {
      await writeFile(path, original);
    }
  });

  it('a second archiver on the same repository says so and exits 7; SIGTERM stops the first with 0', async () => {
    const repo = `file://${join(work, 'repo-fs')}`;
    const { command, args } = cliCommand([
      'archive',
      '--source',
      server.url('repl'),
      '--repo',
      repo,
      '--flush-interval',
      '200ms',
    ]);
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // wait until it streams (it holds the lease by then)
      for (let i = 0; i < 100 && !stderr.includes('streaming binlogs'); i++) await sleep(100);
      assert.match(stderr, /streaming binlogs/);
      await server.query("INSERT INTO wl.items (k, name) VALUES (2, 'while following')");
      const second = await archive(repo, ['--until-caught-up', '--server-id', '4242']);
      assert.equal(second.code, 7, second.stderr);
      assert.match(second.stderr, /another archiver holds the repository lease/);
      assert.match(second.stderr, new RegExp(`pid ${child.pid}`));
      const st = await runCli(['status', '--repo', repo], { env });
      assert.match(st.stdout, new RegExp(`archiver: running on .* pid ${child.pid}`));
      // the row written while following becomes durable within the flush interval
      const [master] = await server.query<{ File: string; Position: string }[]>('SHOW MASTER STATUS');
      let durable = '';
      for (let i = 0; i < 50; i++) {
        const js = JSON.parse((await runCli(['status', '--repo', repo, '--json'], { env })).stdout) as {
          lastDurable: { file: string; position: number };
        };
        durable = `${js.lastDurable.file}:${js.lastDurable.position}`;
        if (durable === `${master!.File}:${master!.Position}`) break;
        await sleep(100);
      }
      assert.equal(durable, `${master!.File}:${master!.Position}`);

      // the source restarts (a STOP event ends its file, a new file starts): the archiver reconnects
      await server.restart();
      await server.query("INSERT INTO wl.items (k, name) VALUES (2, 'after the restart')");
      const [after] = await server.query<{ File: string; Position: string }[]>('SHOW MASTER STATUS');
      assert.notEqual(after!.File, master!.File);
      for (let i = 0; i < 100; i++) {
        const js = JSON.parse((await runCli(['status', '--repo', repo, '--json'], { env })).stdout) as {
          lastDurable: { file: string; position: number };
        };
        durable = `${js.lastDurable.file}:${js.lastDurable.position}`;
        if (durable === `${after!.File}:${after!.Position}`) break;
        await sleep(200);
      }
      assert.equal(durable, `${after!.File}:${after!.Position}`, stderr);
      assert.match(stderr, /reconnecting/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    const st = await runCli(['status', '--repo', repo], { env });
    assert.match(st.stdout, /archiver: not running/);
  });

  it('--rotate-interval rotates a source that is written to, and only then', async () => {
    const repo = `file://${join(work, 'repo-fs')}`;
    await server.query("GRANT RELOAD ON *.* TO 'repl'@'%'");
    const count = async (): Promise<number> => (await server.query<BinaryLog[]>('SHOW BINARY LOGS')).length;
    const { command, args } = cliCommand([
      'archive',
      '--source',
      server.url('repl'),
      '--repo',
      repo,
      '--flush-interval',
      '100ms',
      '--rotate-interval',
      '1s',
    ]);
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      for (let i = 0; i < 100 && !stderr.includes('streaming binlogs'); i++) await sleep(100);
      const before = await count();
      await server.query("INSERT INTO wl.items (k, name) VALUES (5, 'rotate me')");
      let after = before;
      for (let i = 0; i < 50 && after === before; i++) {
        await sleep(100);
        after = await count();
      }
      assert.equal(after, before + 1, stderr);
      // idle: no further rotation
      await sleep(2500);
      assert.equal(await count(), after, 'an idle source is not rotated');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    const r = await archive(repo, ['--until-caught-up']);
    assert.equal(r.code, 0, r.stderr);
    const dest = join(work, 'fetch-rotate');
    const f = await runCli(['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo], { env });
    assert.equal(f.code, 0, f.stderr);
    await assertBinlogsIdentical(server, dest);
  });

  it('--purge-source purges archived files on the source, keeping --purge-keep of them', async () => {
    const repo = `file://${join(work, 'repo-fs')}`;
    await server.query("GRANT BINLOG ADMIN ON *.* TO 'repl'@'%'");
    // dump threads of archivers that are gone but not yet noticed would pin their files
    const threads = await server.query<{ Id: string; Command: string }[]>('SHOW PROCESSLIST');
    for (const p of threads.filter((d) => d.Command === 'Binlog Dump')) {
      await server.query(`KILL ${p.Id}`).catch(() => undefined);
    }
    const caughtUp = await archive(repo, ['--until-caught-up']);
    assert.equal(caughtUp.code, 0, caughtUp.stderr);
    const [k] = await server.query<{ File: string }[]>('SHOW MASTER STATUS');
    await server.query("INSERT INTO wl.items (k, name) VALUES (6, 'purge 1')");
    await server.query('FLUSH BINARY LOGS');
    const [k1] = await server.query<{ File: string }[]>('SHOW MASTER STATUS');
    await server.query("INSERT INTO wl.items (k, name) VALUES (6, 'purge 2')");
    await server.query('FLUSH BINARY LOGS');
    // MariaDB will not purge a file it still needs for crash recovery: wait until the current
    // file's latest BINLOG_CHECKPOINT names the current file itself (on a busy machine the
    // checkpoint can lag the rotation, and the purge then stops short of what this test expects).
    for (let i = 0; i < 100; i++) {
      const [cur] = await server.query<{ File: string }[]>('SHOW MASTER STATUS');
      const events = await server.query<{ Event_type: string; Info: string }[]>(
        `SHOW BINLOG EVENTS IN '${cur!.File}'`,
      );
      if (
        events
          .filter((e) => e.Event_type === 'Binlog_checkpoint')
          .at(-1)
          ?.Info.includes(cur!.File)
      )
        break;
      await sleep(100);
    }
    const r = await archive(repo, ['--until-caught-up', '--purge-source', '--purge-keep', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`purged source binlogs before ${k1!.File.replace('.', '\\.')}`));
    const logs = (await server.query<BinaryLog[]>('SHOW BINARY LOGS')).map((l) => l.Log_name);
    assert.equal(logs[0], k1!.File, `source files now: ${logs.join(',')}`);
    // what was purged is in the archive, whole
    const list = JSON.parse((await runCli(['binlog', 'list', '--repo', repo, '--json'], { env })).stdout) as {
      timelines: { files: { file: string; closed: boolean; holes: unknown[]; start: number }[] }[];
    };
    const archived = list.timelines[0]!.files.find((f) => f.file === k!.File);
    assert.ok(
      archived?.closed && archived.start === 0 && archived.holes.length === 0,
      JSON.stringify(archived),
    );
  });

  it('a file purged on the source before it was archived is a gap in binlog list and status', async () => {
    const repo = `file://${join(work, 'repo-fs')}`;
    const before = await archive(repo, ['--until-caught-up']);
    assert.equal(before.code, 0, before.stderr);
    await server.query("INSERT INTO wl.items (k, name) VALUES (3, 'lost 1')");
    await server.query('FLUSH BINARY LOGS');
    const [lost] = await server.query<{ File: string }[]>('SHOW MASTER STATUS');
    await server.query("INSERT INTO wl.items (k, name) VALUES (3, 'lost 2')");
    await server.query('FLUSH BINARY LOGS');
    const [kept] = await server.query<{ File: string }[]>('SHOW MASTER STATUS');
    // a dump thread of an archiver that has gone but not yet been noticed pins its file against PURGE
    // (and MariaDB keeps a file until its binlog checkpoint has passed): retry for a while
    let remaining: string[] = [];
    let warnings: unknown[] = [];
    for (let i = 0; i < 50; i++) {
      const dumps = await server.query<{ Id: string; Command: string }[]>('SHOW PROCESSLIST');
      for (const p of dumps.filter((d) => d.Command === 'Binlog Dump'))
        await server.query(`KILL ${p.Id}`).catch(() => undefined);
      const c = await server.connect();
      try {
        await c.query(`PURGE BINARY LOGS TO '${kept!.File}'`);
        [warnings] = (await c.query('SHOW WARNINGS')) as unknown as [unknown[]];
      } finally {
        await c.end();
      }
      remaining = (await server.query<BinaryLog[]>('SHOW BINARY LOGS')).map((l) => l.Log_name);
      if (!remaining.includes(lost!.File)) break;
      await sleep(200);
    }
    assert.ok(
      !remaining.includes(lost!.File),
      `${lost!.File} was purged: ${remaining.join(',')} ${JSON.stringify(warnings)}`,
    );
    await server.query("INSERT INTO wl.items (k, name) VALUES (3, 'kept')");

    const r = await archive(repo, ['--until-caught-up']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /binlog gap on timeline 000001/);
    const list = JSON.parse((await runCli(['binlog', 'list', '--repo', repo, '--json'], { env })).stdout) as {
      timelines: { gaps: { file: string; from: number }[]; files: { file: string }[] }[];
    };
    const gaps = list.timelines[0]!.gaps;
    assert.ok(
      gaps.some((g) => g.file === lost!.File && g.from === 0),
      JSON.stringify(gaps),
    );
    assert.ok(list.timelines[0]!.files.some((f) => f.file === kept!.File));
    const text = await runCli(['binlog', 'list', '--repo', repo], { env });
    assert.match(text.stdout, new RegExp(`GAP ${lost!.File.replace('.', '\\.')} from 0`));
    const st = await runCli(['status', '--repo', repo], { env });
    assert.equal(st.code, 6, st.stdout + st.stderr);
    assert.match(st.stdout, new RegExp(`GAP timeline 000001 ${lost!.File.replace('.', '\\.')}`));
  });

  it('RESET MASTER starts a new timeline and leaves every earlier object unchanged', async () => {
    const repoDir = join(work, 'repo-fs');
    const repo = `file://${repoDir}`;
    const snapshot = async (): Promise<Map<string, Buffer>> => {
      const out = new Map<string, Buffer>();
      const walk = async (d: string): Promise<void> => {
        for (const e of await readdir(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) await walk(p);
          else out.set(p.slice(repoDir.length + 1), await readFile(p));
        }
      };
      await walk(repoDir);
      return out;
    };
    const beforeObjects = await snapshot();
    await server.query('RESET MASTER');
    await server.query("INSERT INTO wl.items (k, name) VALUES (4, 'after reset')");
    const r = await archive(repo, ['--until-caught-up']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /on timeline 000002/);
    assert.match(r.stderr, /starting timeline 000002/);
    const afterObjects = await snapshot();
    for (const [key, bytes] of beforeObjects) {
      if (key.startsWith('locks/')) continue; // the lease is rewritten by every run; it is not archive data
      assert.ok(afterObjects.get(key)?.equals(bytes), `${key} changed or vanished`);
    }
    const added = [...afterObjects.keys()].filter((k) => !beforeObjects.has(k));
    assert.ok(added.includes('timelines/000002.json'));
    assert.ok(added.some((k) => k.startsWith('binlogs/000002/mysql-bin.000001/')));
    const record = JSON.parse(afterObjects.get('timelines/000002.json')!.toString()) as {
      parent?: { timeline: string };
    };
    assert.equal(record.parent?.timeline, '000001');
    const dest = join(work, 'fetch-t2');
    const f = await runCli(
      ['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo, '--timeline', '000002'],
      { env },
    );
    assert.equal(f.code, 0, f.stderr);
    await assertBinlogsIdentical(server, dest);
  });

  it('switching --source to another server with the same file names starts a new timeline', async () => {
    const repo = `file://${join(work, 'repo-fs')}`;
    await other.query('CREATE DATABASE o');
    await other.query('CREATE TABLE o.t (a INT PRIMARY KEY)');
    await other.query('INSERT INTO o.t VALUES (1), (2)');
    const r = await runCli(['archive', '--source', other.url('repl'), '--repo', repo, '--until-caught-up'], {
      env: { ...env, MYSQL_PITR_SOURCE_PASSWORD: other.repl.password },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /on timeline 000003/);
    assert.match(
      r.stderr,
      new RegExp(`server_id ${other.serverId}.*was written by.*server_id ${server.serverId}`),
    );
    const dest = join(work, 'fetch-other');
    const f = await runCli(
      ['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo, '--timeline', '000003'],
      { env },
    );
    assert.equal(f.code, 0, f.stderr);
    await assertBinlogsIdentical(other, dest);
    const list = await runCli(['binlog', 'list', '--repo', repo], { env });
    assert.match(list.stdout, /timeline 000001[\s\S]*timeline 000002[\s\S]*timeline 000003/);
  });
});
