/**
 * readVerifiedSegment / verifySegmentBody: the one rule that a segment's body decompresses to its
 * header's length and SHA-256 (restore, verify and fetch all read segments through it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { encodeSegment } from '../../src/archiver/segment-encoder.js';
import { readVerifiedSegment, segmentKey, type SegmentHeader } from '../../src/catalog/index.js';
import { ChecksumMismatchError, isPitrError } from '../../src/errors/index.js';
import { FsObjectStore } from '../../src/storage/index.js';
import { segmentHeaderFor } from '../support/segment-header.js';

const FILE = 'mysql-bin.000007';

function headerOf(start: number, bytes: Buffer, sha?: string): SegmentHeader {
  return segmentHeaderFor(FILE, start, bytes, sha ? { sha256: sha } : {});
}

function collector(): { into: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  const into = new Writable({
    write(chunk: Buffer, _enc, done): void {
      parts.push(chunk);
      done();
    },
  });
  return { into, bytes: () => Buffer.concat(parts) };
}

describe('readVerifiedSegment', () => {
  let work: string;
  let store: FsObjectStore;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pitr-verified-seg-'));
    store = new FsObjectStore({ root: work });
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('hands on the exact binlog bytes of a sound segment and returns its header', async () => {
    const bytes = randomBytes(300_000);
    const key = segmentKey('000001', FILE, 4);
    await store.put(key, await encodeSegment(headerOf(4, bytes), [bytes]));
    const sink = collector();
    const got = await readVerifiedSegment(store, key, { into: sink.into });
    assert.equal(got.bytes, bytes.length);
    assert.equal(got.header.start, 4);
    assert.ok(got.frameLength > 0);
    assert.ok(sink.bytes().equals(bytes));
  });

  it('throws ChecksumMismatchError naming the object and offset when the SHA-256 differs', async () => {
    const bytes = randomBytes(1000);
    const key = segmentKey('000001', FILE, 5000);
    await store.put(key, await encodeSegment(headerOf(5000, bytes, 'ab'.repeat(32)), [bytes]));
    await assert.rejects(readVerifiedSegment(store, key), (e: unknown) => {
      assert.ok(e instanceof ChecksumMismatchError);
      assert.equal(e.object, key);
      assert.equal(e.offset, 5000);
      assert.match(e.message, /decompressed to 1000 bytes/);
      return true;
    });
  });

  it('throws when the body is shorter than the header says', async () => {
    const bytes = randomBytes(1000);
    const header = { ...headerOf(9000, bytes), end: 9000 + 1001 };
    const key = segmentKey('000001', FILE, 9000);
    await store.put(key, await encodeSegment(header, [bytes]));
    await assert.rejects(readVerifiedSegment(store, key), (e: unknown) =>
      isPitrError(e, 'CHECKSUM_MISMATCH'),
    );
  });

  it('does not read the body when check refuses the header', async () => {
    const bytes = randomBytes(100);
    const key = segmentKey('000001', FILE, 20_000);
    await store.put(key, await encodeSegment(headerOf(20_000, bytes), [bytes]));
    const sink = collector();
    await assert.rejects(
      readVerifiedSegment(store, key, {
        into: sink.into,
        check: (h) => {
          throw new Error(`refused ${h.start}`);
        },
      }),
      /refused 20000/,
    );
    assert.equal(sink.bytes().length, 0);
  });

  it('reports a damaged zstd body as damage, not as a storage failure', async () => {
    const bytes = randomBytes(50_000);
    const key = segmentKey('000001', FILE, 40_000);
    const stored = await encodeSegment(headerOf(40_000, bytes), [bytes]);
    await store.put(key, stored.subarray(0, stored.length - 100));
    await assert.rejects(readVerifiedSegment(store, key), (e: unknown) =>
      isPitrError(e, 'CORRUPT_DATA', 'TRUNCATED_DATA', 'CHECKSUM_MISMATCH'),
    );
  });
});
