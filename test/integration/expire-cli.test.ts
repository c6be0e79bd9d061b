/**
 * `mysql-pitr expire` end to end: a real MariaDB under load, real `backup create` and
 * `archive --until-caught-up` child processes into a file:// repository, then expire with a
 * policy. Backups "of different ages" are made by rewriting the startedAt/finishedAt of their
 * manifests in the test's own repository (ids keep their order). Checks what goes and what stays,
 * that `verify` still passes, and that an expire stopped between a manifest and its data (simulated
 * by deleting only the manifest) leaves no complete-looking backup and is finished by the next run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { cliCommand, runCli, type CliResult, PROJECT_ROOT } from '../support/run-cli.js';
import { backupObjects, type BackupManifest } from '../../src/catalog/index.js';

const DAY = 24 * 3600 * 1000;

async function walk(dir: string, root = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, root)));
    else out.push(relative(root, p));
  }
  return out.sort();
}

const seq = (file: string): number => Number(file.split('.').pop());

describe('mysql-pitr expire (real CLI, real MariaDB, file:// repository)', () => {
  let server: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repoDir: string;
  let repo: string;
  const backups: BackupManifest[] = [];
  const cli = (args: string[], password: string): Promise<CliResult> =>
    runCli(args, {
      env: { MYSQL_PITR_SOURCE_PASSWORD: password, PATH: `/usr/sbin:${process.env.PATH ?? ''}` },
    });
  const plain = (args: string[]): Promise<CliResult> => cli([...args, '--repo', repo], '');

  before(async () => {
    server = await startMariadb({ maxBinlogSize: '1M' });
    target = await startMariadb({ binlog: false });
    work = await mkdtemp(join(tmpdir(), 'pitr-expire-'));
    repoDir = join(work, 'repo');
    repo = pathToFileURL(repoDir).href;
    const conn = await server.connect();
    try {
      // three rounds: load, rotate, backup; then more load; then archive everything
      for (let round = 0; round < 3; round++) {
        await runWorkload(conn, {
          seed: round + 1,
          database: `wl${round}`,
          transactions: 300,
          bigTransactions: 1,
          bigTransactionBytes: 600_000,
        });
        await conn.query('FLUSH BINARY LOGS');
        const b = await cli(
          ['backup', 'create', '--source', server.url(server.admin.user), '--repo', repo],
          server.admin.password,
        );
        assert.equal(b.code, 0, b.stderr);
      }
      await runWorkload(conn, { seed: 9, database: 'wl9', transactions: 200, bigTransactions: 0 });
    } finally {
      await conn.end();
    }
    const a = await cli(
      [
        'archive',
        '--source',
        server.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--segment-size',
        '256KiB',
      ],
      server.repl.password,
    );
    assert.equal(a.code, 0, a.stderr);
    // ages 20, 10 and 1 days: rewrite the manifests' times (ids, which sort by start time, keep their order)
    const ids = (await readdir(join(repoDir, 'backups'))).sort();
    assert.equal(ids.length, 3);
    for (const [i, age] of [20, 10, 1].entries()) {
      const path = join(repoDir, 'backups', ids[i]!, 'manifest.json');
      const m = JSON.parse(await readFile(path, 'utf8')) as BackupManifest;
      m.startedAt = new Date(Date.now() - age * DAY).toISOString();
      m.finishedAt = new Date(Date.now() - age * DAY + 5000).toISOString();
      await writeFile(path, `${JSON.stringify(m, null, 2)}\n`);
      backups.push(m);
    }
    // pristine copies for the kill tests
    await cp(repoDir, join(work, 'repo-copy'), { recursive: true });
    await cp(repoDir, join(work, 'repo-stopped'), { recursive: true });
    assert.ok(seq(backups[0]!.binlog.file) < seq(backups[1]!.binlog.file));
    assert.ok(seq(backups[1]!.binlog.file) < seq(backups[2]!.binlog.file));
  });

  after(async () => {
    await Promise.all([server?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('verifies, dry-runs without deleting, then expires exactly what --keep-days 7 says and still verifies', async () => {
    const v0 = await plain(['verify']);
    assert.equal(v0.code, 0, v0.stdout + v0.stderr);
    assert.match(v0.stdout, /timeline 000001: any second from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to /);

    const before = await walk(repoDir);
    const dry = await plain(['expire', '--keep-days', '7', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would expire backup ${backups[0]!.id}`));
    assert.match(
      dry.stdout,
      /would expire binlogs of timeline 000001: mysql-bin\.\d+\.\.mysql-bin\.\d+ \d+ segments/,
    );
    assert.match(
      dry.stdout,
      new RegExp(`kept backup ${backups[1]!.id} .*newest backup before the --keep-days 7 cutoff`),
    );
    assert.deepEqual(await walk(repoDir), before, '--dry-run deletes nothing');

    const run = await plain(['expire', '--keep-days', '7', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as {
      deleted: string[];
      windowStart: { backup: string; file: string; position: number };
      plan: { keep: { id: string }[]; expireBackups: { id: string }[] };
    };
    assert.deepEqual(
      out.plan.keep.map((k) => k.id),
      [backups[1]!.id, backups[2]!.id],
    );
    assert.deepEqual(
      out.plan.expireBackups.map((k) => k.id),
      [backups[0]!.id],
    );
    assert.equal(out.windowStart.backup, backups[1]!.id);
    // the manifest went before the data
    const manifestAt = out.deleted.indexOf(`backups/${backups[0]!.id}/manifest.json`);
    const dataKeys = backupObjects(backups[0]!).map((o) => o.key);
    assert.ok(dataKeys.length > 0);
    for (const k of dataKeys) {
      const dataAt = out.deleted.indexOf(k);
      assert.ok(manifestAt >= 0 && manifestAt < dataAt, `${k}: ${out.deleted.slice(0, 3).join(',')}`);
    }

    const afterFiles = await walk(repoDir);
    assert.ok(!afterFiles.some((f) => f.startsWith(`backups/${backups[0]!.id}/`)), 'the old backup is gone');
    const keepFile = backups[1]!.binlog.file;
    // segments (a file's index.json stays until `binlog compact` finds its file empty)
    const segs = (list: string[]): string[] =>
      list.filter((f) => f.startsWith('binlogs/') && f.endsWith('.zst'));
    const fileOf = (k: string): string => k.split('/')[2]!;
    // the window before the oldest retained backup went away: every file before its binlog file
    assert.ok(
      segs(before).some((k) => seq(fileOf(k)) < seq(keepFile)),
      'there was something to expire',
    );
    assert.deepEqual(
      segs(afterFiles).filter((k) => seq(fileOf(k)) < seq(keepFile)),
      [],
    );
    // nothing needed by a retained backup went: its whole file (from offset 0) and everything after
    assert.deepEqual(
      segs(afterFiles),
      segs(before).filter((k) => seq(fileOf(k)) >= seq(keepFile)),
    );
    assert.ok(afterFiles.includes(`binlogs/000001/${keepFile}/${'0'.repeat(20)}.zst`));
    assert.deepEqual(
      out.deleted.filter((k) => k.startsWith('binlogs/')),
      segs(before).filter((k) => !afterFiles.includes(k)),
    );
    // oldest first
    const deletedSegs = out.deleted.filter((k) => k.startsWith('binlogs/'));
    const order = deletedSegs.map((k) => [seq(fileOf(k)), Number(k.split('/')[3]!.slice(0, 20))] as const);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]),
    );

    const v1 = await plain(['verify', '--json']);
    assert.equal(v1.code, 0, v1.stdout);
    const report = JSON.parse(v1.stdout) as { windows: { backup: string }[]; problems: unknown[] };
    assert.deepEqual(report.problems, []);
    assert.equal(
      report.windows[0]!.backup,
      backups[1]!.id,
      'the window now starts at the oldest retained backup',
    );
    // the restore planner agrees: from the oldest retained backup to the end of the archive, every binlog is there
    const planned = await plain(['restore', 'plan', '--to', 'latest', '--backup', backups[1]!.id, '--json']);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, new RegExp(backups[1]!.id));
    // and a real restore from it into an empty server reaches the source's final state
    const restored = await runCli(
      [
        'restore',
        'pitr',
        '--repo',
        repo,
        '--target',
        target.url('admin'),
        '--to',
        'latest',
        '--backup',
        backups[1]!.id,
      ],
      {
        env: {
          MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
          PATH: `/usr/sbin:${process.env.PATH ?? ''}`,
        },
        timeoutMs: 180_000,
      },
    );
    assert.equal(restored.code, 0, restored.stderr);
    const tables = await server.query<{ t: string }[]>(
      "SELECT CONCAT(table_schema, '.', table_name) AS t FROM information_schema.tables " +
        "WHERE table_schema IN ('wl0', 'wl1', 'wl2', 'wl9') AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    assert.ok(tables.length >= 4);
    const sql = `CHECKSUM TABLE ${tables.map((r) => r.t).join(', ')}`;
    assert.deepEqual(await target.query(sql), await server.query(sql), 'table checksums match the source');
    const again = await plain(['expire', '--keep-days', '7']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to expire/);
  });

  it('an expire stopped after a manifest went leaves no complete-looking backup; the next run finishes it', async () => {
    const victim = backups[1]!;
    // what `expire --keep-backups 1` does first for the older backup, then "crash"
    await rm(join(repoDir, 'backups', victim.id, 'manifest.json'));
    const list = await plain(['backup', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as { backups: { id: string }[]; incomplete: { id: string }[] };
    assert.deepEqual(
      listed.backups.map((b) => b.id),
      [backups[2]!.id],
    );
    assert.deepEqual(
      listed.incomplete.map((b) => b.id),
      [victim.id],
      'the half-deleted backup is incomplete',
    );
    const v = await plain(['verify']);
    assert.equal(v.code, 0, v.stdout);
    assert.doesNotMatch(v.stdout, new RegExp(`from backup ${victim.id}`));

    // a second run re-plans from what is left: the data of the half-deleted backup, and binlogs before the newest
    const run = await plain(['expire', '--keep-backups', '1', '--incomplete-grace', '0s']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`removed incomplete backup ${victim.id}`));
    const files = await walk(repoDir);
    assert.ok(!files.some((f) => f.startsWith(`backups/${victim.id}/`)));
    const newest = backups[2]!.binlog.file;
    assert.ok(files.some((f) => f.startsWith(`binlogs/000001/${newest}/`)));
    assert.ok(
      files
        .filter((f) => f.startsWith('binlogs/') && f.endsWith('.zst'))
        .every((f) => seq(f.split('/')[2]!) >= seq(newest)),
      'binlogs before the newest backup went',
    );
    const v2 = await plain(['verify']);
    assert.equal(v2.code, 0, v2.stdout);
    assert.match(v2.stdout, new RegExp(`from backup ${backups[2]!.id}`));
  });

  it('expire killed (SIGKILL) mid-run: every backup with a manifest is whole, the chain has no hole; a re-run finishes', async () => {
    const copyDir = join(work, 'repo-copy');
    const copy = pathToFileURL(copyDir).href;
    const { command, args } = cliCommand(['expire', '--keep-backups', '1', '--repo', copy]);
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, MYSQL_PITR_LOG_FORMAT: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // kill -9 as soon as it reports the first expired backup: it is then deleting the next one or the binlogs
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('backup expired')) child.kill('SIGKILL');
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
      child.on('close', (c, sig) => r([c, sig])),
    );
    assert.ok(code === 0 || signal === 'SIGKILL', `exit ${code} ${signal}: ${stderr}`);
    const files = await walk(copyDir);
    for (const f of files.filter((k) => k.endsWith('/manifest.json'))) {
      const m = JSON.parse(await readFile(join(copyDir, f), 'utf8')) as BackupManifest;
      for (const o of backupObjects(m)) assert.ok(files.includes(o.key), `${f}: its ${o.key} is there`);
    }
    const cliCopy = (a: string[]): Promise<CliResult> => cli([...a, '--repo', copy], '');
    const v = await cliCopy(['verify']);
    assert.equal(v.code, 0, v.stdout);
    const rerun = await cliCopy(['expire', '--keep-backups', '1', '--incomplete-grace', '0s']);
    assert.equal(rerun.code, 0, rerun.stderr);
    const final = await walk(copyDir);
    assert.deepEqual(
      final.filter((k) => k.startsWith('backups/')),
      [...backupObjects(backups[2]!).map((o) => o.key), `backups/${backups[2]!.id}/manifest.json`].sort(),
    );
    const newest = backups[2]!.binlog.file;
    assert.ok(
      final
        .filter((k) => k.startsWith('binlogs/') && k.endsWith('.zst'))
        .every((k) => seq(k.split('/')[2]!) >= seq(newest)),
    );
    assert.equal((await cliCopy(['verify'])).code, 0);
  });

  it('an expire stopped inside a binlog file (its first segments gone): verify says so and passes; a re-run finishes', async () => {
    const dir = join(work, 'repo-stopped');
    const url = pathToFileURL(dir).href;
    const onCopy = (a: string[]): Promise<CliResult> => cli([...a, '--repo', url], '');
    // what expire --keep-backups 1 does before it is stopped: the two older backups are gone, then the
    // oldest binlog file's segments go oldest first; stop after the first one
    for (const b of backups.slice(0, 2)) await rm(join(dir, 'backups', b.id), { recursive: true });
    const segments = (await walk(dir)).filter((k) => k.startsWith('binlogs/') && k.endsWith('.zst'));
    const oldestFile = segments[0]!.split('/').slice(0, 3).join('/');
    const inOldest = segments.filter((k) => k.startsWith(`${oldestFile}/`));
    assert.ok(inOldest.length >= 2, `the oldest file has several segments: ${inOldest.join(', ')}`);
    await rm(join(dir, inOldest[0]!));
    const v = await onCopy(['verify']);
    assert.equal(v.code, 0, v.stdout);
    assert.match(v.stdout, /expire was stopped midway: timeline \S+ mysql-bin\.\d+ starts at byte \d+/);
    assert.match(v.stdout, /verify: OK/);
    const st = await onCopy(['status']);
    assert.equal(st.code, 0, st.stdout);
    // a real damage in the same place, once a backup needs that file, is still a problem
    const rerun = await onCopy(['expire', '--keep-backups', '1']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.ok(!(await walk(dir)).some((k) => k.startsWith(`${oldestFile}/`) && k.endsWith('.zst')));
    const again = await onCopy(['verify']);
    assert.equal(again.code, 0, again.stdout);
    assert.doesNotMatch(again.stdout, /expire was stopped/);
  });

  it('refuses to run without a policy (USAGE, exit 2)', async () => {
    const r = await plain(['expire']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--keep-days N .*--keep-backups N/);
  });
});
