/**
 * `mysql-pitr backup create|list|show` end to end: the real CLI as a child process, real MariaDB
 * servers (source, replica, restore target), a file:// repository and the S3 emulator.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';
import { openObjectStore } from '../../src/storage/index.js';
import type { BackupManifest } from '../../src/catalog/index.js';

// A password an option file must quote and escape: double quote, backslash, '#', space, single quote.
const DUMPER = { user: 'dumper', password: `p"a\\ss#w rd'x` };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function sha256Of(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const c of stream) h.update(c as Buffer);
  return h.digest('hex');
}

async function byteCount(stream: Readable): Promise<number> {
  let n = 0;
  for await (const c of stream) n += (c as Buffer).length;
  return n;
}

/** Pipes `input` through `zstd -dc` and returns the child's stdout. */
function zstdDecompress(input: Readable): Readable {
  const child = spawn('zstd', ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'inherit'] });
  input.pipe(child.stdin);
  return child.stdout;
}

/** Loads SQL from `input` into `server` with the mariadb client as root over the socket. */
async function loadSql(server: MariadbServer, input: Readable): Promise<void> {
  const child = spawn('mariadb', ['--no-defaults', `--socket=${server.socket}`, '-uroot'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  input.pipe(child.stdin);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, `loading the dump failed: ${err}`);
}

async function checksums(server: MariadbServer, tables: string[]): Promise<Record<string, string>> {
  const rows = await server.query<{ Table: string; Checksum: string }[]>(
    `CHECKSUM TABLE ${tables.join(', ')}`,
  );
  return Object.fromEntries(rows.map((r) => [r.Table, String(r.Checksum)]));
}

describe('backup create | list | show (real CLI, real MariaDB)', () => {
  let source: MariadbServer;
  let replica: MariadbServer;
  let target: MariadbServer;
  let s3: S3Emulator;
  let work: string;
  let repoUrl: string;
  let env: Record<string, string>;

  before(async () => {
    // one at a time, each assigned at once, so `after` stops whatever did start if one fails
    s3 = await startS3Emulator();
    source = await startMariadb();
    replica = await startMariadb();
    target = await startMariadb({ binlog: false });
    work = await mkdtemp(join(tmpdir(), 'pitr-backup-test-'));
    repoUrl = pathToFileURL(join(work, 'repo')).href;
    env = { MYSQL_PITR_SOURCE_PASSWORD: DUMPER.password, PATH: `/usr/sbin:${process.env.PATH ?? ''}` };
    await source.query(`CREATE USER '${DUMPER.user}'@'%' IDENTIFIED BY ${sqlString(DUMPER.password)}`);
    await source.query(
      `GRANT SELECT, RELOAD, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER, BINLOG MONITOR ON *.* TO '${DUMPER.user}'@'%'`,
    );
    await source.query('CREATE DATABASE shop');
    await source.query(
      'CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, n INT, note VARCHAR(200))',
    );
    await source.query('CREATE TABLE shop.stock (id INT PRIMARY KEY, qty INT, blob_col VARBINARY(64))');
    await source.query('CREATE DATABASE legacy');
    await source.query('CREATE TABLE legacy.hits (id INT) ENGINE=MyISAM');
    // ~60k rows, a few MiB of SQL: the dump takes long enough for concurrent writes to interleave
    for (let b = 0; b < 30; b++) {
      const values = Array.from({ length: 2000 }, (_, i) => `(${b * 2000 + i}, REPEAT('x', 40))`).join(',');
      await source.query(`INSERT INTO shop.orders (n, note) VALUES ${values}`);
    }
    const stock = Array.from(
      { length: 500 },
      (_, i) => `(${i}, 0, UNHEX('00FF${(i % 256).toString(16).padStart(2, '0')}'))`,
    );
    await source.query(`INSERT INTO shop.stock VALUES ${stock.join(',')}`);
  });

  after(async () => {
    await Promise.all([source?.stop(), replica?.stop(), target?.stop(), s3?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const create = (args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> =>
    runCli(['backup', 'create', '--source', source.url(DUMPER.user), ...args], {
      env: { ...env, ...extraEnv },
    });

  it('records the idle source coordinates; list and show return the manifest; password never in argv', async () => {
    const [status] = await source.query<{ File: string; Position: string }[]>('SHOW MASTER STATUS');
    const [gtid] = await source.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
    // a wrapper that records the argv and the defaults file's mode, then runs the real tool
    const argvLog = join(work, 'argv.log');
    const wrapper = join(work, 'dump-wrapper.sh');
    await writeFile(
      wrapper,
      '#!/bin/bash\nprintf "%s\\n" "$@" > "$ARGV_LOG"\nf="${1#--defaults-extra-file=}"\n' +
        'stat -c "mode=%a" "$f" >> "$ARGV_LOG"\nexec mariadb-dump "$@"\n',
    );
    await chmod(wrapper, 0o755);

    // --single-file: one object, manifest format 1 (what older builds read)
    const res = await create(['--repo', repoUrl, '--json', '--single-file', '--dump-program', wrapper], {
      ARGV_LOG: argvLog,
    });
    assert.equal(res.code, 0, res.stderr);
    const m = JSON.parse(res.stdout) as BackupManifest;
    assert.equal(m.format, 1);
    assert.equal(m.parts, undefined);
    assert.deepEqual(m.binlog, { file: status!.File, position: Number(status!.Position) });
    assert.equal(m.gtidPosition, gtid!.p);
    assert.ok(m.gtidPosition && /^0-\d+-\d+$/.test(m.gtidPosition), String(m.gtidPosition));
    assert.equal(m.source.serverId, source.serverId);
    assert.equal(m.source.flavor, 'mariadb');
    assert.equal(m.source.address, `127.0.0.1:${source.port}`);
    assert.equal(m.timeline, `server-id:${source.serverId}`);
    assert.equal(m.databases, null);
    assert.deepEqual(m.nonTransactionalTables, [{ schema: 'legacy', table: 'hits', engine: 'MyISAM' }]);
    assert.match(m.warnings.join('\n'), /legacy\.hits \(MyISAM\)/);
    assert.ok(m.tool.args.includes('--master-data=2') && m.tool.args.includes('--gtid'));

    // argv: no password, the defaults file first and 0600 while the tool ran, and removed after
    const argv = await readFile(argvLog, 'utf8');
    assert.ok(!argv.includes(DUMPER.password) && !argv.includes('p"a'), argv);
    assert.match(argv, /^--defaults-extra-file=\S+client\.cnf\n/);
    assert.match(argv, /mode=600\n$/);
    const defaultsPath = /^--defaults-extra-file=(\S+)/.exec(argv)![1]!;
    await assert.rejects(readFile(defaultsPath), { code: 'ENOENT' });
    assert.ok(!JSON.stringify(m).includes(DUMPER.password));

    // the stored object matches the manifest's sizes and checksums
    const store = openObjectStore(repoUrl);
    const head = await store.head(m.dump!.key);
    assert.equal(head.size, m.dump!.size);
    assert.equal(await sha256Of(await store.getStream(m.dump!.key)), m.dump!.sha256);
    assert.equal(
      await byteCount(zstdDecompress(await store.getStream(m.dump!.key))),
      m.dump!.uncompressedSize,
    );
    assert.equal(m.dump!.uncompressedSha256, undefined, 'new backups do not hash the SQL');

    const list = await runCli(['backup', 'list', '--repo', repoUrl, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as { backups: BackupManifest[]; incomplete: unknown[] };
    assert.deepEqual(listed.backups, [m]);
    assert.deepEqual(listed.incomplete, []);
    const show = await runCli(['backup', 'show', m.id, '--repo', repoUrl, '--json'], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.deepEqual(JSON.parse(show.stdout), m);
    const text = await runCli(['backup', 'show', m.id, '--repo', repoUrl], { env });
    assert.match(text.stdout, new RegExp(`binlog\\s+${status!.File}:${status!.Position}`));
    // no SQL SHA-256 in a new manifest: show prints the stored one only
    assert.ok(
      text.stdout.includes(
        `${m.dump!.key}: ${m.dump!.size} bytes zstd (sha256 ${m.dump!.sha256}), ${m.dump!.uncompressedSize} bytes SQL\n`,
      ),
      text.stdout,
    );
    // the manifest of an older build, with the SQL SHA-256: list and show read it, show prints it
    const oldRepo = pathToFileURL(join(work, 'old-repo')).href;
    const old = { ...m, dump: { ...m.dump!, uncompressedSha256: 'c'.repeat(64) } };
    const oldStore = openObjectStore(oldRepo);
    await oldStore.put(m.dump!.key, await store.getStream(m.dump!.key));
    await oldStore.put(`backups/${m.id}/manifest.json`, Buffer.from(JSON.stringify(old)));
    const oldText = await runCli(['backup', 'show', m.id, '--repo', oldRepo], { env });
    assert.equal(oldText.code, 0, oldText.stderr);
    assert.ok(
      oldText.stdout.includes(`${m.dump!.uncompressedSize} bytes SQL (sha256 ${'c'.repeat(64)})\n`),
      oldText.stdout,
    );
    const oldList = await runCli(['backup', 'list', '--repo', oldRepo, '--json'], { env });
    assert.deepEqual((JSON.parse(oldList.stdout) as { backups: BackupManifest[] }).backups, [old]);
  });

  it('a split backup taken during writes, stored on S3, equals a replica stopped at the recorded position', async () => {
    let writing = true;
    let commits = 0;
    const writer = (async () => {
      const conn = await source.connect();
      try {
        while (writing) {
          await conn.query('BEGIN');
          await conn.query('INSERT INTO shop.orders (n, note) VALUES (?, ?)', [commits, `during-${commits}`]);
          await conn.query('UPDATE shop.stock SET qty = qty + 1 WHERE id = ?', [commits % 500]);
          await conn.query('COMMIT');
          commits += 1;
        }
      } finally {
        await conn.end();
      }
    })();
    await sleep(200);
    const s3Repo = `s3://${s3.bucket}/pitr/db1`;
    const s3Env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    let res: CliResult;
    try {
      res = await create(
        [
          '--repo',
          s3Repo,
          '--s3-endpoint',
          s3.endpoint,
          '--region',
          s3.region,
          '--databases',
          'shop',
          '--json',
        ],
        s3Env,
      );
    } finally {
      await sleep(200);
      writing = false;
      await writer;
    }
    assert.equal(res.code, 0, res.stderr);
    const m = JSON.parse(res.stdout) as BackupManifest;
    assert.deepEqual(m.databases, ['shop']);
    assert.deepEqual(m.nonTransactionalTables, []);
    assert.ok(commits > 0);

    // replica: replay the source's binlog from the start up to the manifest's coordinates
    await replica.query(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${source.port}, MASTER_USER='${source.repl.user}', ` +
        `MASTER_PASSWORD='${source.repl.password}', MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no`,
    );
    await replica.query(
      `START SLAVE UNTIL MASTER_LOG_FILE='${m.binlog.file}', MASTER_LOG_POS=${m.binlog.position}`,
    );
    let status: Record<string, string> | undefined;
    for (let i = 0; i < 600; i++) {
      [status] = await replica.query<Record<string, string>[]>('SHOW SLAVE STATUS');
      if (status?.Slave_SQL_Running === 'No') break;
      await sleep(100);
    }
    assert.equal(status?.Slave_SQL_Running, 'No', `replica did not stop: ${JSON.stringify(status)}`);
    assert.equal(status?.Last_SQL_Error, '');
    assert.equal(status?.Relay_Master_Log_File, m.binlog.file);
    assert.equal(Number(status?.Exec_Master_Log_Pos), m.binlog.position);
    await replica.query('STOP SLAVE');

    // target: load the split backup's parts from S3 in restore order, one session each
    assert.equal(m.format, 2);
    const store = openObjectStore(s3Repo, {
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: s3.credentials,
    });
    for (const stage of ['pre', 'rows', 'post'] as const) {
      for (const p of m.parts!.filter((x) => x.stage === stage)) {
        assert.equal(await sha256Of(await store.getStream(p.key)), p.sha256, p.key);
        await loadSql(target, zstdDecompress(await store.getStream(p.key)));
      }
    }

    const tables = ['shop.orders', 'shop.stock'];
    const fromDump = await checksums(target, tables);
    assert.deepEqual(fromDump, await checksums(replica, tables));
    // the writes really overlapped the dump: the source moved on past the snapshot
    assert.notDeepEqual(fromDump, await checksums(source, tables));

    const list = await runCli(
      ['backup', 'list', '--repo', s3Repo, '--s3-endpoint', s3.endpoint, '--region', s3.region, '--json'],
      { env: { ...env, ...s3Env } },
    );
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { backups: BackupManifest[] }).backups.map((b) => b.id),
      [m.id],
    );
  });

  it('a dump killed midway (SIGKILL) leaves no manifest and no data object, and says so', async (t) => {
    const repo = pathToFileURL(join(work, 'repo-killed')).href;
    const wrapper = join(work, 'killed-dump.sh');
    await writeFile(wrapper, '#!/bin/bash\nmariadb-dump "$@" | head -c 200000\nkill -9 $$\n');
    await chmod(wrapper, 0o755);
    const res = await create(['--repo', repo, '--dump-program', wrapper]);
    t.diagnostic(res.stderr);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /killed by SIGKILL/);
    assert.match(res.stderr, /no manifest was written/);
    const list = await runCli(['backup', 'list', '--repo', repo, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), { backups: [], incomplete: [] });
    const leftovers = await readdir(join(work, 'repo-killed'), { recursive: true }).catch(() => []);
    assert.deepEqual(
      leftovers.filter((f) => /\.(zst|json)$/.test(String(f))),
      [],
    );
  });

  it('a dropped connection fails the backup with the dump tool stderr tail', async (t) => {
    const repo = pathToFileURL(join(work, 'repo-dropped')).href;
    const stallFile = join(work, 'stalled');
    const wrapper = join(work, 'stalling-dump.sh');
    // A table too big for the loopback socket buffers (~24 MB), so the server is still sending its
    // rows when the reader stalls at its first INSERT line: the connection is dropped in the middle
    // of the data query, where mariadb-dump reports the loss (Error 2013). Killing it at an
    // arbitrary moment sometimes hit a metadata query, which mariadb-dump fails with exit code 2
    // and no message at all.
    await source.query('CREATE DATABASE bulk');
    await source.query('CREATE TABLE bulk.dropme (id INT PRIMARY KEY AUTO_INCREMENT, pad VARCHAR(1000))');
    const rows = Array.from({ length: 100 }, () => `('${'p'.repeat(990)}')`).join(',');
    for (let i = 0; i < 240; i++) await source.query(`INSERT INTO bulk.dropme (pad) VALUES ${rows}`);
    try {
      await writeFile(
        wrapper,
        [
          '#!/bin/bash',
          'set -o pipefail',
          'mariadb-dump "$@" | {',
          '  while IFS= read -r line; do',
          '    printf \'%s\\n\' "$line"',
          '    if [[ $line == "INSERT INTO \\`dropme\\`"* ]]; then touch "$STALL_FILE"; sleep 3; break; fi',
          '  done',
          '  cat',
          '}',
          '',
        ].join('\n'),
      );
      await chmod(wrapper, 0o755);
      const running = create(['--repo', repo, '--dump-program', wrapper], { STALL_FILE: stallFile });
      let killed = 0;
      for (let i = 0; i < 300 && killed === 0; i++) {
        await sleep(50);
        const stalled = await readFile(stallFile).then(
          () => true,
          () => false,
        );
        if (!stalled) continue;
        const conns = await source.query<{ ID: string; INFO: string | null }[]>(
          `SELECT ID, INFO FROM information_schema.PROCESSLIST WHERE USER = '${DUMPER.user}' AND COMMAND = 'Query' ` +
            "AND INFO LIKE '%FROM `dropme`%'",
        );
        for (const c of conns) {
          t.diagnostic(`killing connection ${c.ID} while it runs ${c.INFO}`);
          await source.query(`KILL CONNECTION ${c.ID}`);
          killed += 1;
        }
      }
      assert.ok(killed > 0, 'found no dump connection reading bulk.dropme to kill');
      const res = await running;
      t.diagnostic(res.stderr);
      assert.equal(res.code, 3, res.stderr);
      assert.match(res.stderr, /failed with exit code \d+/);
      assert.match(res.stderr, /Lost connection|server has gone away|Error 20(13|06)/i);
      const list = await runCli(['backup', 'list', '--repo', repo, '--json'], { env });
      assert.deepEqual(JSON.parse(list.stdout), { backups: [], incomplete: [] });
    } finally {
      await source.query('DROP DATABASE bulk');
    }
  });

  it('a repository that cannot be written fails with the storage error and stops the dump', async (t) => {
    const blocker = join(work, 'not-a-dir');
    await writeFile(blocker, 'a regular file where the repository directory should be\n');
    const res = await create(['--repo', pathToFileURL(join(blocker, 'repo')).href]);
    t.diagnostic(res.stderr);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /not-a-dir/);
    assert.doesNotMatch(res.stderr, /mariadb-dump (was killed|failed)/);
  });

  it('backup list flags folders without a valid manifest as incomplete; show refuses them', async () => {
    const dir = join(work, 'repo-incomplete');
    const repo = pathToFileURL(dir).href;
    const store = openObjectStore(repo);
    const noManifest = '20261125T100000000Z-aaaaaa';
    const badManifest = '20261125T110000000Z-bbbbbb';
    await store.put(`backups/${noManifest}/dump.sql.zst`, Buffer.from('partial'));
    await store.put(`backups/${badManifest}/dump.sql.zst`, Buffer.from('data'));
    await store.put(`backups/${badManifest}/manifest.json`, Buffer.from('{"format": 1, "id": "x"'));
    const list = await runCli(['backup', 'list', '--repo', repo, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const out = JSON.parse(list.stdout) as {
      backups: unknown[];
      incomplete: { id: string; reason: string }[];
    };
    assert.deepEqual(out.backups, []);
    assert.deepEqual(
      out.incomplete.map((i) => i.id),
      [noManifest, badManifest],
    );
    assert.match(out.incomplete[0]!.reason, /no manifest/);
    assert.match(out.incomplete[1]!.reason, /not valid JSON/);
    const text = await runCli(['backup', 'list', '--repo', repo], { env });
    assert.match(text.stdout, /no complete backups/);
    assert.match(text.stdout, new RegExp(`incomplete[^\n]*\n${noManifest}`));
    const show = await runCli(['backup', 'show', noManifest, '--repo', repo], { env });
    assert.equal(show.code, 4, show.stderr);
    assert.match(show.stderr, /has no manifest/);
  });

  it('a missing dump program gets the install hint (bad --dump-program, and a PATH without it)', async (t) => {
    const repo = pathToFileURL(join(work, 'repo-missing')).href;
    const bad = await create(['--repo', repo, '--dump-program', join(work, 'no-such-dump')]);
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /apt-get install mariadb-client/);
    const noPath = await create(['--repo', repo], { PATH: join(work, 'empty-bin') });
    t.diagnostic(noPath.stderr);
    assert.equal(noPath.code, 3, noPath.stderr);
    assert.match(noPath.stderr, /mariadb-dump or mysqldump not found on PATH/);
    assert.match(noPath.stderr, /apt-get install mariadb-client/);
  });
});
