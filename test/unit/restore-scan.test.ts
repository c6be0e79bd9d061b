/**
 * Scanning archived segments (real MySQL 8.0 binlog fixtures cut into segments, behind a small
 * in-memory store) and planning a MySQL GTID restore over the result: transaction boundaries,
 * statements and tables, verified bytes, and a damaged segment named in the error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  encodeSegmentHeader,
  segmentKey,
  type BackupManifest,
  type CatalogSegment,
  type CatalogTimeline,
  type SegmentHeader,
} from '../../src/catalog/index.js';
import { zstdCompress } from '../../src/codec/index.js';
import { PitrError } from '../../src/errors/index.js';
import type { ObjectStore } from '../../src/storage/index.js';
import {
  readArchivedSegments,
  scanArchivedFile,
  type ScannedTransaction,
} from '../../src/restore/apply/archived-segments.js';
import { filesToScan, planRestore, type ScannedFile } from '../../src/restore/plan/plan-restore.js';
import { parseRestoreTarget } from '../../src/restore/plan/restore-target.js';
import { FIXTURE_DIR } from '../support/binlog-fixtures.js';

const FIXTURES = FIXTURE_DIR;
const F1 = 'mysql-8.0.45-gtid.000001';
const F2 = 'mysql-8.0.45-gtid.000002';
const UUID = '396e294c-1ca4-11f1-9ae7-00155da79c6b';

/** The part of ObjectStore the scanner uses. */
class MemoryStore {
  readonly objects = new Map<string, Buffer>();
  async get(key: string): Promise<Buffer> {
    const o = this.objects.get(key);
    if (!o) throw new PitrError('OBJECT_NOT_FOUND', `no ${key}`);
    return o;
  }
  describe(): string {
    return 'memory://';
  }
}

interface Cut {
  file: string;
  start: number;
  end: number;
  closes: boolean;
}

/** Real transactions of the fixtures (from the binlog layer), to build headers from. */
async function transactionsOf(
  store: MemoryStore,
  file: string,
  segments: CatalogSegment[],
): Promise<ScannedTransaction[]> {
  const out: ScannedTransaction[] = [];
  await scanArchivedFile(
    store as unknown as ObjectStore,
    '000001',
    file,
    segments.filter((s) => s.file === file).map((s) => ({ key: s.key, start: s.start, end: s.header!.end })),
    (t) => out.push(t),
  );
  return out;
}

async function archive(cuts: Cut[]): Promise<{ store: MemoryStore; segments: CatalogSegment[] }> {
  const store = new MemoryStore();
  const segments: CatalogSegment[] = [];
  for (const c of cuts) {
    const bytes = readFileSync(join(FIXTURES, c.file)).subarray(c.start, c.end);
    const header: SegmentHeader = {
      format: 1,
      timeline: '000001',
      file: c.file,
      start: c.start,
      end: c.end,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      firstCommit: null,
      lastCommit: null,
      gtids: {},
      gtidSet: '',
      transactions: 0,
      events: 0,
      splitTransaction: false,
      closesFile: c.closes,
    };
    const key = segmentKey('000001', c.file, c.start);
    store.objects.set(key, Buffer.concat([encodeSegmentHeader(header), await zstdCompress(bytes)]));
    segments.push({
      key,
      timeline: '000001',
      file: c.file,
      start: c.start,
      size: bytes.length,
      lastModified: new Date(0),
      header,
    });
  }
  // fill in commit times and GTID sets the way the archiver does: transactions that END in a segment
  for (const file of new Set(cuts.map((c) => c.file))) {
    const trxs = await transactionsOf(store, file, segments);
    for (const s of segments.filter((x) => x.file === file)) {
      const h = s.header!;
      const ending = trxs.filter((t) => t.endOffset > h.start && t.endOffset <= h.end);
      h.transactions = ending.length;
      h.firstCommit = ending[0] ? new Date(ending[0].commitTime).toISOString() : null;
      h.lastCommit = ending.at(-1) ? new Date(ending.at(-1)!.commitTime).toISOString() : null;
      const gnos = ending.map((t) => Number(t.gtid!.split(':')[1]));
      h.gtidSet = gnos.length ? `${UUID}:${Math.min(...gnos)}-${Math.max(...gnos)}` : '';
    }
  }
  return { store, segments };
}

const CUTS: Cut[] = [
  { file: F1, start: 0, end: 642, closes: false },
  { file: F1, start: 642, end: 1516, closes: true },
  { file: F2, start: 0, end: 847, closes: false },
];

describe('scanArchivedFile over real MySQL 8.0 binlogs', () => {
  it('reports each transaction with its boundaries, GTID, commit time, tables and statements', async () => {
    const { store, segments } = await archive(CUTS);
    const trxs = await transactionsOf(store, F1, segments);
    assert.deepEqual(
      trxs.map((t) => [t.startOffset, t.endOffset, t.gtid]),
      [
        [157, 365, `${UUID}:1`],
        [365, 642, `${UUID}:2`],
        [642, 919, `${UUID}:3`],
        [919, 1472, `${UUID}:4`],
      ],
    );
    assert.equal(trxs[0]!.commitTime, 1773162714338); // immediate_commit_timestamp, microseconds -> ms
    assert.deepEqual(trxs[0]!.tables, []);
    assert.match(trxs[0]!.statements[0] ?? '', /CREATE TABLE/i);
    assert.deepEqual(trxs[1]!.tables, ['test.t1']);
    const scanned = await scanArchivedFile(store as unknown as ObjectStore, '000001', F2, [
      { key: segments[2]!.key, start: 0, end: 847 },
    ]);
    assert.equal(scanned.scannedTo, 847);
    assert.deepEqual(
      scanned.transactions.map((t) => t.gtid),
      [`${UUID}:5`, `${UUID}:6`],
    );
  });

  it('yields verified bytes in order with prefetch, and names a damaged segment', async () => {
    const { store, segments } = await archive(CUTS);
    const refs = segments
      .filter((s) => s.file === F1)
      .map((s) => ({ key: s.key, start: s.start, end: s.header!.end }));
    const parts: Buffer[] = [];
    for await (const b of readArchivedSegments(store as unknown as ObjectStore, refs, 1)) parts.push(b);
    assert.ok(Buffer.concat(parts).equals(readFileSync(join(FIXTURES, F1))));

    // a header whose SHA-256 does not match the bytes
    const obj = store.objects.get(refs[1]!.key)!;
    const text = obj.toString('latin1');
    const i = text.indexOf('"sha256":"') + 10;
    const bad = Buffer.from(obj);
    bad[i] = bad[i] === 0x30 ? 0x31 : 0x30;
    store.objects.set(refs[1]!.key, bad);
    await assert.rejects(
      async () => {
        for await (const b of readArchivedSegments(store as unknown as ObjectStore, refs)) void b;
      },
      (err: unknown) => {
        assert.ok(err instanceof PitrError);
        assert.equal(err.code, 'CHECKSUM_MISMATCH');
        assert.match(
          err.message,
          new RegExp(`${refs[1]!.key.replace(/\./g, '\\.')}.*archive is damaged here`, 's'),
        );
        return true;
      },
    );
  });
});

describe('planRestore for a MySQL source (GTID sets in segment headers)', () => {
  it('--before-gtid / --to-gtid / --to TIME over real transactions', async () => {
    const { store, segments } = await archive(CUTS);
    const timeline: CatalogTimeline = { id: '000001', record: undefined, segments, gaps: [] };
    const backup = {
      format: 1,
      id: '20260310T000000000Z-aaaaaa',
      kind: 'logical-dump',
      timeline: `server-uuid:${UUID}`,
      source: { address: 'db:3306', serverId: 1, serverUuid: UUID, flavor: 'mysql', version: '8.0.45' },
      startedAt: '2026-03-10T00:00:00Z',
      finishedAt: '2026-03-10T00:00:01Z',
      binlog: { file: F1, position: 365 },
      gtidPosition: `${UUID}:1`,
      dump: {
        key: 'k',
        compression: 'zstd',
        size: 10,
        sha256: 'a',
        uncompressedSize: 20,
        uncompressedSha256: 'b',
      },
      databases: null,
      tool: { name: 'mysqldump', path: 'mysqldump', version: null, args: [] },
      nonTransactionalTables: [],
      warnings: [],
    } satisfies BackupManifest;
    const base = { backups: [backup], timelines: [timeline] };
    const plan = async (flags: Parameters<typeof parseRestoreTarget>[0]) => {
      const target = parseRestoreTarget(flags);
      const scanned: ScannedFile[] = [];
      for (const r of filesToScan({ ...base, scanned: [] }, target)) {
        const segs = segments.filter((s) => s.file === r.file && s.start < r.upTo);
        scanned.push(
          await scanArchivedFile(
            store as unknown as ObjectStore,
            '000001',
            r.file,
            segs.map((s) => ({ key: s.key, start: s.start, end: s.header!.end })),
          ),
        );
      }
      return planRestore({ ...base, scanned }, target);
    };
    let p = await plan({ beforeGtid: `${UUID}:6` });
    assert.deepEqual(p.stop, { file: F2, position: 529 });
    assert.deepEqual(
      p.files.map((f) => [f.file, f.from, f.to]),
      [
        [F1, 365, undefined],
        [F2, 4, 529],
      ],
    );
    assert.equal(p.lastIncluded?.gtid, `${UUID}:5`);
    p = await plan({ toGtid: `${UUID}:3` });
    assert.deepEqual(p.stop, { file: F1, position: 919 });
    assert.deepEqual(
      p.files.map((f) => f.segments.length),
      [2],
    );
    // transactions 5 and 6 committed at ...4.632 and ...4.640 (ms resolution on MySQL 8.0)
    p = await plan({ to: new Date(1773162714635).toISOString() });
    assert.deepEqual(p.stop, { file: F2, position: 529 });
    await assert.rejects(plan({ toGtid: `${UUID}:9` }), /after the newest archived transaction/);
    await assert.rejects(
      plan({ toGtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:2' }),
      /not in the archive of timeline 000001 .*no transaction of 3e11fa47-71ca-11e1-9e33-c80aa9429562 is archived/,
    );
  });
});
