/**
 * Segments compressed as their events arrive (segmentBodies + ZstdFrameEncoder) are the same
 * segments as the raw path gives: same headers (checksums included), and the encoded frame
 * decompresses to the raw bytes; an open transaction behind complete ones is held raw only until
 * the cut; the encoder survives discarded frames and large inputs written in odd pieces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { BinlogEventParser, TransactionTracker } from '../../src/binlog/index.js';
import { SegmentBuilder, type CutSegment, type SegmentBody } from '../../src/archiver/segment-builder.js';
import { segmentBodies } from '../../src/archiver/segment-encoder.js';
import { decodeSegmentHeader, encodeSegmentHeader } from '../../src/catalog/index.js';
import { BufferPool, ZstdFrameEncoder, zstdDecompress } from '../../src/codec/index.js';
import { FIXTURES, readFixture } from '../support/binlog-fixtures.js';

function cutAll(name: string, bytes: Buffer, limit: number, body?: () => SegmentBody): CutSegment[] {
  const events = new BinlogEventParser({ object: name }).push(bytes);
  const builder = new SegmentBuilder('000001', body ? { body } : {});
  builder.startFile(name, 4);
  const out: CutSegment[] = [];
  for (const e of events) {
    const { closesFile } = builder.add(e);
    if (builder.bufferedBytes >= limit) {
      if (builder.hasComplete) out.push(builder.cut('complete')!);
      while (builder.bufferedBytes >= limit) {
        const part = builder.cut('all');
        if (!part) break;
        out.push(part);
      }
    }
    if (closesFile) {
      const s = builder.cut('all');
      if (s) out.push(s);
    }
  }
  const rest = builder.cut('all');
  if (rest) out.push(rest);
  return out;
}

describe('segments compressed as they are built', () => {
  for (const fixture of FIXTURES) {
    for (const workers of [0, 1, 2]) {
      it(`${fixture.file}, ${workers} zstd worker(s): same headers as the raw path, frames decode to the bytes`, () => {
        const bytes = readFixture(fixture.file);
        const bodies = segmentBodies(1, { workers });
        for (const limit of [1, 300, 4096, 1 << 30]) {
          const raw = cutAll(fixture.file, bytes, limit);
          const enc = cutAll(fixture.file, bytes, limit, bodies);
          assert.equal(enc.length, raw.length, `limit ${limit}: segment count`);
          for (const [i, s] of enc.entries()) {
            const expected = raw[i]!;
            assert.deepEqual(s.header, expected.header, `limit ${limit} segment ${i} header`);
            assert.equal(s.chunks.length, 0, 'no raw bytes kept');
            assert.ok(s.encoded && s.encoded.length > 0);
            const data = zstdDecompress(Buffer.concat(s.encoded));
            assert.ok(data.equals(Buffer.concat(expected.chunks)), `limit ${limit} segment ${i} bytes`);
            // the stored object: header frame, then the data frame
            const object = Buffer.concat([encodeSegmentHeader(s.header), ...s.encoded]);
            const { header, frameLength } = decodeSegmentHeader(object, 'seg');
            assert.deepEqual(header, s.header);
            assert.equal(
              createHash('sha256')
                .update(zstdDecompress(object.subarray(frameLength)))
                .digest('hex'),
              header.sha256,
            );
          }
        }
      });
    }
  }

  it('holds an open transaction raw only while complete ones precede it, then compresses it', () => {
    const name = 'mysql-bin.checksum-crc32';
    const bytes = readFixture(name);
    const events = new BinlogEventParser({ object: name }).push(bytes);
    const builder = new SegmentBuilder('000001', { body: segmentBodies(1) });
    builder.startFile(name, 4);
    const tracker = new TransactionTracker(name);
    let checked = false;
    for (const e of events) {
      builder.add(e);
      tracker.add(e);
      if (tracker.open && !checked && builder.hasComplete) {
        assert.equal(builder.heldBytes, e.endOffset - tracker.open.startOffset, 'the open part is held');
        const seg = builder.cut('complete')!;
        assert.equal(seg.header.end, tracker.open.startOffset);
        assert.equal(builder.heldBytes, 0, 'after the cut it goes to the next body');
        assert.equal(builder.bufferedBytes, e.endOffset - tracker.open.startOffset);
        checked = true;
      }
      if (tracker.open === undefined) assert.equal(builder.heldBytes, 0, 'nothing held at a boundary');
    }
    assert.ok(checked);
    const rest = builder.cut('all')!;
    assert.ok(zstdDecompress(Buffer.concat(rest.encoded!)).equals(bytes.subarray(rest.header.start)));
  });

  it('a discarded segment leaves no trace in the next one', () => {
    const name = 'mysql-bin.checksum-crc32';
    const bytes = readFixture(name);
    const events = new BinlogEventParser({ object: name }).push(bytes);
    const bodies = segmentBodies(1);
    const builder = new SegmentBuilder('000001', { body: bodies });
    builder.startFile(name, 4);
    for (const e of events.slice(0, 5)) builder.add(e);
    builder.discard();
    const again = cutAll(name, bytes, 1 << 30, bodies);
    assert.equal(again.length, 1);
    assert.ok(zstdDecompress(Buffer.concat(again[0]!.encoded!)).equals(bytes));
  });
});

describe('ZstdFrameEncoder', () => {
  for (const workers of [0, 1, 2]) {
    it(`${workers} worker(s): 24 MiB in odd pieces, frame after frame, a discarded frame between`, () => {
      const encoder = new ZstdFrameEncoder({ level: 1, workers });
      // compressible and incompressible runs, so output crosses many output buffers
      const data = Buffer.concat([
        Buffer.alloc(8 << 20, 'binlog row '),
        randomBytes(8 << 20),
        Buffer.alloc(8 << 20, 7),
      ]);
      for (let round = 0; round < 2; round++) {
        let at = 0;
        for (let n = 1; at < data.length; n = (n * 7 + 13) % 3_000_001) {
          encoder.write(data.subarray(at, at + n));
          at += n;
        }
        assert.equal(encoder.inFrame, true);
        const frame = Buffer.concat(encoder.end());
        assert.equal(encoder.inFrame, false);
        assert.ok(frame.length < data.length);
        assert.ok(zstdDecompress(frame).equals(data), `round ${round}`);
        encoder.write(data.subarray(0, 1000));
        encoder.discard();
      }
      assert.ok(zstdDecompress(Buffer.concat(encoder.end())).equals(Buffer.alloc(0)), 'an empty frame');
    });
  }

  it('reuses pooled output buffers once given back, without mixing up frames', () => {
    const pool = new BufferPool(64 * 1024, 8);
    const encoder = new ZstdFrameEncoder({ level: 1, workers: 1, pool });
    const frames = [randomBytes(300_000), randomBytes(200_000), randomBytes(400_000)];
    let previous: Buffer[] | undefined;
    for (const data of frames) {
      encoder.write(data);
      const parts = encoder.end();
      // the previous frame's buffers come back only now, after this frame was taken
      if (previous) pool.give(previous);
      assert.ok(zstdDecompress(Buffer.concat(parts)).equals(data));
      previous = parts;
    }
    assert.ok(pool.free > 0 && pool.free <= 8, `free ${pool.free}`);
    const freeBefore = pool.free;
    pool.give(previous!);
    pool.give(previous!); // twice: ignored
    pool.give([Buffer.alloc(64 * 1024)]); // not the pool's: ignored
    assert.ok(pool.free <= 8);
    assert.ok(pool.free >= freeBefore);
    encoder.write(frames[0]!);
    assert.ok(zstdDecompress(Buffer.concat(encoder.end())).equals(frames[0]!));
  });

  it('jobSize: libzstd cuts its jobs there (other frame bytes, same content); a bad size is refused', () => {
    // 6 MiB of text that repeats within and across jobs: job boundaries change what is found
    const line = (i: number): string =>
      `INSERT INTO t VALUES (${i}, 'row ${i % 997}', ${(i * 7919) % 10007});\n`;
    const data = Buffer.from(Array.from({ length: 110_000 }, (_, i) => line(i)).join(''));
    const frameOf = (jobSize: number | undefined): Buffer => {
      const encoder = new ZstdFrameEncoder({ level: 1, workers: 2, jobSize });
      encoder.write(data);
      return Buffer.concat(encoder.end());
    };
    const small = frameOf(512 * 1024);
    const dflt = frameOf(undefined);
    assert.ok(zstdDecompress(small).equals(data));
    assert.ok(zstdDecompress(dflt).equals(data));
    assert.ok(!small.equals(dflt), 'the job size reached libzstd');
    assert.ok(frameOf(512 * 1024).equals(small), 'the same input and jobs give the same frame');
    assert.throws(() => new ZstdFrameEncoder({ workers: 2, jobSize: -1 }), RangeError);
    assert.throws(() => new ZstdFrameEncoder({ workers: 2, jobSize: 1.5 }), RangeError);
  });

  it('rejects a bad level', () => {
    assert.throws(() => new ZstdFrameEncoder({ level: 99 }), RangeError);
  });
});
