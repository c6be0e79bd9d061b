/**
 * What the repository promises when something is off (issue 15), end to end with the real CLI, a
 * real MariaDB and a file:// repository:
 * - expire meets a backup manifest it cannot read (one damaged byte; a newer format): it exits
 *   REFUSED (8) naming the manifest and deletes nothing (the repository is listed before and after);
 *   verify fails on it and names it.
 * - debris: `backup create` killed with SIGKILL mid-dump (under umask 000) leaves a hidden
 *   `.pitr-tmp-dump.sql.zst-*` in its backup folder and a private temp folder whose `client.cnf`
 *   holds the password; the next run of any command (`backup list`) removes both. After SIGTERM no
 *   secret file is left at all. The dump program is a wrapper that runs mariadb-dump and then
 *   sleeps, so "mid-dump" is a state, not a race.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { cliCommand, runCli, PROJECT_ROOT, type CliResult } from '../support/run-cli.js';
import type { BackupManifest } from '../../src/catalog/index.js';
import { ExitCode } from '../../src/errors/index.js';

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

describe('repository safety (real CLI, real MariaDB, file:// repository)', () => {
  let server: MariadbServer;
  let work: string;
  let repoDir: string;
  let repo: string;
  let ids: string[] = [];
  const cli = (args: string[], password = ''): Promise<CliResult> =>
    runCli(args, {
      env: { MYSQL_PITR_SOURCE_PASSWORD: password, PATH: `/usr/sbin:${process.env.PATH ?? ''}` },
    });

  before(async () => {
    server = await startMariadb({ maxBinlogSize: '1M' });
    work = await mkdtemp(join(tmpdir(), 'pitr-safety-'));
    repoDir = join(work, 'repo');
    repo = pathToFileURL(repoDir).href;
    const conn = await server.connect();
    try {
      for (let round = 0; round < 2; round++) {
        await runWorkload(conn, {
          seed: round + 1,
          database: `wl${round}`,
          transactions: 100,
          bigTransactions: 0,
        });
        await conn.query('FLUSH BINARY LOGS');
        const b = await cli(
          ['backup', 'create', '--source', server.url(server.admin.user), '--repo', repo],
          server.admin.password,
        );
        assert.equal(b.code, 0, b.stderr);
      }
    } finally {
      await conn.end();
    }
    const a = await cli(
      ['archive', '--source', server.url('repl'), '--repo', repo, '--until-caught-up'],
      server.repl.password,
    );
    assert.equal(a.code, 0, a.stderr);
    // the first backup is 20 days old: `expire --keep-backups 1` deletes it and the binlogs before the second
    ids = (await readdir(join(repoDir, 'backups'))).sort();
    assert.equal(ids.length, 2);
    for (const [i, age] of [20, 1].entries()) {
      const path = join(repoDir, 'backups', ids[i]!, 'manifest.json');
      const m = JSON.parse(await readFile(path, 'utf8')) as BackupManifest;
      m.startedAt = new Date(Date.now() - age * DAY).toISOString();
      m.finishedAt = new Date(Date.now() - age * DAY + 5000).toISOString();
      await writeFile(path, `${JSON.stringify(m, null, 2)}\n`);
    }
    const v = await cli(['verify', '--repo', repo]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const dry = await cli(['expire', '--keep-backups', '1', '--dry-run', '--repo', repo]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would expire backup ${ids[0]}`));
  });

  after(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Runs expire and verify against the repository with `manifest` of the old backup replaced by `text`. */
  async function withManifest(
    text: (original: string) => string,
  ): Promise<{ expire: CliResult; verify: CliResult; before: string[]; after: string[]; key: string }> {
    const key = `backups/${ids[0]}/manifest.json`;
    const path = join(repoDir, key);
    const original = await readFile(path, 'utf8');
    await writeFile(path, text(original));
    try {
      const beforeList = await walk(repoDir);
      const expire = await cli(['expire', '--keep-backups', '1', '--repo', repo]);
      const afterList = await walk(repoDir);
      const verify = await cli(['verify', '--repo', repo]);
      return { expire, verify, before: beforeList, after: afterList, key };
    } finally {
      await writeFile(path, original);
    }
  }

  it('a manifest with one damaged byte: expire exits REFUSED and deletes nothing; verify fails naming it', async () => {
    const r = await withManifest((m) => {
      const i = m.indexOf('"startedAt"');
      return `${m.slice(0, i)}X${m.slice(i + 1)}`; // one byte: the quote opening the key
    });
    assert.equal(r.expire.code, ExitCode.REFUSED, r.expire.stderr);
    assert.equal(ExitCode.REFUSED, 8);
    assert.match(r.expire.stderr, /expire deleted nothing/);
    assert.ok(r.expire.stderr.includes(r.key), r.expire.stderr);
    assert.deepEqual(r.after, r.before);
    assert.ok(r.before.some((k) => k.startsWith('binlogs/')));
    assert.equal(r.verify.code, ExitCode.DATA, r.verify.stdout);
    assert.match(r.verify.stdout, /PROBLEM backup-manifest-unreadable/);
    assert.ok(r.verify.stdout.includes(r.key), r.verify.stdout);
    assert.doesNotMatch(r.verify.stdout, /\(ignored\)/);
  });

  it('a manifest of a newer format: expire exits REFUSED saying to upgrade, deletes nothing; verify fails', async () => {
    const r = await withManifest((m) => {
      const data = JSON.parse(m) as Record<string, unknown>;
      return `${JSON.stringify({ ...data, format: 3, newField: { x: 1 } }, null, 2)}\n`;
    });
    assert.equal(r.expire.code, ExitCode.REFUSED, r.expire.stderr);
    assert.match(r.expire.stderr, /written by a newer mysql-pitr \(format 3\); upgrade/);
    assert.ok(r.expire.stderr.includes(r.key));
    assert.deepEqual(r.after, r.before);
    assert.notEqual(r.verify.code, 0);
    assert.match(r.verify.stdout, /PROBLEM backup-manifest-unreadable: .*format 2/);
  });

  it('once the manifest is readable again, expire carries out the plan it refused', async () => {
    const r = await cli(['expire', '--keep-backups', '1', '--repo', repo]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`expired backup ${ids[0]}`));
    assert.deepEqual(await readdir(join(repoDir, 'backups')), [ids[1]]);
  });

  describe('debris of stopped commands', () => {
    let repo2Dir: string;
    let repo2: string;
    let tmp: string;
    let slowDump: string;

    before(async () => {
      repo2Dir = join(work, 'repo2');
      repo2 = pathToFileURL(repo2Dir).href;
      tmp = join(work, 'tmp');
      await mkdir(tmp);
      slowDump = join(work, 'slow-dump.sh');
      await writeFile(
        slowDump,
        '#!/bin/sh\n' +
          'case "$*" in *--version*) exec /usr/bin/mariadb-dump "$@";; esac\n' +
          '/usr/bin/mariadb-dump "$@" || exit $?\n' +
          'exec sleep 300\n',
      );
      await chmod(slowDump, 0o755);
    });

    /** `backup create` into repo2 with the slow dump, TMPDIR=tmp, umask 000, in its own process group. */
    function startBackup(): { pid: number; closed: Promise<{ code: number | null; signal: string | null }> } {
      const { command, args } = cliCommand([
        'backup',
        'create',
        '--source',
        server.url(server.admin.user),
        '--repo',
        repo2,
        '--dump-program',
        slowDump,
        // one object: this checks the store's temporary file (split backups: backup-split.test.ts)
        '--single-file',
      ]);
      const env: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MYSQL_PITR_')) env[k] = v;
      const child = spawn('sh', ['-c', 'umask 000; exec "$0" "$@"', command, ...args], {
        cwd: PROJECT_ROOT,
        env: { ...env, TMPDIR: tmp, MYSQL_PITR_SOURCE_PASSWORD: server.admin.password },
        stdio: 'ignore',
        detached: true,
      });
      const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal })),
      );
      return { pid: child.pid!, closed };
    }

    async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
      for (let i = 0; i < 600; i++) {
        const got = await probe();
        if (got !== undefined) return got;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`timed out waiting for ${what}`);
    }

    const secretFiles = async (): Promise<string[]> =>
      (await readdir(tmp)).filter((n) => n.startsWith('mysql-pitr-')).map((n) => join(tmp, n, 'client.cnf'));

    it('kill -9 of `backup create` mid-dump: the next command removes the temporary object and the secret file', async () => {
      const b = startBackup();
      try {
        const tempObject = await until('the dump to be stored', async () => {
          const files = await walk(repo2Dir).catch(() => []);
          return files.find((f) =>
            /^backups\/[^/]+\/\.pitr-tmp-dump\.sql\.zst-h[0-9a-f]{8}-p\d+-[0-9a-f]{12}$/.test(f),
          );
        });
        const [cnf] = await until('the defaults file', async () => {
          const f = await secretFiles();
          return f.length > 0 ? f : undefined;
        });
        assert.match(await readFile(cnf!, 'utf8'), new RegExp(server.admin.password));
        // under umask 000 the repository and the secret stay private
        assert.equal((await stat(join(repo2Dir, tempObject))).mode & 0o777, 0o600);
        assert.equal((await stat(join(repo2Dir, 'backups'))).mode & 0o777, 0o700);
        assert.equal((await stat(cnf!)).mode & 0o777, 0o600);
        assert.equal((await stat(join(cnf!, '..'))).mode & 0o777, 0o700);
        assert.ok(cnf!.includes(`-p${b.pid}-`), cnf);
        process.kill(-b.pid, 'SIGKILL');
        assert.equal((await b.closed).signal, 'SIGKILL');
      } finally {
        try {
          process.kill(-b.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      // the debris is there, and hidden from the catalog
      assert.equal((await walk(repo2Dir)).length, 1);
      assert.equal((await secretFiles()).length, 1);

      const list = await runCli(['backup', 'list', '--repo', repo2], { env: { TMPDIR: tmp } });
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(await walk(repo2Dir), []);
      assert.deepEqual(await readdir(repo2Dir).catch(() => []), []);
      assert.deepEqual(await secretFiles(), []);
    });

    it('SIGTERM of `backup create` mid-dump: exit 130, no secret file and no temporary object left', async () => {
      const b = startBackup();
      try {
        await until('the defaults file and the stored dump', async () => {
          const files = await walk(repo2Dir).catch(() => []);
          return (await secretFiles()).length > 0 && files.some((f) => f.includes('.pitr-tmp-'))
            ? true
            : undefined;
        });
        process.kill(b.pid, 'SIGTERM');
        assert.equal((await b.closed).code, ExitCode.INTERRUPTED);
      } finally {
        try {
          process.kill(-b.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      assert.deepEqual(await secretFiles(), []);
      assert.deepEqual(
        (await walk(repo2Dir)).filter((f) => f.includes('.pitr-tmp-')),
        [],
      );
    });
  });
});
