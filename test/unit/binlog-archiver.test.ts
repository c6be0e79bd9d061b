/**
 * The archiver without a server: the real BinlogArchiver (decision core, uploads, lease, timeline
 * records, purge, metrics) behind a source port that feeds the recorded MySQL 8.0.45 binlogs of
 * test/fixtures (mysql-8.0.45-gtid.00000[12]), writing into a real file repository in a temp dir. What is stored must be the
 * source's files byte for byte, whatever happens to the dump.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  compareSegments,
  parseSegmentKey,
  parseTimelineRecord,
  readVerifiedSegment,
  timelineKey,
  timelineSegmentsPrefix,
  type SegmentHeader,
} from '../../src/catalog/index.js';
import {
  CATCH_UP_SEGMENT_SIZE,
  DEFAULT_SEGMENT_SIZE,
  LeaseHeldError,
  archiveBinlogs,
  dumpTuning,
  readLease,
  type ArchiveOptions,
} from '../../src/archiver/index.js';
import { MysqlConnectionError } from '../../src/mysql/index.js';
import { FsObjectStore, type ObjectStore } from '../../src/storage/index.js';
import {
  FixtureSourcePort,
  MYSQL_FIXTURE_UUID,
  mysqlFixtureFacts,
  mysqlFixtureFiles,
} from '../support/fixture-source-port.js';

const UUID = MYSQL_FIXTURE_UUID;
// the fixtures were recorded as binlog.000001 and binlog.000002 (the first one's ROTATE names the second)
const FILE1 = 'binlog.000001';
const FILE2 = 'binlog.000002';
const files = mysqlFixtureFiles;
const bytesOf = (name: string): Buffer => files().find((f) => f.name === name)!.bytes;
const factsOf = mysqlFixtureFacts;

/** The stored segments of `timeline`, in order, with the binlog bytes each decompresses to. */
async function storedSegments(
  store: ObjectStore,
  timeline: string,
): Promise<{ header: SegmentHeader; bytes: Buffer }[]> {
  const keys: { key: string; file: string; start: number }[] = [];
  for await (const obj of store.list(timelineSegmentsPrefix(timeline))) {
    const parts = parseSegmentKey(obj.key);
    if (parts) keys.push({ key: obj.key, ...parts });
  }
  keys.sort(compareSegments);
  const out: { header: SegmentHeader; bytes: Buffer }[] = [];
  for (const { key } of keys) {
    const chunks: Buffer[] = [];
    const into = new Writable({
      write(chunk: Buffer, _enc, done): void {
        chunks.push(chunk);
        done();
      },
    });
    const { header } = await readVerifiedSegment(store, key, { into });
    out.push({ header, bytes: Buffer.concat(chunks) });
  }
  return out;
}

/** The stored bytes of every file (its first segment holds the magic number), checking that segments follow each other. */
function filesOf(segments: readonly { header: SegmentHeader; bytes: Buffer }[]): Map<string, Buffer> {
  const byFile = new Map<string, Buffer[]>();
  const ends = new Map<string, number>();
  for (const { header: h, bytes } of segments) {
    assert.equal(h.start, ends.get(h.file) ?? 0, `${h.file}: segment at ${h.start} follows what is stored`);
    ends.set(h.file, h.end);
    byFile.set(h.file, [...(byFile.get(h.file) ?? []), bytes]);
  }
  return new Map([...byFile].map(([f, parts]) => [f, Buffer.concat(parts)]));
}

describe('BinlogArchiver behind a fixture source port (no server)', () => {
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archiver-port-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const newStore = (): FsObjectStore => new FsObjectStore({ root: join(dir, `repo${++n}`) });
  const options = (
    store: ObjectStore,
    port: FixtureSourcePort,
    more: Partial<ArchiveOptions> = {},
  ): ArchiveOptions => ({
    source: { user: 'unused' },
    sourceAddress: port.address,
    port,
    store,
    untilCaughtUp: true,
    flushIntervalMs: 1,
    segmentSize: 1024,
    reconnectDelayMs: { initial: 1, max: 1 },
    leaseTtlMs: 3000,
    ...more,
  });

  it('a catch-up stores both files byte for byte on one new timeline, with a metric line per segment', async () => {
    const store = newStore();
    const port = new FixtureSourcePort(files(), { facts: factsOf(`${UUID}:1-6`), nonBlocking: true });
    const lines: string[] = [];
    const result = await archiveBinlogs(
      options(store, port, { metrics: (l) => lines.push(l), cluster: 'c1' }),
    );

    const segments = await storedSegments(store, '000001');
    const stored = filesOf(segments);
    for (const f of files()) assert.ok(stored.get(f.name)?.equals(f.bytes), `${f.name} stored as is`);
    assert.ok(segments.length > 2, 'segments are cut at the 1 ms interval and the 1 KiB size');
    const last = segments.at(-1)!.header;
    assert.deepEqual(result, {
      timeline: '000001',
      file: FILE2,
      position: last.end,
      segments: segments.length,
      bytes: files().reduce((s, f) => s + f.bytes.length, 0),
      target: { file: FILE2, position: bytesOf(FILE2).length },
      stopped: false,
    });
    assert.equal(last.end, bytesOf(FILE2).length);
    const record = parseTimelineRecord(
      (await store.get(timelineKey('000001'))).toString('utf8'),
      timelineKey('000001'),
    );
    assert.equal(record.firstFile, FILE1);
    assert.deepEqual(record.source, {
      flavor: 'mysql',
      serverId: 1,
      serverUuid: UUID,
      version: '8.0.45',
      address: port.address,
    });
    // the first file closes with its ROTATE, naming the next
    const closing = segments.find((s) => s.header.file === FILE1 && s.header.closesFile)!.header;
    assert.equal(closing.nextFile, FILE2);
    assert.equal(closing.end, bytesOf(FILE1).length);
    // one metric line per stored segment, in order, with the segment's position
    assert.equal(lines.length, segments.length);
    const metrics = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      metrics.map((m) => [m.file, m.end, m.ArchivedBytes, m.Cluster, m.Timeline]),
      segments.map((s) => [s.header.file, s.header.end, s.header.end - s.header.start, 'c1', '000001']),
    );
    assert.deepEqual(port.opened, [{ file: FILE1, position: 4 }]);
    assert.equal(port.released, 1, 'the dump is released once it ended');
  });

  it('a dump that drops mid-transaction is reopened after what is durable; nothing is lost or stored twice', async () => {
    for (const at of [3, 9, 14, 22]) {
      const port = new FixtureSourcePort(files(), {
        facts: factsOf(`${UUID}:1-6`),
        nonBlocking: true,
        failFirstDumpAfter: {
          items: at,
          error: new MysqlConnectionError(
            'connection reset by the fixture',
            'fixture://db1:3306',
            'ECONNRESET',
          ),
        },
      });
      const repoStore = newStore();
      await archiveBinlogs(options(repoStore, port));
      const segments = await storedSegments(repoStore, '000001');
      const stored = filesOf(segments);
      for (const f of files()) assert.ok(stored.get(f.name)?.equals(f.bytes), `drop at ${at}: ${f.name}`);
      assert.equal(port.opened.length, 2, `drop at ${at}: one reconnect`);
      const durable = segments.filter((s) => s.header.file === port.opened[1]!.file);
      // the second dump starts where a stored segment ended (or at the start of a file)
      assert.ok(
        port.opened[1]!.position === 4 || durable.some((s) => s.header.end === port.opened[1]!.position),
        `drop at ${at}: reopened at ${JSON.stringify(port.opened[1])}, after what is durable`,
      );
      assert.equal(port.released, 2);
    }
  });

  it('a second run resumes on the same timeline at the next file, and stores only what is new', async () => {
    const store = newStore();
    const [one, two] = files();
    const first = new FixtureSourcePort([one!], { facts: factsOf(`${UUID}:1-4`), nonBlocking: true });
    const r1 = await archiveBinlogs(options(store, first));
    assert.equal(r1.file, FILE1);
    const second = new FixtureSourcePort([one!, two!], { facts: factsOf(`${UUID}:1-6`), nonBlocking: true });
    const r2 = await archiveBinlogs(options(store, second));
    assert.deepEqual(second.opened, [{ file: FILE2, position: 4 }]);
    assert.equal(r2.timeline, '000001');
    assert.equal(r2.bytes, two!.bytes.length, 'the second run stores only the second file');
    const stored = filesOf(await storedSegments(store, '000001'));
    assert.ok(stored.get(FILE1)!.equals(one!.bytes));
    assert.ok(stored.get(FILE2)!.equals(two!.bytes));
    const timelines: string[] = [];
    for await (const o of store.list('timelines/')) timelines.push(o.key);
    assert.equal(timelines.length, 1, 'no new timeline');
  });

  it('--purge-source: each closed file purges the source before the newest `keep` archived files', async () => {
    for (const [keep, expected] of [
      [0, [FILE2, 'binlog.000003']],
      [1, [FILE1, FILE2]],
      [2, [FILE1]],
    ] as const) {
      const store = newStore();
      const port = new FixtureSourcePort(files(), { facts: factsOf(`${UUID}:1-6`), nonBlocking: true });
      await archiveBinlogs(options(store, port, { purgeSourceKeep: keep }));
      assert.deepEqual(
        port.executed,
        expected.map((to) => ({ sql: 'PURGE BINARY LOGS TO ?', params: [to] })),
        `keep ${keep}`,
      );
    }
  });

  it('following: the lease keeps a second archiver out; the stop signal ends the dump, stores what is complete, releases the lease', async () => {
    const store = newStore();
    const port = new FixtureSourcePort(files(), { facts: factsOf(`${UUID}:1-6`), nonBlocking: false });
    const stop = new AbortController();
    const run = archiveBinlogs(
      options(store, port, { untilCaughtUp: false, signal: stop.signal, flushIntervalMs: 1e6 }),
    );
    while (port.dumps.length === 0) await new Promise((r) => setTimeout(r, 5));
    await port.dumps[0]!.drained;
    // while it follows, it holds the lease: a second archiver on the repository is refused and
    // never reaches its source
    assert.equal((await readLease(store))?.source, port.address);
    const second = new FixtureSourcePort(files(), { facts: factsOf(`${UUID}:1-6`), nonBlocking: true });
    await assert.rejects(archiveBinlogs(options(store, second)), (err: unknown) => {
      assert.ok(err instanceof LeaseHeldError);
      assert.equal(err.code, 'LEASE_HELD');
      return true;
    });
    assert.deepEqual(second.opened, []);
    stop.abort();
    const result = await run;
    assert.equal(result.stopped, true);
    assert.equal(result.target, undefined);
    const stored = filesOf(await storedSegments(store, '000001'));
    for (const f of files()) assert.ok(stored.get(f.name)?.equals(f.bytes), `${f.name} stored at stop`);
    assert.equal(await readLease(store), undefined, 'the lease is released on the way out');
  });
});

describe('dumpTuning: compression and segment size of a dump', () => {
  it('following a source: 1 libzstd worker, its default jobs, the segment size as given', () => {
    assert.deepEqual(dumpTuning({ untilCaughtUp: false, segmentSize: 64 << 20 }), {
      workers: 1,
      zstdJobSize: undefined,
      segmentSize: 64 << 20,
    });
    assert.equal(dumpTuning({ untilCaughtUp: false }).segmentSize, DEFAULT_SEGMENT_SIZE);
  });

  it('a catch-up: 2 workers, 512 KiB jobs, segments of at most 16 MiB (a smaller size wins)', () => {
    assert.deepEqual(dumpTuning({ untilCaughtUp: true }), {
      workers: 2,
      zstdJobSize: 512 * 1024,
      segmentSize: 16 << 20,
    });
    assert.equal(
      dumpTuning({ untilCaughtUp: true, segmentSize: 1 << 30 }).segmentSize,
      CATCH_UP_SEGMENT_SIZE,
    );
    assert.equal(dumpTuning({ untilCaughtUp: true, segmentSize: 4096 }).segmentSize, 4096);
  });
});
