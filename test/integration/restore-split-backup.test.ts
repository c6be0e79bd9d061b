/**
 * Split backups (manifest format 2: `parts`) restored against real MariaDB. The user-like schema
 * (test/support/user-like-workload.ts) plus a table big enough for many `rows` chunks is backed up
 * with `backup create` (a split backup, small `--chunk-size`) and, in another repository, with
 * `--single-file` (format 1).
 * - `restore backup --load-threads 3` (CLI) of the split backup gives back the source exactly:
 *   CHECKSUM TABLE of every table and SHOW CREATE of every table, view, trigger, routine, event.
 * - `restore pitr --to latest` (CLI) of it, then the archive, gives the source's final state.
 * - One table restored alone (restoreTables, through a store that records every read) reads only
 *   that table's `pre` and `rows` parts of the backup, and equals the source's table, under
 *   `--into-schema`; the CLI does the same for a table with an awkward name.
 * - A damaged part fails the restore with the checksum error naming the part and what to do, both
 *   when zstd notices (the restore stops in the part) and when only the SHA-256 does (after it
 *   was applied).
 * - loadBackupParts on 2 sessions gives a free session the parts of a table the other is not
 *   loading: while app.big's many chunks load on one session, the other loads the other tables
 *   (each session's INSERTs recorded at the session seam), and the data is the backup's.
 * - The format-1 copy still restores exactly.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable } from 'node:stream';
import { readBackupCatalog, type BackupManifest, type ManifestPart } from '../../src/catalog/index.js';
import { zstdCompress } from '../../src/codec/index.js';
import { connectMysql } from '../../src/mysql/index.js';
import { loadRestorePlan } from '../../src/restore/plan/load-restore-plan.js';
import { ClientCommand } from '../../src/restore/apply/client-command.js';
import { loadBackupParts } from '../../src/restore/load/load-backup-parts.js';
import {
  openMysqlLoadSession,
  type ParallelLoadSession,
} from '../../src/restore/load/parallel-load-session.js';
import { restoreTables, tablePartsOf } from '../../src/restore/tables/table-restore.js';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { createUserSchema, qi, snapshotState, type SchemaState } from '../support/user-like-workload.js';

const DATABASES = ['app', 'ünï code'];

/** A store that records the key of every read (get, getStream) before passing it on. */
function countingStore(inner: ObjectStore, reads: string[]): ObjectStore {
  return new Proxy(inner, {
    get(t, prop, recv) {
      if (prop === 'get' || prop === 'getStream') {
        return (key: string, range?: unknown): Promise<Buffer | Readable> => {
          reads.push(key);
          const f = t[prop] as (k: string, r?: unknown) => Promise<Buffer | Readable>;
          return range === undefined ? f.call(t, key) : f.call(t, key, range);
        };
      }
      const v = Reflect.get(t, prop, recv) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

describe('split backups (format 2) restore by parts', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repoDir: string;
  let repo: string;
  let repo1: string;
  let split: BackupManifest;
  let atBackup: SchemaState;
  let atEnd: SchemaState;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 120_000 });
  const targetEnv = (): Record<string, string> => ({ MYSQL_PITR_TARGET_PASSWORD: target.admin.password });
  const state = async (server: MariadbServer): Promise<SchemaState> => {
    const c = await server.connect();
    try {
      return await snapshotState(c, DATABASES);
    } finally {
      await c.end();
    }
  };
  const emptyTarget = async (): Promise<void> => {
    const dbs = await target.query<{ n: string }[]>(
      "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
    );
    for (const { n } of dbs) await target.query(`DROP DATABASE ${qi(n)}`);
  };
  const checksum = async (server: MariadbServer, table: string): Promise<string> =>
    String((await server.query<{ Checksum: string | number }[]>(`CHECKSUM TABLE ${table}`))[0]!.Checksum);

  before(async () => {
    [source, target] = await Promise.all([startMariadb(), startMariadb({ binlog: false })]);
    work = await mkdtemp(join(tmpdir(), 'pitr-split-'));
    repoDir = join(work, 'repo');
    repo = pathToFileURL(repoDir).href;
    repo1 = pathToFileURL(join(work, 'repo1')).href;
    const c = await source.connect();
    try {
      await c.query('SET SESSION binlog_format = ROW');
      await createUserSchema(c);
      // one table with most of the rows, for many chunks
      await c.query(
        'CREATE TABLE app.big (id INT PRIMARY KEY, k INT, pad VARCHAR(200), b BLOB, KEY k_k (k)) ENGINE=InnoDB',
      );
      await c.query(
        "INSERT INTO app.big SELECT seq, seq % 97, REPEAT(CONCAT('p', seq, ';'), 20), UNHEX(SHA2(seq, 256)) FROM app.seq_1_to_20000",
      );
    } finally {
      await c.end();
    }
    // the split backup as `backup create` writes it (small chunks: app.big in many), and a
    // single-dump copy of the same data (--single-file, format 1)
    const backup = await cli(
      [
        'backup',
        'create',
        '--source',
        source.url('admin'),
        '--repo',
        repo,
        '--chunk-size',
        '16KiB',
        '--json',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: source.admin.password },
    );
    assert.equal(backup.code, 0, backup.stderr);
    const single = await cli(
      ['backup', 'create', '--source', source.url('admin'), '--repo', repo1, '--single-file', '--json'],
      { MYSQL_PITR_SOURCE_PASSWORD: source.admin.password },
    );
    assert.equal(single.code, 0, single.stderr);
    atBackup = await state(source);
    split = (await readBackupCatalog(openObjectStore(repo))).complete[0]!;
    // writes after the backup, for the archive
    await source.query("UPDATE app.big SET k = k + 1, pad = 'changed after the backup' WHERE id % 10 = 0");
    await source.query('DELETE FROM app.big WHERE id > 19900');
    atEnd = await state(source);
    const archived = await cli(
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
      { MYSQL_PITR_SOURCE_PASSWORD: source.repl.password },
    );
    assert.equal(archived.code, 0, archived.stderr);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the split has pre, rows and post parts, a big table in many chunks, triggers with their table', () => {
    assert.equal(split.format, 2);
    assert.equal(split.dump, undefined);
    const parts = split.parts!;
    const big = parts.filter((p) => p.stage === 'rows' && p.database === 'app' && p.table === 'big');
    assert.ok(big.length >= 3, `app.big in ${big.length} chunks`);
    assert.deepEqual(
      big.map((p) => p.chunk),
      big.map((_, i) => i),
    );
    assert.ok(parts.some((p) => p.stage === 'post' && p.table !== null)); // a trigger
    assert.ok(parts.some((p) => p.stage === 'post' && p.table === null)); // views, routines, events
  });

  it('restore backup --load-threads 3 gives back every table, view, trigger, routine and event', async () => {
    await emptyTarget();
    const r = await cli(
      [
        'restore',
        'backup',
        '--repo',
        repo,
        '--backup',
        'latest',
        '--yes',
        '--load-threads',
        '3',
        '--target',
        target.url('admin'),
      ],
      targetEnv(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await state(target), atBackup);
  });

  it('restore pitr --to latest loads the parts and applies the archive', async () => {
    await emptyTarget();
    const r = await cli(
      ['restore', 'pitr', '--repo', repo, '--to', 'latest', '--yes', '--target', target.url('admin')],
      targetEnv(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await state(target)).checksums, atEnd.checksums);
  });

  it('one table restored alone reads only its own parts, into another schema', async () => {
    await emptyTarget();
    const reads: string[] = [];
    const store = countingStore(openObjectStore(repo), reads);
    const plan = await loadRestorePlan(store, { kind: 'latest' });
    reads.length = 0;
    const options = {
      host: '127.0.0.1',
      port: target.port,
      user: target.admin.user,
      password: target.admin.password,
    };
    const conn = await connectMysql(options);
    try {
      const report = await restoreTables(plan, {
        store,
        target: conn,
        targetName: 'target',
        openLoadSession: () => openMysqlLoadSession(options),
        loadThreads: 2,
        connect: () => connectMysql(options),
        tables: [{ database: 'app', table: 'big' }],
        intoSchema: 'side',
      });
      assert.deepEqual(report.restored, { 'app.big': 'side.big' });
    } finally {
      await conn.end();
    }
    const own = tablePartsOf(split.parts!, [{ database: 'app', table: 'big' }]);
    const expected = [...own.pre, ...own.rows].map((p: ManifestPart) => p.key).sort();
    assert.ok(expected.length >= 4);
    assert.deepEqual(reads.filter((k) => k.startsWith('backups/')).sort(), expected);
    assert.equal(await checksum(target, 'side.big'), await checksum(source, 'app.big'));
    const schemas = await target.query<{ n: string }[]>(
      "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
    );
    assert.deepEqual(schemas, [{ n: 'side' }]);
  });

  it('restore pitr --tables (CLI) restores a table with an awkward name from its parts', async () => {
    await emptyTarget();
    const name = Object.keys(atEnd.checksums).find((t) => t.startsWith('ünï code.') && t.includes('`'));
    assert.ok(name, Object.keys(atEnd.checksums).join(', '));
    const table = name.slice('ünï code.'.length);
    const r = await cli(
      [
        'restore',
        'pitr',
        '--repo',
        repo,
        '--to',
        'latest',
        '--yes',
        '--target',
        target.url('admin'),
        '--tables',
        `${qi('ünï code')}.${qi(table)}`,
        '--into-schema',
        'side b',
      ],
      targetEnv(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await checksum(target, `${qi('side b')}.${qi(table)}`), atEnd.checksums[name]);
  });

  it('a damaged part fails the restore with the checksum error naming it', async () => {
    const rowsPart = split.parts!.find((p) => p.stage === 'rows' && p.table === 'big' && p.chunk === 2)!;
    const dir = join(work, 'damaged');
    await cp(repoDir, dir, { recursive: true });
    const file = join(dir, rowsPart.key);
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(file, bytes);
    await emptyTarget();
    const r = await cli(
      [
        'restore',
        'backup',
        '--repo',
        pathToFileURL(dir).href,
        '--backup',
        'latest',
        '--yes',
        '--target',
        target.url('admin'),
      ],
      targetEnv(),
    );
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`checksum mismatch in ${rowsPart.key}`));
    assert.match(r.stderr, /partly loaded.*another backup/s);

    // valid zstd holding other SQL: only the SHA-256 tells, after the part was applied
    const other = zstdCompress(Buffer.from('SELECT 1;\n'));
    await writeFile(file, other);
    await emptyTarget();
    const r2 = await cli(
      [
        'restore',
        'backup',
        '--repo',
        pathToFileURL(dir).href,
        '--backup',
        'latest',
        '--yes',
        '--target',
        target.url('admin'),
      ],
      targetEnv(),
    );
    assert.equal(r2.code, 5, r2.stderr);
    assert.match(
      r2.stderr,
      new RegExp(`checksum mismatch in ${rowsPart.key}.*read back as ${other.length} bytes`, 's'),
    );
    assert.match(r2.stderr, /already partly loaded from damaged data/);
  });

  it('loadBackupParts puts the two sessions on different tables while it can, then shares app.big', async () => {
    await emptyTarget();
    const options = {
      host: '127.0.0.1',
      port: target.port,
      user: target.admin.user,
      password: target.admin.password,
    };
    // per session, the table of each INSERT it ran, in order
    const inserts: string[][] = [];
    const insertTable = (sql: Buffer): string | undefined =>
      /^INSERT INTO `((?:[^`]|``)+)`/.exec(sql.toString('latin1', 0, 300))?.[1];
    const recording = async (): Promise<ParallelLoadSession> => {
      const inner = await openMysqlLoadSession(options);
      const mine: string[] = [];
      inserts.push(mine);
      const note = (sql: Buffer): void => {
        const t = insertTable(sql);
        if (t !== undefined) mine.push(t);
      };
      return {
        query: (sql) => (note(sql), inner.query(sql)),
        queryMany: (sqls) => (sqls.forEach(note), inner.queryMany!(sqls)),
        close: () => inner.close(),
        destroy: () => inner.destroy(),
      };
    };
    const client = await ClientCommand.create(options);
    try {
      const stats = await loadBackupParts(split, {
        store: openObjectStore(repo),
        client,
        targetName: 'target',
        openLoadSession: recording,
        loadThreads: 2,
      });
      assert.equal(stats.sessions, 2);
    } finally {
      await client.close();
    }
    // session 0 ran the pre parts first; both then loaded rows
    assert.equal(inserts.length, 2);
    const [a, b] = inserts as [string[], string[]];
    assert.ok(a.length > 0 && b.length > 0, `both sessions inserted rows (${a.length}, ${b.length})`);
    // the first table each session loaded differs: the second session did not join the first
    // session's table while others waited
    assert.notEqual(a[0], b[0], `first tables: ${a[0]} and ${b[0]}`);
    const bigChunks = split.parts!.filter((p) => p.stage === 'rows' && p.table === 'big').length;
    assert.ok(bigChunks >= 4, `app.big has ${bigChunks} rows parts`);
    // every table loaded, the same data as the source at the backup
    const got = await state(target);
    assert.deepEqual(got, atBackup);
  });

  it('a format-1 backup (one dump) still restores exactly', async () => {
    await emptyTarget();
    const r = await cli(
      ['restore', 'backup', '--repo', repo1, '--backup', 'latest', '--yes', '--target', target.url('admin')],
      targetEnv(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await state(target), atBackup);
  });
});
