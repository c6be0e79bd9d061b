/**
 * The catalog at scale, end to end on the S3 emulator with a real MariaDB and the real CLI: the
 * archiver writes each closed file's index when the file's ROTATE is stored; readers take the
 * closed files' headers from it (only the open file's headers are read); the archiver compacts
 * closed files by default (here `--compact-after 1s`), rewriting their indexes, and a restore across
 * the compacted files gives the source's tables exactly; a damaged index makes `verify` fail (exit
 * 5, `index-unreadable`) while `restore plan` still works from the segment headers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { startArchiver } from '../support/archiver-process.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';
import { tableChecksums } from '../support/table-checksums.js';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import {
  binlogFileIndexKey,
  decodeBinlogFileIndex,
  readBinlogCatalog,
  type SegmentHeader,
} from '../../src/catalog/index.js';

const fileOf = (key: string): string => key.split('/')[2]!;

describe('catalog index and default compaction (real archiver, S3 emulator)', () => {
  let server: MariadbServer;
  let s3: S3Emulator;
  let work: string;
  let repo: string;
  let store: ObjectStore;
  const s3Env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const s3Args = (): string[] => ['--repo', repo, '--s3-endpoint', s3.endpoint, '--region', s3.region];
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli([...args, ...s3Args()], {
      env: { ...s3Env, PATH: `/usr/sbin:${process.env.PATH ?? ''}`, ...env },
    });
  const ok = async (args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const r = await cli(args, env);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  const sourceFiles = async (): Promise<string[]> =>
    (await server.query<{ Log_name: string }[]>('SHOW BINARY LOGS')).map((l) => l.Log_name);

  before(async () => {
    [server, s3] = await Promise.all([startMariadb({ maxBinlogSize: '1M' }), startS3Emulator()]);
    work = await mkdtemp(join(tmpdir(), 'pitr-catalog-index-'));
    repo = `s3://${s3.bucket}/pitr/idx`;
    store = openObjectStore(repo, { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials });
    const conn = await server.connect();
    try {
      await runWorkload(conn, { seed: 11, database: 'ia', transactions: 150, bigTransactions: 0 });
      await ok(['backup', 'create', '--source', server.url(server.admin.user)], {
        MYSQL_PITR_SOURCE_PASSWORD: server.admin.password,
      });
      await runWorkload(conn, {
        seed: 12,
        database: 'ib',
        transactions: 400,
        bigTransactions: 0,
        flushBinaryLogsAt: [0.3, 0.6],
      });
    } finally {
      await conn.end();
    }
  });

  after(async () => {
    await Promise.all([server?.stop(), s3?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the archiver writes each closed file index at its ROTATE; readers then read only the open file headers', async () => {
    await ok(['archive', '--source', server.url('repl'), '--until-caught-up', '--segment-size', '8KiB'], {
      MYSQL_PITR_SOURCE_PASSWORD: server.repl.password,
    });
    const files = await sourceFiles();
    assert.ok(files.length >= 3, `several files (${files.length})`);
    const plain = await readBinlogCatalog(store, { headers: true, index: false });
    const t = plain.timelines[0]!;
    const segmentsOf = (f: string): { key: string; header?: SegmentHeader }[] =>
      t.segments.filter((s) => s.file === f);
    for (const f of files.slice(0, -1)) {
      const key = binlogFileIndexKey(t.id, f);
      const index = decodeBinlogFileIndex(await store.get(key), key);
      assert.deepEqual(
        index.objects.map((o) => `binlogs/${t.id}/${f}/${o.name}`),
        segmentsOf(f).map((s) => s.key),
        `${f}: the index lists every segment`,
      );
      assert.deepEqual(
        index.objects.map((o) => o.header),
        segmentsOf(f).map((s) => s.header),
        `${f}: with the headers stored in the segments`,
      );
    }
    assert.equal(
      await store.exists(binlogFileIndexKey(t.id, files.at(-1)!)),
      false,
      'the open file has none',
    );
    const indexed = await readBinlogCatalog(store, { headers: true });
    assert.equal(
      indexed.headerReads,
      segmentsOf(files.at(-1)!).length,
      'only the open file headers are read',
    );
    assert.ok(
      plain.headerReads! > indexed.headerReads! * 2,
      `${plain.headerReads} vs ${indexed.headerReads}`,
    );
    assert.deepEqual(
      indexed.timelines[0]!.segments.map((s) => s.header),
      t.segments.map((s) => s.header),
      'the same catalog either way',
    );
  });

  it('the archiver compacts closed files by default; a restore across them is exact', async () => {
    const archiver = startArchiver(
      [
        'archive',
        '--source',
        server.url('repl'),
        ...s3Args(),
        '--flush-interval',
        '100ms',
        '--segment-size',
        '8KiB',
        '--compact-after',
        '1s',
      ],
      { ...process.env, ...s3Env, MYSQL_PITR_SOURCE_PASSWORD: server.repl.password },
    );
    try {
      await archiver.waitFor((s) => s.includes('streaming binlogs'), 'the stream');
      const conn = await server.connect();
      try {
        await runWorkload(conn, {
          seed: 13,
          database: 'ic',
          transactions: 300,
          bigTransactions: 0,
          flushBinaryLogsAt: [0.5],
        });
        await conn.query('FLUSH BINARY LOGS');
        await conn.query('CREATE TABLE ic.after_flush (id INT PRIMARY KEY)');
        await conn.query('INSERT INTO ic.after_flush VALUES (1), (2)');
      } finally {
        await conn.end();
      }
      await archiver.waitFor(
        (s) => s.includes('closed binlog files compacted'),
        'a compaction by the archiver',
        90_000,
      );
    } finally {
      assert.equal((await archiver.stop()).code, 0, archiver.stderr);
    }
    const files = await sourceFiles();
    const catalog = await readBinlogCatalog(store, { headers: true, index: false });
    const t = catalog.timelines[0]!;
    const compactedFiles = files.filter((f) => {
      const objs = t.segments.filter((s) => s.file === f);
      return objs.length === 1 && objs[0]!.compacted === true;
    });
    // every file closed before the workload's first flush of this test is old enough by now
    assert.ok(compactedFiles.length >= 3, `compacted by the archiver: ${compactedFiles.join(', ')}`);
    for (const f of compactedFiles) {
      const key = binlogFileIndexKey(t.id, f);
      const index = decodeBinlogFileIndex(await store.get(key), key);
      assert.deepEqual(
        index.objects.map((o) => `binlogs/${t.id}/${f}/${o.name}`),
        t.segments.filter((s) => s.file === f).map((s) => s.key),
        `${f}: its index lists the compacted object`,
      );
    }
    assert.ok(!t.segments.some((s) => s.file === files.at(-1) && s.compacted), 'the open file is left alone');

    const target = await startMariadb();
    try {
      const plan = await ok(['restore', 'plan', '--to', 'latest', '--json']);
      assert.match(plan.stdout, /\d{20}-\d{20}\.zst/, 'the plan reads compacted objects');
      await ok(['restore', 'pitr', '--target', target.url('admin'), '--to', 'latest'], {
        MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
      });
      assert.deepEqual(
        await tableChecksums(target),
        await tableChecksums(server),
        'the source tables, exactly',
      );
    } finally {
      await target.stop();
    }
    const v = await cli(['verify', '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  it('a damaged index: verify fails naming it (exit 5), restore plan still works from the headers', async () => {
    const files = await sourceFiles();
    const key = binlogFileIndexKey('000001', files[1]!);
    const good = await store.get(key);
    const bad = Buffer.from(good);
    bad[bad.length - 30] = bad[bad.length - 30]! ^ 0x04;
    await store.put(key, bad);
    try {
      const v = await cli(['verify', '--json']);
      assert.equal(v.code, 5, v.stderr);
      const report = JSON.parse(v.stdout) as { problems: { kind: string; object?: string }[] };
      assert.deepEqual(
        report.problems.map((p) => [p.kind, p.object]),
        [['index-unreadable', key]],
      );
      const plan = await cli(['restore', 'plan', '--to', 'latest', '--json']);
      assert.equal(plan.code, 0, plan.stderr);
      // compaction does not replace an index it cannot parse
      await ok(['binlog', 'compact']);
      assert.ok((await store.get(key)).equals(bad));
      assert.ok(fileOf(key) === files[1]);
    } finally {
      await store.put(key, good);
    }
  });
});
