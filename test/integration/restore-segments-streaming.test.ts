/**
 * readArchivedSegments with segments larger than its in-memory limit (compacted objects): they are
 * spilled to a private folder under TMPDIR and yielded in chunks, and nothing of a segment is
 * handed on before its SHA-256 is verified. The folder is gone afterwards, however the read ends.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

import { encodeSegment } from '../../src/archiver/segment-encoder.js';
import { segmentKey, type SegmentHeader } from '../../src/catalog/index.js';
import { readArchivedSegments, type SegmentRef } from '../../src/restore/apply/archived-segments.js';
import { FsObjectStore } from '../../src/storage/index.js';

const MiB = 1024 * 1024;
const FILE = 'mysql-bin.000001';

/** Compressible but not trivial binlog-like bytes. */
function bytesOf(n: number, seed: number): Buffer {
  const words = Array.from({ length: 64 }, (_, i) => `row-${seed}-${i}-${randomBytes(4).toString('hex')};`);
  const out = Buffer.alloc(n);
  let o = 0;
  for (let i = 0; o < n; i++) o += out.write(words[(i * 7 + seed) % 64]!, o);
  return out;
}

async function putSegment(
  store: FsObjectStore,
  start: number,
  bytes: Buffer,
  sha?: string,
): Promise<SegmentRef> {
  const header: SegmentHeader = {
    format: 1,
    timeline: '000001',
    file: FILE,
    start,
    end: start + bytes.length,
    sha256: sha ?? createHash('sha256').update(bytes).digest('hex'),
    firstCommit: null,
    lastCommit: null,
    gtids: {},
    gtidSet: '',
    transactions: 0,
    events: 1,
    splitTransaction: false,
    closesFile: false,
  };
  const key = segmentKey('000001', FILE, start);
  await store.put(key, await encodeSegment(header, [bytes]));
  return { key, start, end: header.end };
}

describe('readArchivedSegments: large segments streamed, verified before use', () => {
  let work: string;
  let spill: string;
  let store: FsObjectStore;
  const savedTmp = process.env['TMPDIR'];
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pitr-segstream-'));
    spill = join(work, 'tmp');
    await import('node:fs/promises').then((fs) => fs.mkdir(spill));
    process.env['TMPDIR'] = spill; // os.tmpdir() reads it on every call
    store = new FsObjectStore({ root: join(work, 'repo') });
  });
  after(async () => {
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
    await rm(work, { recursive: true, force: true });
  });

  it('yields the exact bytes, large ones in chunks, and removes the spill folder', async () => {
    const a = bytesOf(3 * MiB + 17, 1);
    const b = bytesOf(100_000, 2);
    const c = bytesOf(5 * MiB, 3);
    const refs = [
      await putSegment(store, 0, a),
      await putSegment(store, a.length, b),
      await putSegment(store, a.length + b.length, c),
    ];
    const chunks: Buffer[] = [];
    let spilled = false;
    for await (const chunk of readArchivedSegments(store, refs, 2, { inMemoryBytes: 1 * MiB })) {
      chunks.push(chunk);
      if ((await readdir(spill)).some((n) => n.startsWith('mysql-pitr-segments-'))) spilled = true;
    }
    assert.ok(spilled, 'large segments were spilled to TMPDIR');
    assert.ok(chunks.length > 3, `${chunks.length} chunks`);
    assert.ok(Math.max(...chunks.map((x) => x.length)) < 1 * MiB);
    assert.ok(Buffer.concat(chunks).equals(Buffer.concat([a, b, c])));
    assert.deepEqual(await readdir(spill), []);
  });

  it('a large segment whose SHA-256 does not match yields none of its bytes', async () => {
    const a = bytesOf(200_000, 4);
    const bad = bytesOf(2 * MiB, 5);
    const refs = [await putSegment(store, 0, a), await putSegment(store, a.length, bad, 'f'.repeat(64))];
    const got: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of readArchivedSegments(store, refs, 2, { inMemoryBytes: 1 * MiB }))
          got.push(chunk);
      })(),
      (e: Error & { code?: string }) => e.code === 'CHECKSUM_MISMATCH' && e.message.includes(refs[1]!.key),
    );
    assert.ok(Buffer.concat(got).equals(a), 'only the sound segment before it was handed on');
    assert.deepEqual(await readdir(spill), []);
  });

  it('a consumer that stops early leaves no spilled file behind', async () => {
    const big = bytesOf(4 * MiB, 6);
    const refs = [await putSegment(store, 0, big), await putSegment(store, big.length, bytesOf(3 * MiB, 7))];
    for await (const chunk of readArchivedSegments(store, refs, 2, { inMemoryBytes: 1 * MiB })) {
      assert.ok(chunk.length > 0);
      break;
    }
    assert.deepEqual(await readdir(spill), []);
  });
});
