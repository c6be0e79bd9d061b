/**
 * Compaction's pure parts and the overlap rule of readBinlogCatalog: merging segment headers,
 * which objects a compacted object covers (dropped) and which overlap partially (an error naming
 * both keys), closed files, grouping by size; then the catalog and compactBinlogFile over a
 * filesystem store holding real encoded segments (a damaged input stops compaction before it
 * writes anything).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compactedSegmentKey,
  mergeSegmentHeaders,
  parseCompactedSegmentKey,
  parseSegmentKey,
  readBinlogCatalog,
  resolveCoveredSegments,
  segmentKey,
  summarizeTimeline,
  serializeTimelineRecord,
  timelineKey,
  SegmentOverlapError,
  type BinlogCatalog,
  type CatalogSegment,
  type SegmentHeader,
  type TimelineRecord,
} from '../../src/catalog/index.js';
import { closedBinlogFiles, planFileCompaction } from '../../src/maintenance/compact-plan.js';
import { compactBinlogFile } from '../../src/maintenance/compact-binlog-file.js';
import { encodeSegment } from '../../src/archiver/segment-encoder.js';
import { MysqlGtidSet } from '../../src/gtid/index.js';
import { FsObjectStore, type ObjectStore, type PutBody, type PutOptions } from '../../src/storage/index.js';
import { ChecksumMismatchError, isPitrError } from '../../src/errors/index.js';

const T = '000001';
const F = (n: number): string => `mysql-bin.${String(n).padStart(6, '0')}`;
const union = (sets: readonly string[]): string =>
  sets.reduce((a, s) => a.union(MysqlGtidSet.parse(s)), MysqlGtidSet.EMPTY).toString();
const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

function header(file: string, start: number, end: number, more: Partial<SegmentHeader> = {}): SegmentHeader {
  return {
    format: 1,
    timeline: T,
    file,
    start,
    end,
    sha256: 'a'.repeat(64),
    firstCommit: null,
    lastCommit: null,
    gtids: {},
    gtidSet: '',
    transactions: 0,
    events: 1,
    splitTransaction: false,
    closesFile: false,
    ...more,
  };
}

function plain(file: string, start: number, end?: number, size = 100): CatalogSegment {
  return {
    key: segmentKey(T, file, start),
    timeline: T,
    file,
    start,
    size,
    lastModified: new Date(0),
    ...(end !== undefined ? { header: header(file, start, end) } : {}),
  };
}

function merged(file: string, start: number, end: number, size = 100): CatalogSegment {
  return {
    key: compactedSegmentKey(T, file, start, end),
    timeline: T,
    file,
    start,
    end,
    compacted: true,
    size,
    lastModified: new Date(0),
  };
}

describe('mergeSegmentHeaders', () => {
  const f = F(1);
  it('merges ranges, commit times, MariaDB GTID ranges, counts and the closing flags exactly', () => {
    const h = mergeSegmentHeaders(
      [
        header(f, 0, 100, {
          firstCommit: '2026-11-25T10:00:00.000Z',
          lastCommit: '2026-11-25T10:00:01.000Z',
          gtids: { '0': { first: '0-1-5', last: '0-1-9' } },
          transactions: 5,
          events: 21,
        }),
        header(f, 100, 150, { transactions: 0, events: 2, splitTransaction: true }),
        header(f, 150, 400, {
          firstCommit: '2026-11-25T10:00:02.000Z',
          lastCommit: '2026-11-25T10:00:03.000Z',
          gtids: { '0': { first: '0-1-10', last: '0-1-12' }, '1': { first: '1-1-1', last: '1-1-1' } },
          transactions: 4,
          events: 17,
          splitTransaction: true,
          closesFile: true,
          nextFile: F(2),
        }),
      ],
      'b'.repeat(64),
      union,
    );
    assert.deepEqual(h, {
      format: 1,
      timeline: T,
      file: f,
      start: 0,
      end: 400,
      sha256: 'b'.repeat(64),
      firstCommit: '2026-11-25T10:00:00.000Z',
      lastCommit: '2026-11-25T10:00:03.000Z',
      gtids: { '0': { first: '0-1-5', last: '0-1-12' }, '1': { first: '1-1-1', last: '1-1-1' } },
      gtidSet: '',
      transactions: 9,
      events: 40,
      // starts at 0 and ends with the ROTATE: the splits are inside the merged object
      splitTransaction: false,
      closesFile: true,
      nextFile: F(2),
    });
  });

  it('unions MySQL GTID sets and keeps a split at either end', () => {
    const h = mergeSegmentHeaders(
      [
        header(f, 500, 600, { gtidSet: `${UUID}:1-3`, splitTransaction: true }),
        header(f, 600, 700, { gtidSet: '' }),
        header(f, 700, 800, { gtidSet: `${UUID}:4-6:9` }),
      ],
      'c'.repeat(64),
      union,
    );
    assert.equal(h.gtidSet, `${UUID}:1-6:9`);
    assert.equal(h.splitTransaction, true, 'the first part may start inside a transaction');
    assert.equal(h.firstCommit, null);
    const tail = mergeSegmentHeaders(
      [header(f, 0, 10), header(f, 10, 20, { splitTransaction: true })],
      'c'.repeat(64),
      union,
    );
    assert.equal(tail.splitTransaction, true, 'the last part may end inside a transaction');
  });

  it('refuses parts that do not join up or belong to another file', () => {
    assert.throws(
      () => mergeSegmentHeaders([header(f, 0, 10), header(f, 11, 20)], 'a'.repeat(64), union),
      /join up/,
    );
    assert.throws(
      () => mergeSegmentHeaders([header(f, 0, 10), header(F(2), 10, 20)], 'a'.repeat(64), union),
      /one file/,
    );
    assert.throws(() => mergeSegmentHeaders([], 'a'.repeat(64), union), /zero/);
  });
});

describe('compacted keys', () => {
  it('round-trip, sort before the plain segment of the same start, and are not plain segment keys', () => {
    const key = compactedSegmentKey(T, F(3), 0, 1048917);
    assert.equal(key, 'binlogs/000001/mysql-bin.000003/00000000000000000000-00000000000001048917.zst');
    assert.deepEqual(parseCompactedSegmentKey(key), { timeline: T, file: F(3), start: 0, end: 1048917 });
    assert.equal(parseSegmentKey(key), undefined);
    assert.equal(parseCompactedSegmentKey(segmentKey(T, F(3), 0)), undefined);
    assert.throws(() => compactedSegmentKey(T, F(3), 10, 10), RangeError);
  });
});

describe('resolveCoveredSegments (the overlap rule)', () => {
  it('drops plain segments inside a compacted object, and smaller compacted objects inside larger ones', () => {
    const r = resolveCoveredSegments([
      plain(F(1), 0),
      plain(F(1), 100),
      plain(F(1), 200),
      merged(F(1), 0, 200),
      merged(F(1), 0, 300),
      plain(F(1), 300),
      plain(F(2), 0),
      plain(F(2), 50),
    ]);
    assert.deepEqual(
      r.segments.map((s) => s.key),
      [
        compactedSegmentKey(T, F(1), 0, 300),
        segmentKey(T, F(1), 300),
        segmentKey(T, F(2), 0),
        segmentKey(T, F(2), 50),
      ],
    );
    assert.deepEqual(
      r.covered.map((s) => s.key).sort(),
      [
        compactedSegmentKey(T, F(1), 0, 200),
        segmentKey(T, F(1), 0),
        segmentKey(T, F(1), 100),
        segmentKey(T, F(1), 200),
      ].sort(),
    );
  });

  it('reports a partial overlap of two compacted objects, naming both keys', () => {
    const a = merged(F(1), 0, 200);
    const b = merged(F(1), 100, 300);
    assert.throws(
      () => resolveCoveredSegments([b, a]),
      (err: unknown) =>
        err instanceof SegmentOverlapError &&
        err.code === 'CORRUPT_DATA' &&
        err.keys[0] === a.key &&
        err.keys[1] === b.key &&
        err.message.includes(a.key) &&
        err.message.includes(b.key),
    );
  });

  it('with headers: a plain segment sticking out of its cover, or into one, is a partial overlap', () => {
    assert.throws(
      () => resolveCoveredSegments([merged(F(1), 0, 200), plain(F(1), 100, 250)]),
      SegmentOverlapError,
    );
    assert.throws(
      () => resolveCoveredSegments([plain(F(1), 0, 150), merged(F(1), 100, 300)]),
      SegmentOverlapError,
    );
    // without the header nothing is known of the end: covered
    assert.equal(resolveCoveredSegments([merged(F(1), 0, 200), plain(F(1), 100)]).covered.length, 1);
    // ending exactly at the cover's start is fine
    assert.equal(resolveCoveredSegments([plain(F(1), 0, 100), merged(F(1), 100, 300)]).segments.length, 2);
  });
});

describe('closedBinlogFiles and planFileCompaction', () => {
  const record = (id: string): TimelineRecord => ({
    format: 1,
    timeline: id,
    createdAt: '2026-11-25T00:00:00.000Z',
    source: { flavor: 'mariadb', serverId: 1, gtidDomainId: 0, version: 'x', address: 'mysql://r@h:1' },
    firstFile: F(1),
    reason: 'test',
  });
  it('every file of an older timeline, and every file but the last of the newest', () => {
    const catalog: BinlogCatalog = {
      timelines: [
        { id: '000001', record: record('000001'), segments: [plain(F(4), 0), plain(F(5), 0)], gaps: [] },
        {
          id: '000002',
          record: record('000002'),
          segments: [plain(F(1), 0), plain(F(1), 10), plain(F(2), 0)].map((s) => ({
            ...s,
            timeline: '000002',
          })),
          gaps: [],
        },
      ],
    };
    assert.deepEqual(
      closedBinlogFiles(catalog).map((f) => `${f.timeline}/${f.file}`),
      ['000001/mysql-bin.000004', '000001/mysql-bin.000005', '000002/mysql-bin.000001'],
    );
  });

  it('groups consecutive objects up to the size limit, breaks at holes, skips runs of one', () => {
    const segs = [
      plain(F(1), 0, 10, 40),
      plain(F(1), 10, 20, 40),
      plain(F(1), 20, 30, 40),
      plain(F(1), 30, 40, 40),
      plain(F(1), 40, 50, 200),
      plain(F(1), 60, 70, 10), // hole 50..60
      plain(F(1), 70, 80, 10),
    ];
    const groups = planFileCompaction(segs, 100);
    assert.deepEqual(
      groups.map((g) => [g.start, g.end, g.inputs.length, g.storedBytes]),
      [
        [0, 20, 2, 80],
        [20, 40, 2, 80],
        [60, 80, 2, 20],
      ],
    );
    assert.deepEqual(planFileCompaction(segs, 100), groups, 'deterministic');
  });
});

describe('readBinlogCatalog and compactBinlogFile over a filesystem store', () => {
  let dir: string;
  let store: FsObjectStore;
  const f1 = F(1);
  const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 251));
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const put = async (
    file: string,
    start: number,
    end: number,
    more: Partial<SegmentHeader> = {},
  ): Promise<void> => {
    const part = bytes.subarray(start, end);
    const h = header(file, start, end, { sha256: sha(part), ...more });
    await store.put(segmentKey(T, file, start), await encodeSegment(h, [part]));
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-compact-unit-'));
    store = new FsObjectStore({ root: dir });
    await store.put(
      timelineKey(T),
      Buffer.from(
        serializeTimelineRecord({
          format: 1,
          timeline: T,
          createdAt: '2026-11-25T00:00:00.000Z',
          source: { flavor: 'mariadb', serverId: 1, gtidDomainId: 0, version: 'x', address: 'mysql://r@h:1' },
          firstFile: f1,
          reason: 'test',
        }),
      ),
    );
    for (let s = 0; s < 3000; s += 500)
      await put(f1, s, s + 500, s === 2500 ? { closesFile: true, nextFile: F(2) } : {});
    await put(F(2), 0, 300);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses to compact the last file (the archiver may still append to it)', async () => {
    await assert.rejects(compactBinlogFile(store, T, F(2)), (err: unknown) => isPitrError(err, 'USAGE'));
  });

  it('a damaged input stops compaction before anything is written', async () => {
    const key = segmentKey(T, f1, 1000);
    const good = await store.get(key);
    const part = bytes.subarray(1000, 1500);
    const lying = header(f1, 1000, 1500, { sha256: sha(Buffer.from('something else')) });
    await store.put(key, await encodeSegment(lying, [part]));
    await assert.rejects(
      compactBinlogFile(store, T, f1, { maxObjectBytes: 1 << 20 }),
      (err: unknown) =>
        isPitrError(err, 'CHECKSUM_MISMATCH') &&
        (err as Error).message.includes(key) &&
        /compaction left the file as it was; run `mysql-pitr verify`/i.test((err as Error).message),
    );
    const keys: string[] = [];
    for await (const o of store.list('binlogs/')) keys.push(o.key);
    assert.equal(keys.length, 7, 'nothing written, nothing deleted');
    await store.put(key, good);
  });

  it('merges the closed file; a leftover input is covered; a partial overlap fails every read naming both keys', async () => {
    const leftover = await store.get(segmentKey(T, f1, 500));
    const r = await compactBinlogFile(store, T, f1, { maxObjectBytes: 1 << 20 });
    assert.deepEqual([r.objectsBefore, r.objectsAfter, r.written, r.deleted], [6, 1, 1, 6]);
    // an input put back, as if the deletes had been interrupted: covered, dropped from the view
    await store.put(segmentKey(T, f1, 500), leftover);
    for (const headers of [false, true]) {
      const catalog = await readBinlogCatalog(store, { headers });
      const t = catalog.timelines[0]!;
      assert.deepEqual(
        t.segments.map((s) => s.key),
        [compactedSegmentKey(T, f1, 0, 3000), segmentKey(T, F(2), 0)],
      );
      assert.deepEqual(
        t.covered?.map((s) => s.key),
        [segmentKey(T, f1, 500)],
      );
      if (headers) {
        const sum = summarizeTimeline(t);
        assert.deepEqual(
          sum.files.map((x) => [x.file, x.start, x.end, x.segments, x.holes.length, x.closed]),
          [
            [f1, 0, 3000, 1, 0, true],
            [F(2), 0, 300, 1, 0, false],
          ],
        );
        assert.equal(t.segments[0]!.header!.sha256, sha(bytes));
      }
    }
    // a re-run deletes the covered leftover (after checking its cover) and writes nothing
    const again = await compactBinlogFile(store, T, f1);
    assert.deepEqual([again.written, again.deleted, again.objectsAfter], [0, 1, 1]);
    assert.equal(await store.exists(segmentKey(T, f1, 500)), false);

    // an object overlapping the merged one partially: every reader refuses, naming both
    const part = Buffer.concat([bytes.subarray(2000, 3000), Buffer.alloc(200)]);
    const odd = compactedSegmentKey(T, f1, 2000, 3200);
    await store.put(odd, await encodeSegment(header(f1, 2000, 3200, { sha256: sha(part) }), [part]));
    await assert.rejects(
      readBinlogCatalog(store),
      (err: unknown) =>
        err instanceof SegmentOverlapError &&
        err.message.includes(odd) &&
        err.message.includes(compactedSegmentKey(T, f1, 0, 3000)),
    );
    await store.delete([odd]);
  });

  it('a smaller limit makes several objects; a later run with a larger one merges them (the old ones covered, then deleted)', async () => {
    const f3 = F(3);
    for (let st = 0; st < 3000; st += 250)
      await put(f3, st, st + 250, st === 2750 ? { closesFile: true } : {});
    await put(F(4), 0, 100);
    const sizes: number[] = [];
    for await (const o of store.list(`binlogs/${T}/${f3}/`)) sizes.push(o.size);
    const limit = Math.max(...sizes) * 4; // four segments per object (sizes differ by a few bytes)
    const small = await compactBinlogFile(store, T, f3, { maxObjectBytes: limit });
    assert.equal(small.written, 3);
    assert.equal(small.objectsAfter, 3);
    const keysOf = async (): Promise<string[]> => {
      const keys: string[] = [];
      for await (const o of store.list(`binlogs/${T}/${f3}/`)) if (o.key.endsWith('.zst')) keys.push(o.key);
      return keys;
    };
    assert.ok(await store.exists(`binlogs/${T}/${f3}/index.json`), 'compaction wrote the file index');
    assert.deepEqual(await keysOf(), [
      compactedSegmentKey(T, f3, 0, 1000),
      compactedSegmentKey(T, f3, 1000, 2000),
      compactedSegmentKey(T, f3, 2000, 3000),
    ]);
    const big = await compactBinlogFile(store, T, f3);
    assert.deepEqual([big.written, big.deleted, big.objectsAfter], [1, 3, 1]);
    assert.deepEqual(await keysOf(), [compactedSegmentKey(T, f3, 0, 3000)]);
    const t = (await readBinlogCatalog(store, { headers: true })).timelines[0]!;
    const h = t.segments.find((x) => x.file === f3)!.header!;
    assert.deepEqual([h.start, h.end, h.sha256, h.events, h.closesFile], [0, 3000, sha(bytes), 12, true]);
  });

  it('a damaged cover of an interrupted compaction stops it: its covered segments are not deleted', async () => {
    const f7 = F(7);
    for (let st = 0; st < 2000; st += 1000)
      await put(f7, st, st + 1000, st === 1000 ? { closesFile: true } : {});
    await put(F(8), 0, 100);
    // a merged object whose body is not what its header says, beside the segments it covers
    const cover = compactedSegmentKey(T, f7, 0, 2000);
    const h = header(f7, 0, 2000, { sha256: sha(bytes.subarray(0, 2000)), closesFile: true });
    await store.put(cover, await encodeSegment(h, [Buffer.alloc(2000)]));
    const before: string[] = [];
    for await (const o of store.list(`binlogs/${T}/${f7}/`)) before.push(o.key);
    assert.equal(before.length, 3);
    await assert.rejects(
      compactBinlogFile(store, T, f7),
      (err: unknown) =>
        err instanceof ChecksumMismatchError &&
        err.code === 'CHECKSUM_MISMATCH' &&
        err.object === cover &&
        err.message.includes(`${cover} fails verification`) &&
        /decompressed to 2000 bytes/.test((err as Error).message) &&
        /nothing was deleted/.test((err as Error).message),
    );
    const after: string[] = [];
    for await (const o of store.list(`binlogs/${T}/${f7}/`)) after.push(o.key);
    assert.deepEqual(after, before, 'nothing written, nothing deleted');
    await store.delete([cover]);
  });

  it('a merged object that fails its read-back check is deleted and its inputs kept', async () => {
    const f5 = F(5);
    for (let st = 0; st < 3000; st += 1000)
      await put(f5, st, st + 1000, st === 2000 ? { closesFile: true } : {});
    await put(F(6), 0, 100);
    // storage that flips one byte of every compacted object it stores (a bad disk, a bad proxy)
    const flipping: ObjectStore = Object.assign(Object.create(null) as object, {
      supportsConditionalPut: store.supportsConditionalPut,
      put: async (key: string, body: PutBody, o?: PutOptions) => {
        if (!parseCompactedSegmentKey(key)) return store.put(key, body, o);
        const parts: Buffer[] = [];
        for await (const c of body as AsyncIterable<Uint8Array>) parts.push(Buffer.from(c));
        const data = Buffer.concat(parts);
        data[data.length - 10] = data[data.length - 10]! ^ 0xff;
        return store.put(key, data, o);
      },
      get: store.get.bind(store),
      getStream: store.getStream.bind(store),
      head: store.head.bind(store),
      exists: store.exists.bind(store),
      list: store.list.bind(store),
      delete: store.delete.bind(store),
      describe: store.describe.bind(store),
    }) as ObjectStore;
    await assert.rejects(
      compactBinlogFile(flipping, T, f5),
      (err: unknown) =>
        err instanceof ChecksumMismatchError &&
        err.code === 'CHECKSUM_MISMATCH' &&
        /failed verification after it was written/.test(err.message) &&
        /Check the storage, then run `mysql-pitr binlog compact` again/.test(err.message),
    );
    const keys: string[] = [];
    for await (const o of store.list(`binlogs/${T}/${f5}/`)) keys.push(o.key);
    assert.deepEqual(
      keys,
      [0, 1000, 2000].map((st) => segmentKey(T, f5, st)),
      'inputs kept, bad object gone',
    );
  });
});
