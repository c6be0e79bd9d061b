/**
 * What the repository promises when something is off (issue 15), end to end with the real CLI, a
 * real MariaDB and a file:// repository:
 * - expire meets a backup manifest it cannot read (one damaged byte; a newer format): it exits
 *   REFUSED (8) naming the manifest and deletes nothing (the repository is listed before and after);
 *   verify fails on it and names it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import type { BackupManifest } from '../../src/catalog/index.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

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
      return `${JSON.stringify({ ...data, format: 2, newField: { x: 1 } }, null, 2)}\n`;
    });
    assert.equal(r.expire.code, ExitCode.REFUSED, r.expire.stderr);
    assert.match(r.expire.stderr, /written by a newer mysql-pitr \(format 2\); upgrade/);
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
});
