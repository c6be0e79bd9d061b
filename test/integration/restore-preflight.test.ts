/**
 * The restore preflight against real MariaDB, through the CLI: before a restore command changes the
 * target, every program the chosen applier needs must run, the target user must hold the privileges,
 * and the archive must hold the range. Each fault is injected for real (a PATH without
 * mariadb-binlog, a program that fails `--version`, a user with SELECT only) and must give a clear
 * error with its exit code, leave the target as it was, and leave no client defaults file (it holds
 * the target password) in the temp dir. SIGTERM during a restore must not leave that file either.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { PROJECT_ROOT, cliCommand, runCli, type CliResult } from '../support/run-cli.js';

/**
 * Every file under `dir`, recursively, except tsx's compile cache (`tsx-*`: the CLI runs from
 * source, and tsx caches in TMPDIR).
 */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const top of await readdir(dir, { withFileTypes: true })) {
    if (top.name.startsWith('tsx-')) continue;
    const path = join(dir, top.name);
    if (!top.isDirectory()) out.push(path);
    else {
      const inner = await readdir(path, { recursive: true, withFileTypes: true });
      out.push(path, ...inner.map((e) => join(e.parentPath, e.name)));
    }
  }
  return out;
}

describe('restore preflight: nothing changes on the target when a prerequisite is missing', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  /** A bin dir with the SQL client but without mariadb-binlog. */
  let noBinlogBin: string;
  let backupAt: { file: string; position: number };
  let lastGtid: string;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  /** Runs the CLI with its own TMPDIR (returned) so that leftover secret files can be seen. */
  const cliWithTmp = async (
    args: string[],
    env: Record<string, string> = {},
  ): Promise<CliResult & { tmp: string }> => {
    const tmp = await mkdtemp(join(work, 'tmp-'));
    const r = await runCli(args, {
      env: { ...pathEnv, TMPDIR: tmp, MYSQL_PITR_TARGET_PASSWORD: target.admin.password, ...env },
      timeoutMs: 120_000,
    });
    return { ...r, tmp };
  };

  const userDatabases = async (): Promise<string[]> =>
    (
      await target.query<{ n: string }[]>(
        "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1",
      )
    ).map((r) => r.n);

  const emptyTarget = async (): Promise<void> => {
    for (const db of await userDatabases()) await target.query(`DROP DATABASE \`${db}\``);
  };

  const pitrArgs = (...extra: string[]): string[] => [
    'restore',
    'pitr',
    '--repo',
    repo,
    '--target',
    target.url('admin'),
    '--no-progress',
    '--to-gtid',
    lastGtid,
    ...extra,
  ];

  before(async () => {
    [source, target] = await Promise.all([startMariadb(), startMariadb({ binlog: false })]);
    work = await mkdtemp(join(tmpdir(), 'pitr-preflight-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    noBinlogBin = join(work, 'bin-without-mariadb-binlog');
    await mkdir(noBinlogBin);
    await symlink('/usr/bin/mariadb', join(noBinlogBin, 'mariadb'));

    await source.query('CREATE DATABASE shop');
    await source.query('CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(20))');
    await source.query("INSERT INTO shop.t VALUES (1, 'before backup')");
    const backup = await runCli(
      ['backup', 'create', '--source', source.url('admin'), '--repo', repo, '--json'],
      {
        env: { ...pathEnv, MYSQL_PITR_SOURCE_PASSWORD: source.admin.password },
      },
    );
    assert.equal(backup.code, 0, backup.stderr);
    backupAt = (JSON.parse(backup.stdout) as { binlog: { file: string; position: number } }).binlog;
    for (let i = 2; i <= 200; i++) await source.query(`INSERT INTO shop.t VALUES (${i}, 'after ${i}')`);
    lastGtid = (await source.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p'))[0]!.p;
    const archived = await runCli(
      [
        'archive',
        '--source',
        source.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--flush-interval',
        '200ms',
      ],
      { env: { ...pathEnv, MYSQL_PITR_SOURCE_PASSWORD: source.repl.password } },
    );
    assert.equal(archived.code, 0, archived.stderr);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('restore pitr --applier client without mariadb-binlog in PATH: exit 3, target untouched, no secret file', async () => {
    await emptyTarget();
    const r = await cliWithTmp(pitrArgs('--applier', 'client'), { PATH: noBinlogBin });
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /mariadb-binlog \(decodes the binlogs; chosen with --binlog-program\): not found in PATH/,
    );
    assert.match(r.stderr, /Nothing was changed on the target/);
    assert.match(r.stderr, /RESTORE_TOOL_MISSING/);
    assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack trace
    assert.deepEqual(await userDatabases(), []);
    assert.deepEqual(await filesUnder(r.tmp), []);
  });

  it('restore pitr --applier client with a client program that fails --version names it (exit 3)', async () => {
    await emptyTarget();
    const broken = join(work, 'broken-client');
    await writeFile(
      broken,
      '#!/bin/sh\necho "libmariadb.so.3: cannot open shared object file" >&2\nexit 127\n',
    );
    await chmod(broken, 0o755);
    const r = await cliWithTmp(pitrArgs('--applier', 'client', '--client-program', broken));
    assert.equal(r.code, 3, r.stderr);
    assert.ok(
      r.stderr.includes(`${broken} (applies the decoded binlogs; chosen with --client-program)`),
      r.stderr,
    );
    assert.match(r.stderr, /exited 127: libmariadb\.so\.3: cannot open shared object file/);
    assert.deepEqual(await userDatabases(), []);
    assert.deepEqual(await filesUnder(r.tmp), []);
  });

  it('restore pitr as a user with SELECT only: exit 3 naming the missing privileges, target untouched', async () => {
    await emptyTarget();
    await target.query("CREATE USER IF NOT EXISTS 'weak'@'%' IDENTIFIED BY 'weak-pw'");
    await target.query("GRANT SELECT ON *.* TO 'weak'@'%'");
    const r = await cliWithTmp(
      [
        'restore',
        'pitr',
        '--repo',
        repo,
        '--target',
        target.url('weak'),
        '--no-progress',
        '--to-gtid',
        lastGtid,
      ],
      { MYSQL_PITR_TARGET_PASSWORD: 'weak-pw' },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /MYSQL_PREREQUISITE/);
    assert.match(r.stderr, /lacks privileges the restore needs: INSERT, UPDATE, DELETE, CREATE, DROP/);
    assert.match(r.stderr, /SUPER or BINLOG ADMIN/);
    assert.deepEqual(await userDatabases(), []);
    assert.deepEqual(await filesUnder(r.tmp), []);
  });

  it('restore backup as a user with SELECT only: exit 3 before the dump load, target untouched', async () => {
    await emptyTarget();
    await target.query("CREATE USER IF NOT EXISTS 'weak'@'%' IDENTIFIED BY 'weak-pw'");
    await target.query("GRANT SELECT ON *.* TO 'weak'@'%'");
    const r = await cliWithTmp(
      ['restore', 'backup', '--repo', repo, '--target', target.url('weak'), '--no-progress'],
      {
        MYSQL_PITR_TARGET_PASSWORD: 'weak-pw',
      },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /lacks privileges the restore needs: INSERT, UPDATE, DELETE, CREATE, DROP/);
    assert.doesNotMatch(r.stderr, /dump loaded/);
    assert.deepEqual(await userDatabases(), []);
    assert.deepEqual(await filesUnder(r.tmp), []);
  });

  it('restore apply --applier batch without mariadb-binlog: exit 3, the target keeps its data and GTID position', async () => {
    await emptyTarget();
    const loaded = await cliWithTmp([
      'restore',
      'backup',
      '--repo',
      repo,
      '--target',
      target.url('admin'),
      '--no-progress',
    ]);
    assert.equal(loaded.code, 0, loaded.stderr);
    const before = {
      rows: await target.query('SELECT * FROM shop.t ORDER BY id'),
      pos: (await target.query<{ p: string }[]>('SELECT @@gtid_slave_pos AS p'))[0]!.p,
    };
    assert.equal((before.rows as unknown[]).length, 1);
    const r = await cliWithTmp(
      [
        'restore',
        'apply',
        '--repo',
        repo,
        '--target',
        target.url('admin'),
        '--no-progress',
        '--yes',
        '--applier',
        'batch',
        '--from',
        `${backupAt.file}:${backupAt.position}`,
        '--to-gtid',
        lastGtid,
      ],
      { PATH: noBinlogBin },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /mariadb-binlog \(decodes the binlogs; chosen with --binlog-program\): not found in PATH/,
    );
    assert.deepEqual(await target.query('SELECT * FROM shop.t ORDER BY id'), before.rows);
    assert.equal((await target.query<{ p: string }[]>('SELECT @@gtid_slave_pos AS p'))[0]!.p, before.pos);
  });

  it('SIGTERM during restore pitr: exit 130 and no client defaults file left in the temp dir', async () => {
    await emptyTarget();
    // a decoder that answers --version but then hangs, so the restore is surely mid-apply when signalled
    const slow = join(work, 'slow-binlog');
    await writeFile(
      slow,
      '#!/bin/sh\nif [ "$1" = "--version" ]; then exec mariadb-binlog --version; fi\nexec sleep 300\n',
    );
    await chmod(slow, 0o755);
    const tmp = await mkdtemp(join(work, 'tmp-'));
    const { command, args } = cliCommand(
      pitrArgs('--applier', 'client', '--binlog-program', slow, '--log-format', 'json'),
    );
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...pathEnv, TMPDIR: tmp, MYSQL_PITR_TARGET_PASSWORD: target.admin.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.resume();
    const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    try {
      const deadline = Date.now() + 60_000;
      while (!stderr.includes('applying binlog') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(stderr, /applying binlog/);
      // the secret file exists while the restore runs (so its absence afterwards means something)
      assert.equal((await filesUnder(tmp)).filter((f) => f.endsWith('client.cnf')).length, 1);
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 130, stderr);
      assert.deepEqual(await filesUnder(tmp), []);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
