/**
 * Source crashes are a normal end of file (issue 14): the source is killed with SIGKILL twice
 * while writes run, and restarted each time; the archiver streams all along (it reconnects). The
 * crashed files end without ROTATE, and the restarted server went on in a new file. `verify` exits
 * 0 and names the restarts as information; `status` and `binlog list` show "source restarted after
 * a crash"; PITR to points before, between and after the crashes and to latest gives exactly the
 * checksums recorded at those points. A deleted tail (objects removed) is still a break.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { cliCommand, runCli, PROJECT_ROOT, type CliResult } from '../support/run-cli.js';
import { dropUserDatabases, nextSecond, tableChecksums, type Checksums } from '../support/table-checksums.js';
import type { RestorePlan } from '../../src/restore/index.js';

interface Snapshot {
  name: string;
  gtid: string;
  time: number;
  sums: Checksums;
}

describe('restore across source crashes (kill -9 under write load, restarts)', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  const snaps: Snapshot[] = [];
  let latest: Snapshot;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 180_000 });
  const restore = (args: string[]): Promise<CliResult> =>
    cli(['restore', 'pitr', '--repo', repo, '--target', target.url('admin'), '--json', ...args], {
      MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
    });
  const snapshot = async (name: string): Promise<Snapshot> => {
    const [r] = await source.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
    const s = { name, gtid: r!.p, time: Date.now(), sums: await tableChecksums(source) };
    return s;
  };
  /** Writes until stopped; errors (the server is being killed) end the loop. */
  const writeLoad = (round: number): { stop: () => Promise<number> } => {
    let stopped = false;
    let n = 0;
    const done = (async () => {
      const conn = await source.connect();
      try {
        while (!stopped) {
          await conn.beginTransaction();
          await conn.query('INSERT INTO app.events (round, payload) VALUES (?, REPEAT(?, 200))', [
            round,
            'x',
          ]);
          await conn.query('UPDATE app.totals SET n = n + 1 WHERE round = ?', [round % 4]);
          await conn.commit();
          n += 1;
        }
      } catch {
        // the server was killed under us
      } finally {
        conn.destroy();
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await done;
        return n;
      },
    };
  };
  const quietWrites = async (round: number): Promise<void> => {
    await source.query('INSERT INTO app.events (round, payload) VALUES (?, ?)', [round, `quiet ${round}`]);
    await source.query('UPDATE app.totals SET n = n + 100 WHERE round = ?', [round % 4]);
  };
  const crashUnderLoad = async (round: number): Promise<void> => {
    const load = writeLoad(round);
    await sleep(1500);
    await source.kill();
    const written = await load.stop();
    assert.ok(written > 10, `the load committed ${written} transactions before the kill`);
    await source.restart();
  };

  before(async () => {
    source = await startMariadb({ maxBinlogSize: '256K' });
    target = await startMariadb({ binlog: false });
    work = await mkdtemp(join(tmpdir(), 'pitr-crash-restore-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    await source.query('CREATE DATABASE app');
    await source.query(
      'CREATE TABLE app.events (id INT PRIMARY KEY AUTO_INCREMENT, round INT, payload VARCHAR(255))',
    );
    await source.query('CREATE TABLE app.totals (round INT PRIMARY KEY, n INT)');
    await source.query('INSERT INTO app.totals VALUES (0, 0), (1, 0), (2, 0), (3, 0)');

    const { command, args } = cliCommand([
      'archive',
      '--source',
      source.url('repl'),
      '--repo',
      repo,
      '--flush-interval',
      '100ms',
      '--segment-size',
      '64KiB',
    ]);
    const archiver = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...pathEnv, MYSQL_PITR_SOURCE_PASSWORD: source.repl.password },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let archiverLog = '';
    archiver.stderr.on('data', (c: Buffer) => (archiverLog += c.toString()));
    const archiverExited = new Promise<number | null>((resolve) =>
      archiver.on('close', (code) => resolve(code)),
    );
    try {
      const backup = await cli(
        ['backup', 'create', '--source', source.url('admin'), '--repo', repo, '--json'],
        {
          MYSQL_PITR_SOURCE_PASSWORD: source.admin.password,
        },
      );
      assert.equal(backup.code, 0, backup.stderr);

      await nextSecond(Date.now());
      await quietWrites(1);
      snaps.push(await snapshot('before the first crash'));
      await nextSecond(snaps.at(-1)!.time);
      await crashUnderLoad(2);
      await quietWrites(3);
      snaps.push(await snapshot('between the crashes'));
      await nextSecond(snaps.at(-1)!.time);
      await crashUnderLoad(4);
      await quietWrites(5);
      snaps.push(await snapshot('after the second crash'));
      await nextSecond(snaps.at(-1)!.time);
      await quietWrites(6);
      latest = await snapshot('latest');
    } finally {
      archiver.kill('SIGTERM');
      await archiverExited;
    }
    // whatever the streaming archiver had not stored yet
    const caughtUp = await cli(
      [
        'archive',
        '--source',
        source.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--flush-interval',
        '100ms',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: source.repl.password },
    );
    assert.equal(caughtUp.code, 0, `${caughtUp.stderr}\n--- streaming archiver:\n${archiverLog}`);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the source really ended two files without ROTATE, and the recorded states all differ', async () => {
    const list = await cli(['binlog', 'list', '--repo', repo, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const { timelines } = JSON.parse(list.stdout) as {
      timelines: {
        id: string;
        files: { file: string; closed: boolean; unclosedEnd?: { verdict: string } }[];
      }[];
    };
    assert.equal(timelines.length, 1, 'a restart of the same server continues its timeline');
    const ended = timelines[0]!.files.filter((f) => f.unclosedEnd);
    assert.equal(ended.length, 2, JSON.stringify(timelines[0]!.files));
    assert.ok(ended.every((f) => f.unclosedEnd!.verdict === 'source-restarted' && !f.closed));
    const text = await cli(['binlog', 'list', '--repo', repo]);
    assert.equal(text.stdout.match(/source restarted after a crash/g)?.length, 2, text.stdout);
    const states = [...snaps, latest].map((s) => JSON.stringify(s.sums));
    assert.equal(new Set(states).size, states.length);
  });

  it('verify exits 0 and reports the restarts as information; status shows them', async () => {
    const v = await cli(['verify', '--repo', repo]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.stdout.match(/source restarted after a crash/g)?.length, 2, v.stdout);
    assert.match(v.stdout, /verify: OK/);
    const s = await cli(['status', '--repo', repo, '--json']);
    assert.equal(s.code, 0, s.stdout + s.stderr);
    const st = JSON.parse(s.stdout) as { unclosedFiles: { verdict: string }[] };
    assert.deepEqual(
      st.unclosedFiles.map((u) => u.verdict),
      ['source-restarted', 'source-restarted'],
    );
    const text = await cli(['status', '--repo', repo]);
    assert.match(text.stdout, /source restarted after a crash/);
  });

  it('PITR to points before, between and after the crashes gives the recorded checksums', async () => {
    for (const [i, snap] of snaps.entries()) {
      await dropUserDatabases(target);
      const args = i === 1 ? ['--to-gtid', snap.gtid] : ['--to', new Date(snap.time).toISOString()];
      const r = await restore(args);
      assert.equal(r.code, 0, `${snap.name}: ${r.stderr}`);
      assert.deepEqual(await tableChecksums(target), snap.sums, `${snap.name} (${args.join(' ')})`);
    }
  });

  it('PITR to latest crosses both crash ends and gives the final checksums', async () => {
    await dropUserDatabases(target);
    const plan = await cli(['restore', 'plan', '--repo', repo, '--to', 'latest', '--json']);
    assert.equal(plan.code, 0, plan.stderr);
    const p = JSON.parse(plan.stdout) as RestorePlan;
    assert.ok(p.files.length >= 3, p.files.map((f) => f.file).join(','));
    const r = await restore(['--to', 'latest']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await tableChecksums(target), latest.sums);
  });

  it('a deleted tail of a crashed file is still a gap: verify exits 6, restore refuses to cross it', async () => {
    // a copy of the repository without the last segment of the first crashed file: the GTIDs of
    // the next file then jump over the transactions it held
    const list = await cli(['binlog', 'list', '--repo', repo, '--json']);
    const { timelines } = JSON.parse(list.stdout) as {
      timelines: { id: string; files: { file: string; segments: number; unclosedEnd?: unknown }[] }[];
    };
    const crashed = timelines[0]!.files.find((f) => f.unclosedEnd)!;
    const copy = join(work, 'damaged');
    await cp(join(work, 'repo'), copy, { recursive: true });
    const dir = join(copy, 'binlogs', timelines[0]!.id, crashed.file);
    const objects = (await readdir(dir)).sort();
    await rm(join(dir, objects.at(-1)!));
    const damaged = pathToFileURL(copy).href;
    const v = await cli(['verify', '--repo', damaged]);
    assert.equal(v.code, 6, v.stdout + v.stderr);
    assert.doesNotMatch(
      v.stdout,
      new RegExp(`source restarted after a crash: timeline \\d+ ${crashed.file.replace('.', '\\.')} `),
    );
    const s = await cli(['status', '--repo', damaged]);
    assert.equal(s.code, 6, s.stdout + s.stderr);
    const r = await cli(['restore', 'plan', '--repo', damaged, '--to', 'latest']);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /gap/i);

    // a whole crashed file gone (all its segments): status names the missing file and exits 6. A
    // crashed file that is not the timeline's first: a timeline that starts later than its record
    // says is what retention leaves, not a hole (the first crash may land in the first file)
    const inner = timelines[0]!.files.find((f, i) => i > 0 && f.unclosedEnd)!;
    assert.ok(inner, 'two crash ends: at least one is not in the first file');
    const gone = join(work, 'file-gone');
    await cp(join(work, 'repo'), gone, { recursive: true });
    await rm(join(gone, 'binlogs', timelines[0]!.id, inner.file), { recursive: true });
    const g = await cli(['status', '--repo', pathToFileURL(gone).href]);
    assert.equal(g.code, 6, g.stdout + g.stderr);
    assert.match(g.stdout, new RegExp(`MISSING .*${inner.file.replace('.', '\\.')}`));
  });
});
