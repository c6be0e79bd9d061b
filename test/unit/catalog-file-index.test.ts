/**
 * The per-file index (`binlogs/<timeline>/<file>/index.json`): its encoding (format, SHA-256), the
 * writer, and readBinlogCatalog using it instead of one ranged GET per segment, over a filesystem
 * store holding real encoded segments and wrapped in a store that counts requests. A segment added
 * after the index, a rewritten object, a damaged, missing or newer-format index: every header is
 * still there (read from the objects), and checkFileIndexes reports the damage. compactRepository
 * writes the indexes closed files lack and removes (only parsed) indexes of expired files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  binlogFileIndexKey,
  checkFileIndexes,
  decodeBinlogFileIndex,
  encodeBinlogFileIndex,
  readBinlogCatalog,
  segmentKey,
  serializeTimelineRecord,
  timelineKey,
  writeBinlogFileIndex,
  type BinlogCatalog,
  type SegmentHeader,
} from '../../src/catalog/index.js';
import { compactRepository } from '../../src/maintenance/compact-repository.js';
import { encodeSegment } from '../../src/archiver/segment-encoder.js';
import { FsObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { isPitrError } from '../../src/errors/index.js';

const T = '000001';
const F = (n: number): string => `mysql-bin.${String(n).padStart(6, '0')}`;
const bytes = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 13) % 251));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function header(file: string, start: number, end: number, more: Partial<SegmentHeader> = {}): SegmentHeader {
  return {
    format: 1,
    timeline: T,
    file,
    start,
    end,
    sha256: sha(bytes.subarray(start, end)),
    firstCommit: new Date(Date.UTC(2026, 10, 25, 0, 0, start / 100)).toISOString(),
    lastCommit: new Date(Date.UTC(2026, 10, 25, 0, 0, end / 100)).toISOString(),
    gtids: { '0': { first: `0-1-${start + 1}`, last: `0-1-${end}` } },
    gtidSet: '',
    transactions: 2,
    events: 6,
    splitTransaction: false,
    closesFile: false,
    leaseEpoch: 3,
    ...more,
  };
}

/** Counts GET and LIST requests (the objects a reader reads). */
class CountingStore {
  gets = 0;
  lists = 0;
  constructor(readonly inner: ObjectStore) {}
  reset(): void {
    this.gets = 0;
    this.lists = 0;
  }
  store(): ObjectStore {
    const s = this.inner;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      supportsConditionalPut: s.supportsConditionalPut,
      put: (...a) => s.put(...a),
      get: (...a) => {
        self.gets += 1;
        return s.get(...a);
      },
      getStream: (...a) => {
        self.gets += 1;
        return s.getStream(...a);
      },
      head: (...a) => s.head(...a),
      exists: (...a) => s.exists(...a),
      list: (...a) => {
        self.lists += 1;
        return s.list(...a);
      },
      delete: (...a) => s.delete(...a),
      describe: () => s.describe(),
    };
  }
}

const headersOf = (c: BinlogCatalog): Record<string, SegmentHeader | undefined> =>
  Object.fromEntries(c.timelines.flatMap((t) => t.segments.map((s) => [s.key, s.header])));

describe('binlog file index: encoding', () => {
  const index = {
    timeline: T,
    file: F(1),
    writtenAt: '2026-11-25T00:00:00.000Z',
    objects: [{ name: '00000000000000000000.zst', size: 77, header: header(F(1), 0, 500) }],
  };
  const key = binlogFileIndexKey(T, F(1));

  it('round-trips every header field', () => {
    assert.deepEqual(decodeBinlogFileIndex(encodeBinlogFileIndex(index), key), index);
  });

  it('a changed byte in the body fails its SHA-256 (CORRUPT_DATA)', () => {
    const text = encodeBinlogFileIndex(index).toString('utf8').replace('0-1-500', '0-1-501');
    assert.throws(
      () => decodeBinlogFileIndex(Buffer.from(text), key),
      (err: unknown) => isPitrError(err, 'CORRUPT_DATA') && /SHA-256/.test((err as Error).message),
    );
  });

  it('a newer format is FORMAT_TOO_NEW, a truncated object and another file are CORRUPT_DATA', () => {
    const env = JSON.parse(encodeBinlogFileIndex(index).toString('utf8')) as Record<string, unknown>;
    assert.throws(
      () => decodeBinlogFileIndex(Buffer.from(JSON.stringify({ ...env, format: 2 })), key),
      (err: unknown) => isPitrError(err, 'FORMAT_TOO_NEW'),
    );
    const whole = encodeBinlogFileIndex(index);
    assert.throws(
      () => decodeBinlogFileIndex(whole.subarray(0, whole.length - 10), key),
      (err: unknown) => isPitrError(err, 'CORRUPT_DATA'),
    );
    assert.throws(
      () => decodeBinlogFileIndex(whole, binlogFileIndexKey(T, F(2))),
      (err: unknown) =>
        isPitrError(err, 'CORRUPT_DATA') && /not what its key says/.test((err as Error).message),
    );
  });
});

describe('binlog file index: writer and readers over a filesystem store', () => {
  let dir: string;
  let fs: FsObjectStore;
  let counting: CountingStore;
  let store: ObjectStore;
  const put = async (
    file: string,
    start: number,
    end: number,
    more: Partial<SegmentHeader> = {},
  ): Promise<void> => {
    await fs.put(
      segmentKey(T, file, start),
      await encodeSegment(header(file, start, end, more), [bytes.subarray(start, end)]),
    );
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-file-index-'));
    fs = new FsObjectStore({ root: dir });
    counting = new CountingStore(fs);
    store = counting.store();
    await fs.put(
      timelineKey(T),
      Buffer.from(
        serializeTimelineRecord({
          format: 1,
          timeline: T,
          createdAt: '2026-11-25T00:00:00.000Z',
          source: { flavor: 'mariadb', serverId: 1, gtidDomainId: 0, version: 'x', address: 'mysql://r@h:1' },
          firstFile: F(1),
          reason: 'test',
        }),
      ),
    );
    // two closed files of 20 segments each, and the open file of 3
    for (const f of [1, 2]) {
      for (let s = 0; s < 4000; s += 200) {
        await put(F(f), s, s + 200, s === 3800 ? { closesFile: true, nextFile: F(f + 1) } : {});
      }
    }
    for (let s = 0; s < 600; s += 200) await put(F(3), s, s + 200);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('without an index, every segment header is one GET; with one, only the open file is read', async () => {
    counting.reset();
    const plain = await readBinlogCatalog(store, { headers: true });
    assert.equal(plain.headerReads, 43);
    assert.equal(counting.gets, 43 + 1, 'one GET per segment header plus the timeline record');

    counting.reset();
    for (const f of [1, 2]) {
      const w = await writeBinlogFileIndex(store, T, F(f));
      assert.deepEqual([w.written, w.objects, w.headerReads], [true, 20, 20]);
    }
    counting.reset();
    const indexed = await readBinlogCatalog(store, { headers: true });
    assert.equal(indexed.headerReads, 3, 'only the open file has its headers read');
    assert.equal(counting.gets, 3 + 2 + 1, 'three headers, two indexes, the timeline record');
    assert.deepEqual(headersOf(indexed), headersOf(plain), 'the same headers, to the last field');
    assert.deepEqual(
      indexed.fileIndexes!.map((i) => [i.file, i.state, i.fromIndex, i.stale]),
      [
        [F(1), 'used', 20, 0],
        [F(2), 'used', 20, 0],
      ],
    );
    counting.reset();
    const without = await readBinlogCatalog(store, { headers: true, index: false });
    assert.equal(without.headerReads, 43, 'index: false reads every header');
  });

  it('an object the index does not list, or lists with another size, has its own header read', async () => {
    // a segment added after the index was written (the listing shows it; the index does not)
    await put(F(1), 4000, 4001);
    // an object rewritten with other content (another size) under a listed key
    const key = segmentKey(T, F(2), 200);
    const before = await fs.get(key);
    await fs.put(
      key,
      await encodeSegment(header(F(2), 200, 400, { events: 99 }), [
        bytes.subarray(200, 400),
        Buffer.alloc(0),
      ]),
    );
    const rewritten = await fs.head(key);
    try {
      const c = await readBinlogCatalog(store, { headers: true });
      const h = headersOf(c);
      assert.equal(h[segmentKey(T, F(1), 4000)]?.end, 4001, 'the new segment is in the catalog');
      if (rewritten.size !== before.length) {
        assert.equal(h[key]?.events, 99, 'the rewritten object: its own header, not the index entry');
        assert.equal(c.headerReads, 3 + 2);
      }
    } finally {
      await fs.put(key, before);
      await fs.delete([segmentKey(T, F(1), 4000)]);
    }
  });

  it('a damaged, newer-format or missing index: every header is still read, verify-side check reports it, and no writer overwrites it', async () => {
    const k1 = binlogFileIndexKey(T, F(1));
    const k2 = binlogFileIndexKey(T, F(2));
    const good1 = await fs.get(k1);
    const good2 = await fs.get(k2);
    const damaged = Buffer.from(good1);
    damaged[damaged.length - 40] = damaged[damaged.length - 40]! ^ 0x01;
    await fs.put(k1, damaged);
    const env = JSON.parse(good2.toString('utf8')) as Record<string, unknown>;
    const newer = Buffer.from(JSON.stringify({ ...env, format: 9 }));
    await fs.put(k2, newer);
    try {
      const plain = await readBinlogCatalog(store, { headers: true, index: false });
      const c = await readBinlogCatalog(store, { headers: true });
      assert.deepEqual(headersOf(c), headersOf(plain), 'nothing lost: headers read from the segments');
      assert.equal(c.headerReads, 43);
      assert.deepEqual(
        c.fileIndexes!.map((i) => [i.file, i.state]),
        [
          [F(1), 'unreadable'],
          [F(2), 'too-new'],
        ],
      );
      const objects = new Map(
        plain.timelines[0]!.segments.map((s) => [s.key, { size: s.size, header: s.header }] as const),
      );
      const findings = await checkFileIndexes(store, c.fileIndexes!, objects);
      assert.deepEqual(
        findings.map((f) => [f.key, f.kind]),
        [
          [k1, 'unreadable'],
          [k2, 'too-new'],
        ],
      );
      for (const f of [1, 2]) {
        const w = await writeBinlogFileIndex(store, T, F(f));
        assert.equal(w.written, false);
        assert.match(w.skipped ?? '', /cannot be read/);
      }
      assert.ok((await fs.get(k1)).equals(damaged), 'the damaged index is left as it is');
      assert.ok((await fs.get(k2)).equals(newer), 'the newer index is left as it is');
      // missing: removed entirely, the headers come from the segments
      await fs.delete([k1]);
      const m = await readBinlogCatalog(store, { headers: true });
      assert.deepEqual(headersOf(m), headersOf(plain));
    } finally {
      await fs.put(k1, good1);
      await fs.put(k2, good2);
    }
  });

  it('an index entry that disagrees with its object (same name and size) is reported as a mismatch', async () => {
    const k1 = binlogFileIndexKey(T, F(1));
    const good = await fs.get(k1);
    const index = decodeBinlogFileIndex(good, k1);
    index.objects[3]!.header = { ...index.objects[3]!.header, transactions: 7 };
    await fs.put(k1, encodeBinlogFileIndex(index));
    try {
      const plain = await readBinlogCatalog(store, { headers: true, index: false });
      const objects = new Map(
        plain.timelines[0]!.segments.map((s) => [s.key, { size: s.size, header: s.header }] as const),
      );
      const findings = await checkFileIndexes(store, plain.fileIndexes!, objects);
      assert.deepEqual(
        findings.map((f) => [f.key, f.kind]),
        [[k1, 'mismatch']],
      );
      assert.match(findings[0]!.message, /00000000000000000600\.zst/);
    } finally {
      await fs.put(k1, good);
    }
  });

  it('compaction writes the index a closed file lacks, and rewrites it for the objects it wrote', async () => {
    await fs.delete([binlogFileIndexKey(T, F(2))]);
    const r = await compactRepository(store);
    assert.deepEqual(
      r.files.map((f) => [f.file, f.objectsAfter, f.indexWritten]),
      [
        [F(1), 1, true],
        [F(2), 1, true],
      ],
    );
    for (const f of [1, 2]) {
      const index = decodeBinlogFileIndex(
        await fs.get(binlogFileIndexKey(T, F(f))),
        binlogFileIndexKey(T, F(f)),
      );
      assert.deepEqual(
        index.objects.map((o) => [o.name, o.header.start, o.header.end, o.header.transactions]),
        [['00000000000000000000-00000000000000004000.zst', 0, 4000, 40]],
      );
    }
    counting.reset();
    const c = await readBinlogCatalog(store, { headers: true });
    assert.equal(c.headerReads, 3, 'the compacted objects come from their indexes');
    assert.equal(
      c.timelines[0]!.segments.filter((s) => s.file !== F(3)).every((s) => s.compacted),
      true,
    );
  });

  it('the index of a file whose objects are all gone (expired) is deleted once parsed; an unreadable one stays', async () => {
    const k1 = binlogFileIndexKey(T, F(1));
    const k2 = binlogFileIndexKey(T, F(2));
    const keys: string[] = [];
    for await (const o of fs.list(`binlogs/${T}/${F(1)}/`)) if (o.key.endsWith('.zst')) keys.push(o.key);
    for await (const o of fs.list(`binlogs/${T}/${F(2)}/`)) if (o.key.endsWith('.zst')) keys.push(o.key);
    await fs.delete(keys);
    await fs.put(k2, Buffer.from('{"format":1,"kind":"mysql-pitr binlog file index","sha256":"x"'));
    const dry = await compactRepository(store, { dryRun: true });
    assert.equal(dry.orphanIndexesDeleted, 1);
    assert.ok(await fs.exists(k1), 'a dry run deletes nothing');
    const r = await compactRepository(store);
    assert.equal(r.orphanIndexesDeleted, 1);
    assert.equal(await fs.exists(k1), false, 'the parsed orphan is gone');
    assert.equal(await fs.exists(k2), true, 'nothing deletes an index it cannot parse');
  });
});
