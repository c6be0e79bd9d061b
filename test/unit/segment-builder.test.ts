/**
 * SegmentBuilder and the segment object format over the real binlog fixtures: for several size
 * limits, the segments of a file concatenate into the file, join up, cut only between
 * transactions unless a transaction alone fills a segment, and carry correct counts and checksums.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BinlogEventParser, EventType, TransactionTracker } from '../../src/binlog/index.js';
import { SegmentBuilder, encodeSegment, type CutSegment } from '../../src/archiver/index.js';
import { decodeSegmentHeader, SEGMENT_HEADER_MAGIC } from '../../src/catalog/index.js';
import { zstdDecompress } from '../../src/codec/index.js';
import { FIXTURES, readFixture } from '../support/binlog-fixtures.js';

/** Cuts `file` into segments the way the archiver does for a size limit. */
function segmentsOf(
  name: string,
  bytes: Buffer,
  limit: number,
): { segments: CutSegment[]; boundaries: Set<number> } {
  const parser = new BinlogEventParser({ object: name });
  const events = parser.push(bytes);
  parser.end();
  const builder = new SegmentBuilder('000001');
  builder.startFile(name, 4);
  const segments: CutSegment[] = [];
  const boundaries = new Set<number>([0, 4]);
  const tracker = new TransactionTracker(name);
  for (const e of events) {
    tracker.add(e);
    if (tracker.open === undefined) boundaries.add(e.endOffset);
    const { closesFile } = builder.add(e);
    if (builder.bufferedBytes >= limit) {
      if (builder.hasComplete) segments.push(builder.cut('complete')!);
      while (builder.bufferedBytes >= limit) {
        const part = builder.cut('all');
        if (!part) break;
        segments.push(part);
      }
    }
    if (closesFile) {
      const s = builder.cut('all');
      if (s) segments.push(s);
    }
  }
  const rest = builder.cut('all');
  if (rest) segments.push(rest);
  return { segments, boundaries };
}

describe('SegmentBuilder over real binlogs', () => {
  for (const fixture of FIXTURES) {
    for (const limit of [1, 300, 4096, 1 << 30]) {
      it(`${fixture.file} with a ${limit}-byte limit reassembles byte for byte`, () => {
        const bytes = readFixture(fixture.file);
        const { segments, boundaries } = segmentsOf(fixture.file, bytes, limit);
        assert.ok(segments.length > 0);
        // concatenation is the file
        assert.ok(Buffer.concat(segments.flatMap((s) => s.chunks)).equals(bytes));
        let expected = 0;
        let transactions = 0;
        for (const [i, s] of segments.entries()) {
          const h = s.header;
          assert.equal(h.start, expected, `segment ${i} starts where the previous ended`);
          const data = Buffer.concat(s.chunks);
          assert.equal(data.length, h.end - h.start);
          assert.equal(h.sha256, createHash('sha256').update(data).digest('hex'));
          assert.ok(h.events > 0);
          // a segment cut inside a transaction says so at both ends
          const clean = boundaries.has(h.start) && boundaries.has(h.end);
          assert.equal(h.splitTransaction, !clean, `segment ${i} ${h.start}-${h.end} splitTransaction`);
          if (limit >= 1 << 30 && fixture.openAt === undefined) assert.equal(h.splitTransaction, false);
          assert.equal(
            h.closesFile,
            i === segments.length - 1 &&
              ([EventType.ROTATE, EventType.STOP] as number[]).includes(lastEventType(bytes)),
          );
          if (h.transactions > 0) assert.ok(h.firstCommit && h.lastCommit && h.firstCommit <= h.lastCommit);
          else assert.equal(h.firstCommit, null);
          transactions += h.transactions;
          expected = h.end;
        }
        assert.equal(expected, bytes.length);
        assert.equal(transactions, fixture.transactions);
      });
    }
  }

  it('records GTID ranges (MySQL sets) of the transactions in each segment', () => {
    const bytes = readFixture('mysql-8.0.45-gtid.000001');
    const { segments } = segmentsOf('mysql-8.0.45-gtid.000001', bytes, 1 << 30);
    assert.equal(segments.length, 1);
    const fixture = FIXTURES.find((f) => f.file === 'mysql-8.0.45-gtid.000001')!;
    const gtids = fixture.gtids!.filter((g): g is string => g !== undefined);
    const uuid = gtids[0]!.split(':')[0]!;
    assert.ok(segments[0]!.header.gtidSet.startsWith(uuid), segments[0]!.header.gtidSet);
  });

  it('keeps an open transaction for the next segment on a complete cut', () => {
    const name = 'mysql-bin.checksum-crc32';
    const bytes = readFixture(name);
    const parser = new BinlogEventParser({ object: name });
    const events = parser.push(bytes);
    const builder = new SegmentBuilder('000001');
    builder.startFile(name, 4);
    const tracker = new TransactionTracker(name);
    let cutAt: number | undefined;
    for (const e of events) {
      builder.add(e);
      tracker.add(e);
      if (tracker.open && cutAt === undefined && builder.hasComplete) {
        const seg = builder.cut('complete')!;
        cutAt = seg.header.end;
        assert.equal(seg.header.end, tracker.open.startOffset, 'cut at the start of the open transaction');
        assert.equal(seg.header.splitTransaction, false);
        assert.ok(builder.bufferedBytes > 0, 'the open transaction stays buffered');
        assert.equal(builder.cut('complete'), undefined, 'nothing complete left');
      }
    }
    assert.ok(cutAt !== undefined);
    const rest = builder.cut('all')!;
    assert.equal(rest.header.start, cutAt);
    assert.equal(rest.header.end, bytes.length);
  });

  it('refuses an event at the wrong offset (a skipped or repeated byte range)', () => {
    const name = 'mysql-bin.checksum-crc32';
    const events = new BinlogEventParser({ object: name }).push(readFixture(name));
    const builder = new SegmentBuilder('000001');
    builder.startFile(name, 4);
    builder.add(events[0]!);
    assert.throws(() => builder.add(events[2]!), { code: 'CORRUPT_DATA' });
  });
});

describe('segment objects', () => {
  it('start with a zstd skippable frame holding the header, which zstd skips', async () => {
    const name = 'mysql-bin.checksum-crc32';
    const bytes = readFixture(name);
    const { segments } = segmentsOf(name, bytes, 4096);
    const seg = segments[1]!;
    const raw = Buffer.concat(seg.chunks);
    const object = await encodeSegment(seg.header, seg.chunks, 1);
    assert.equal(object.readUInt32LE(0), SEGMENT_HEADER_MAGIC);
    const { header, frameLength } = decodeSegmentHeader(object, 'seg');
    assert.deepEqual(header, seg.header);
    assert.ok(zstdDecompress(object.subarray(frameLength)).equals(raw));
    // the whole object decompresses too: the header frame is skipped
    assert.ok(zstdDecompress(object).equals(raw));
  });

  it('a damaged header is CORRUPT_DATA naming the object; a cut one TRUNCATED_DATA', async () => {
    const name = 'mysql-bin.checksum-crc32';
    const { segments } = segmentsOf(name, readFixture(name), 1 << 30);
    const object = await encodeSegment(segments[0]!.header, segments[0]!.chunks);
    const bad = Buffer.from(object);
    bad[0] = 0;
    assert.throws(() => decodeSegmentHeader(bad, 'binlogs/x.zst'), {
      code: 'CORRUPT_DATA',
      message: /binlogs\/x\.zst/,
    });
    const json = Buffer.from(object);
    json[9] = 0x7b; // '{' where '"' was: not JSON
    assert.throws(() => decodeSegmentHeader(json, 'k'), { code: 'CORRUPT_DATA' });
    assert.throws(() => decodeSegmentHeader(object.subarray(0, 20), 'k'), { code: 'TRUNCATED_DATA' });
  });
});

function lastEventType(bytes: Buffer): number {
  const events = new BinlogEventParser({ object: 'x' }).push(bytes);
  return events.at(-1)!.typeCode;
}
