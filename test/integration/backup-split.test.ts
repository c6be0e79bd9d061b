/**
 * Split backups (`backup create`, the default; issues 17 and 19), end to end: the real CLI as a
 * child process against real MariaDB servers. The parts are loaded here with the `mariadb` client
 * directly, in the manifest's restore order (pre in order, rows in parallel, post in order), each
 * part in its own session: so each part is shown to be a self-contained script.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { cliCommand, PROJECT_ROOT, runCli, type CliResult } from '../support/run-cli.js';
import { createUserSchema, qi, snapshotState, USER_DATABASES } from '../support/user-like-workload.js';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import type { BackupManifest, ManifestPart } from '../../src/catalog/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** zstd -dc of `data`. */
async function unzstd(data: Buffer): Promise<Buffer> {
  const child = spawn('zstd', ['-dc', '-q'], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(data);
  return readAll(child.stdout);
}

/** Runs `sql` through the mariadb client as root over the socket, in one new session. */
async function loadSql(server: MariadbServer, sql: Buffer, what: string): Promise<void> {
  // --comments keeps the comments in trigger and routine bodies, as the restore's client does
  const child = spawn('mariadb', ['--no-defaults', `--socket=${server.socket}`, '-uroot', '--comments'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdin.end(sql);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  assert.equal(code, 0, `loading ${what} failed: ${err}`);
}

/** The SQL of a part, checked against the manifest's sizes and checksums. */
async function partSql(store: ObjectStore, p: ManifestPart): Promise<string> {
  const stored = await readAll(await store.getStream(p.key));
  assert.equal(stored.length, p.size, p.key);
  assert.equal(createHash('sha256').update(stored).digest('hex'), p.sha256, p.key);
  const sql = await unzstd(stored);
  assert.equal(sql.length, p.uncompressedSize, p.key);
  assert.equal(p.uncompressedSha256, undefined, `${p.key}: new backups do not hash the SQL`);
  return sql.toString('utf8');
}

/** Loads `parts` in restore order: pre in order, rows 3 at a time, post in order; one session each. */
async function loadParts(server: MariadbServer, store: ObjectStore, parts: ManifestPart[]): Promise<void> {
  const label = (p: ManifestPart): string => `${p.key} (${p.stage} ${p.database}.${p.table})`;
  for (const p of parts.filter((x) => x.stage === 'pre'))
    await loadSql(server, Buffer.from(await partSql(store, p)), label(p));
  const rows = parts.filter((x) => x.stage === 'rows');
  const lanes = Array.from({ length: 3 }, async () => {
    for (let p = rows.shift(); p; p = rows.shift())
      await loadSql(server, Buffer.from(await partSql(store, p)), label(p));
  });
  await Promise.all(lanes);
  for (const p of parts.filter((x) => x.stage === 'post'))
    await loadSql(server, Buffer.from(await partSql(store, p)), label(p));
}

describe('split backups: backup create stores parts per table and chunk (real CLI, real MariaDB)', () => {
  let source: MariadbServer;
  let replica: MariadbServer;
  let target: MariadbServer;
  let target2: MariadbServer;
  let work: string;
  let env: Record<string, string>;
  const databases = [...USER_DATABASES, 'bulk'];

  before(async () => {
    source = await startMariadb();
    replica = await startMariadb();
    target = await startMariadb({ binlog: false });
    target2 = await startMariadb({ binlog: false });
    work = await mkdtemp(join(tmpdir(), 'pitr-split-test-'));
    env = { MYSQL_PITR_SOURCE_PASSWORD: source.admin.password, PATH: `/usr/sbin:${process.env.PATH ?? ''}` };
    const conn = await source.connect();
    try {
      await createUserSchema(conn);
      // text that looks like the dump's section comments and statements, in a routine body, a
      // trigger body and in data
      await conn.query(
        "CREATE PROCEDURE app.`tricky proc`() BEGIN\n  SELECT '\n--\n-- Table structure for table `evil`\n--\nINSERT INTO x VALUES\n(1);\nDELIMITER ;\n';\nEND",
      );
      await conn.query(
        "CREATE TRIGGER app.orders_bi BEFORE INSERT ON app.orders FOR EACH ROW SET NEW.note = IF(NEW.note = '\n-- Dumping data for table `orders`\n', 'x', NEW.note)",
      );
      await conn.query(
        "INSERT INTO app.events_log (at, kind, payload) VALUES (NOW(6), 'marker', '\n--\n-- Table structure for table `x`\n--\nUNLOCK TABLES;\nDELIMITER ;;\n')",
      );
      // a table large enough for several chunks at --chunk-size 64KiB
      await conn.query('CREATE DATABASE bulk');
      await conn.query(
        'CREATE TABLE bulk.`big.one` (id INT PRIMARY KEY AUTO_INCREMENT, n INT, pad VARCHAR(200), b VARBINARY(32))',
      );
      for (let i = 0; i < 20; i++) {
        const values = Array.from(
          { length: 500 },
          (_, k) =>
            `(${i * 500 + k}, REPEAT('p', ${50 + (k % 100)}), UNHEX('00FF${(k % 256).toString(16).padStart(2, '0')}'))`,
        ).join(',');
        await conn.query(`INSERT INTO bulk.\`big.one\` (n, pad, b) VALUES ${values}`);
      }
    } finally {
      await conn.end();
    }
  });

  after(async () => {
    await Promise.all([source?.stop(), replica?.stop(), target?.stop(), target2?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const create = (args: string[]): Promise<CliResult> =>
    runCli(['backup', 'create', '--source', source.url(), '--databases', databases.join(','), ...args], {
      env,
    });

  it('splits a user-like schema into parts of the right stages, each loading alone to the same data', async () => {
    const repo = pathToFileURL(join(work, 'repo')).href;
    // small INSERT statements (--net-buffer-length) and 64 KiB chunks: bulk.big.one needs several
    const res = await create([
      '--repo',
      repo,
      '--json',
      '--chunk-size',
      '64KiB',
      '--dump-extra-args=--net-buffer-length=16384',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const m = JSON.parse(res.stdout) as BackupManifest;
    assert.equal(m.format, 2);
    assert.equal(m.dump, undefined);
    const parts = m.parts!;
    const [status] = await source.query<{ File: string; Position: string }[]>('SHOW MASTER STATUS');
    assert.deepEqual(m.binlog, { file: status!.File, position: Number(status!.Position) });
    assert.match(String(m.gtidPosition), /^0-\d+-\d+$/);

    // stages: one pre part per base table and view, rows chunks 0..n-1 after it, post for triggers
    const tables = await source.query<{ db: string; t: string; type: string }[]>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, TABLE_TYPE AS type FROM information_schema.TABLES ` +
        `WHERE TABLE_SCHEMA IN (${databases.map((d) => `'${d}'`).join(',')})`,
    );
    for (const { db, t, type } of tables) {
      const own = parts.filter((p) => p.database === db && p.table === t);
      const pre = own.filter((p) => p.stage === 'pre');
      assert.equal(pre.length, 1, `${db}.${t}: ${JSON.stringify(own)}`);
      const rows = own.filter((p) => p.stage === 'rows');
      assert.deepEqual(
        rows.map((p) => p.chunk),
        rows.map((_, i) => i),
      );
      for (const r of rows) assert.ok(parts.indexOf(r) > parts.indexOf(pre[0]!));
      if (type === 'VIEW') assert.equal(own.filter((p) => p.stage === 'post').length, 1, `view ${db}.${t}`);
    }
    const big = parts.filter((p) => p.table === 'big.one' && p.stage === 'rows');
    assert.ok(big.length >= 3, `bulk.big.one in ${big.length} chunks`);
    for (const db of databases) {
      assert.equal(
        parts.filter((p) => p.stage === 'pre' && p.database === db && p.table === null).length,
        1,
        db,
      );
    }
    const store = openObjectStore(repo);
    const sqlOf = new Map<ManifestPart, string>();
    for (const p of parts) sqlOf.set(p, await partSql(store, p));
    const where = (p: ManifestPart): string => `${p.stage} ${p.database}.${p.table}`;
    for (const p of parts) {
      const sql = sqlOf.get(p)!;
      assert.match(sql, /FOREIGN_KEY_CHECKS=0/, where(p));
      assert.match(sql, /UNIQUE_CHECKS=0/, where(p));
      assert.match(sql, /SET NAMES utf8mb4/, where(p));
      if (!(p.stage === 'pre' && p.table === null))
        assert.ok(sql.includes(`USE ${qi(p.database!)};\n`), where(p));
      if (p.stage === 'rows') {
        assert.doesNotMatch(
          sql,
          /^(LOCK TABLES|UNLOCK TABLES|\/\*!40000 ALTER TABLE|CREATE|DROP|DELIMITER)/m,
          where(p),
        );
        assert.ok(sql.trimEnd().endsWith(';'), where(p));
        assert.ok(p.uncompressedSize <= 64 * 1024 + 16384 + 4096, `${where(p)}: ${p.uncompressedSize}`);
      }
    }
    const triggers = parts.filter((p) => p.stage === 'post' && p.database === 'app' && p.table === 'orders');
    assert.equal(triggers.length, 1);
    assert.match(sqlOf.get(triggers[0]!)!, /TRIGGER[^]*orders_bi[^]*Dumping data for table `orders`/);
    const routines = parts.filter((p) => p.stage === 'post' && p.database === 'app' && p.table === null);
    assert.ok(
      routines.some((p) => /PROCEDURE `tricky proc`[^]*Table structure for table `evil`/.test(sqlOf.get(p)!)),
    );

    // every part in its own session, in restore order: the same data and objects as the source
    await loadParts(target, store, parts);
    const expected = await snapshotState(await source.connect(), databases);
    const conn = await target.connect();
    let got: Awaited<ReturnType<typeof snapshotState>>;
    try {
      got = await snapshotState(conn, databases);
    } finally {
      await conn.end();
    }
    assert.deepEqual(got.checksums, expected.checksums);
    assert.deepEqual(Object.keys(got.objects).sort(), Object.keys(expected.objects).sort());
    for (const [k, v] of Object.entries(expected.objects)) {
      if (/^(table|view|database) /.test(k)) {
        assert.equal(got.objects[k], v, k);
      } else {
        // triggers, routines, events: the same definition; their session character set is what the
        // dump tool sets (the same as loading its whole output), not the creating session's
        const body = (x: string): string =>
          String(
            Object.entries(JSON.parse(x) as Record<string, unknown>).find(([f]) =>
              /^(Create |SQL Original)/.test(f),
            )?.[1],
          );
        assert.equal(body(got.objects[k]!), body(v), k);
      }
    }

    // one table alone (what a table restore fetches): its schema's pre part, its own parts
    const alone = parts.filter(
      (p) =>
        p.database === 'bulk' &&
        (p.table === 'big.one' || (p.stage === 'pre' && p.table === null)) &&
        p.stage !== 'post',
    );
    await loadParts(target2, store, alone);
    const [a] = await target2.query<{ Checksum: string }[]>('CHECKSUM TABLE bulk.`big.one`');
    assert.equal(String(a!.Checksum), expected.checksums['bulk.big.one']);
    const others = await target2.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('app', 'ünï code')",
    );
    assert.equal(Number(others[0]!.n), 0);
  });

  it('a split backup taken during writes equals a replica stopped at the recorded position', async () => {
    let writing = true;
    let commits = 0;
    const writer = (async () => {
      const conn = await source.connect();
      try {
        while (writing) {
          await conn.query('BEGIN');
          await conn.query('INSERT INTO bulk.`big.one` (n, pad) VALUES (?, ?)', [
            commits,
            `during-${commits}`,
          ]);
          await conn.query('UPDATE app.customers SET balance = balance + 1 WHERE id = ?', [
            (commits % 30) + 1,
          ]);
          await conn.query('COMMIT');
          commits += 1;
        }
      } finally {
        await conn.end();
      }
    })();
    await sleep(200);
    const repo = pathToFileURL(join(work, 'repo-writes')).href;
    let res: CliResult;
    try {
      res = await create([
        '--repo',
        repo,
        '--json',
        '--chunk-size',
        '64KiB',
        '--dump-extra-args=--net-buffer-length=16384',
      ]);
    } finally {
      await sleep(200);
      writing = false;
      await writer;
    }
    assert.equal(res.code, 0, res.stderr);
    const m = JSON.parse(res.stdout) as BackupManifest;
    assert.ok(commits > 0);

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
    assert.equal(Number(status?.Exec_Master_Log_Pos), m.binlog.position);
    await replica.query('STOP SLAVE');

    await target.query(`DROP DATABASE IF EXISTS bulk`);
    for (const db of USER_DATABASES) await target.query(`DROP DATABASE IF EXISTS ${qi(db)}`);
    await loadParts(target, openObjectStore(repo), m.parts!);
    const tables = ['bulk.`big.one`', 'app.customers', 'app.orders', 'app.audit'];
    const sums = async (s: MariadbServer): Promise<string[]> =>
      (await s.query<{ Checksum: string }[]>(`CHECKSUM TABLE ${tables.join(', ')}`)).map((r) =>
        String(r.Checksum),
      );
    const fromParts = await sums(target);
    assert.deepEqual(fromParts, await sums(replica));
    // the writes really overlapped the dump
    assert.notDeepEqual(fromParts, await sums(source));
  });

  it('the dump tool writes through a 1 MiB buffer (stdbuf) into a FIFO, or a socket without mkfifo; both backups complete', async () => {
    const wrapper = join(work, 'stdbuf-dump.sh');
    // records the stdout buffer stdbuf gave it (coreutils sets _STDBUF_O, in bytes, for its preload
    // library) and what its stdout is (a FIFO read into one reused buffer, or Node's socket pair)
    await writeFile(
      wrapper,
      '#!/bin/bash\ncase "$*" in *--version*) exec mariadb-dump "$@";; esac\n' +
        'echo "${_STDBUF_O:-none} $(stat -L -c %F /proc/$$/fd/1)" > "$0.out"\nexec mariadb-dump "$@"\n',
    );
    await chmod(wrapper, 0o755);
    // a `mkfifo` that fails, first on the PATH: the backup reads the tool through Node's own pipe
    const noFifo = join(work, 'no-mkfifo');
    await mkdir(noFifo, { recursive: true });
    await writeFile(join(noFifo, 'mkfifo'), '#!/bin/sh\nexit 1\n');
    await chmod(join(noFifo, 'mkfifo'), 0o755);
    const sizes: number[][] = [];
    for (const [name, kind, path] of [
      ['repo-stdbuf', 'fifo', env.PATH!],
      ['repo-no-fifo', 'socket', `${noFifo}:${env.PATH!}`],
    ] as const) {
      const repo = pathToFileURL(join(work, name)).href;
      const res = await runCli(
        [
          'backup',
          'create',
          '--source',
          source.url(),
          '--databases',
          databases.join(','),
          '--repo',
          repo,
          '--dump-program',
          wrapper,
          '--json',
        ],
        { env: { ...env, PATH: path } },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.equal((await readFile(`${wrapper}.out`, 'utf8')).trim(), `${1024 * 1024} ${kind}`, name);
      const m = JSON.parse(res.stdout) as BackupManifest;
      assert.ok(m.parts!.some((p) => p.stage === 'rows'));
      const store = openObjectStore(repo);
      for (const p of m.parts!) await partSql(store, p); // stored size, SHA-256, SQL size
      sizes.push(m.parts!.map((p) => p.uncompressedSize));
    }
    assert.equal(sizes[0]!.length, sizes[1]!.length, 'the same parts either way');
  });

  it('a dump that fails after some parts were stored leaves no manifest and no part', async () => {
    const dir = join(work, 'repo-failed');
    const wrapper = join(work, 'failing-dump.sh');
    // enough output for several stored parts, then the tool dies
    await writeFile(
      wrapper,
      '#!/bin/bash\ncase "$*" in *--version*) exec mariadb-dump "$@";; esac\nmariadb-dump "$@" | head -c 400000\nkill -9 $$\n',
    );
    await chmod(wrapper, 0o755);
    const res = await create([
      '--repo',
      pathToFileURL(dir).href,
      '--dump-program',
      wrapper,
      '--chunk-size',
      '64KiB',
    ]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /killed by SIGKILL/);
    const left = await readdir(dir, { recursive: true }).catch(() => []);
    assert.deepEqual(
      left.filter((f) => /\.(zst|json)$/.test(String(f)) || String(f).includes('.pitr-tmp-')),
      [],
    );
  });

  it('kill -9 of backup create mid-dump: listed as incomplete, temporary objects removed by the next command', async () => {
    const dir = join(work, 'repo-killed');
    const repo = pathToFileURL(dir).href;
    const slow = join(work, 'slow-dump.sh');
    // the first 200 kB at once (several parts), then the rest slowly
    await writeFile(
      slow,
      '#!/bin/bash\ncase "$*" in *--version*) exec mariadb-dump "$@";; esac\n' +
        'mariadb-dump "$@" > "$0.out" || exit $?\nhead -c 200000 "$0.out"\nsleep 300\n',
    );
    await chmod(slow, 0o755);
    const { command, args } = cliCommand([
      'backup',
      'create',
      '--source',
      source.url(),
      '--databases',
      databases.join(','),
      '--repo',
      repo,
      '--dump-program',
      slow,
      '--chunk-size',
      '16KiB',
    ]);
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: 'ignore',
      detached: true,
    });
    const closed = new Promise<string | null>((r) => child.on('close', (_c, s) => r(s)));
    try {
      let files: string[] = [];
      for (let i = 0; i < 600; i++) {
        files = (await readdir(dir, { recursive: true }).catch(() => [])).map(String);
        if (
          files.some((f) => f.endsWith('-rows.sql.zst')) &&
          files.some((f) => f.endsWith('-pre.sql.zst')) &&
          files.some((f) => f.includes('.pitr-tmp-'))
        )
          break;
        await sleep(100);
      }
      assert.ok(
        files.some((f) => f.endsWith('-rows.sql.zst')),
        files.join(' '),
      );
      assert.ok(
        files.some((f) => f.includes('.pitr-tmp-')),
        files.join(' '),
      );
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
    assert.equal(await closed, 'SIGKILL');
    const list = await runCli(['backup', 'list', '--repo', repo, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const out = JSON.parse(list.stdout) as {
      backups: unknown[];
      incomplete: { id: string; reason: string }[];
    };
    assert.deepEqual(out.backups, []);
    assert.equal(out.incomplete.length, 1);
    assert.match(out.incomplete[0]!.reason, /no manifest/);
    const after = (await readdir(dir, { recursive: true })).map(String);
    assert.deepEqual(
      after.filter((f) => f.includes('.pitr-tmp-')),
      [],
    );
    assert.ok(after.some((f) => f.endsWith('-pre.sql.zst')));
  });
});
