/**
 * ArchiveCore, the archiver's pure decision core, over the real binlog fixtures and a fake clock:
 * no server, no storage. Where segments end (size, rotation, split transactions), when they are
 * stored (interval, idle, end) and when a catch-up is done.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BinlogEventParser, EventType, type BinlogEvent } from '../../src/binlog/index.js';
import { ArchiveCore, isCaughtUp, type SegmentCut } from '../../src/archiver/index.js';
import { FIXTURES, readFixture } from '../support/binlog-fixtures.js';

function eventsOf(name: string): { bytes: Buffer; events: BinlogEvent[] } {
  const bytes = readFixture(name);
  const parser = new BinlogEventParser({ object: name });
  const events = parser.push(bytes);
  parser.end();
  return { bytes, events };
}

function coreFor(
  name: string,
  checksum: 'CRC32' | 'OFF' | undefined,
  opts: { segmentSize?: number; flushIntervalMs?: number; heldMax?: number } = {},
): ArchiveCore {
  return new ArchiveCore({
    timeline: '000001',
    file: name,
    position: 4,
    checksumAlgorithm: checksum === 'OFF' ? 'OFF' : 'CRC32',
    object: name,
    ...opts,
  });
}

const bytesOf = (cuts: readonly SegmentCut[]): Buffer => Buffer.concat(cuts.flatMap((c) => c.segment.chunks));

describe('ArchiveCore over real binlogs', () => {
  for (const fixture of FIXTURES) {
    for (const segmentSize of [1024, 4096, 64 * 1024 * 1024]) {
      it(`${fixture.file}, ${segmentSize}-byte segments: the stored segments are the file, in order`, () => {
        const { bytes, events } = eventsOf(fixture.file);
        const core = coreFor(fixture.file, fixture.checksum, { segmentSize, flushIntervalMs: 1e9 });
        const cuts: SegmentCut[] = [...core.fileAnnounced(fixture.file, 4, 0)];
        for (const e of events) cuts.push(...core.event(e.raw, e.offset, 0));
        // the file is complete once its ROTATE/STOP is in; otherwise the end stores what is complete
        cuts.push(...core.end());
        const closed = events.some((e) => e.typeCode === EventType.ROTATE || e.typeCode === EventType.STOP);
        let expected = 0;
        for (const c of cuts) {
          const h = c.segment.header;
          assert.equal(h.start, expected, `segment at ${h.start} follows ${expected}`);
          expected = h.end;
          const sha = createHash('sha256');
          for (const chunk of c.segment.chunks) sha.update(chunk);
          assert.equal(h.sha256, sha.digest('hex'));
          if (c.reason === 'size') assert.ok(h.end - h.start >= 1 || h.splitTransaction);
        }
        const stored = bytesOf(cuts);
        if (closed && fixture.openAt === undefined) {
          assert.ok(stored.equals(bytes), 'the segments concatenate into the file');
          assert.equal(cuts.at(-1)!.segment.header.closesFile, true);
        } else {
          assert.ok(
            bytes.subarray(0, stored.length).equals(stored),
            'what is stored is a prefix of the file',
          );
        }
        assert.equal(
          cuts.reduce((n, c) => n + c.segment.header.transactions, 0),
          fixture.transactions,
        );
        if (segmentSize === 64 * 1024 * 1024 && closed) {
          assert.deepEqual(
            cuts.map((c) => c.reason),
            ['rotate'],
          );
        }
      });
    }
  }

  it('a transaction alone larger than a segment is split, and both parts say so', () => {
    const f = FIXTURES.find((x) => x.file === 'mysql-bin.checksum-crc32')!;
    const { events } = eventsOf(f.file);
    const core = coreFor(f.file, f.checksum, { segmentSize: 1024, flushIntervalMs: 1e9 });
    const cuts: SegmentCut[] = [...core.fileAnnounced(f.file, 4, 0)];
    for (const e of events) cuts.push(...core.event(e.raw, e.offset, 0));
    const sizes = cuts.filter((c) => c.reason === 'size');
    assert.ok(sizes.length > 0, 'size cuts happen');
    for (const c of sizes) {
      const h = c.segment.header;
      // a size cut is either at a transaction boundary, or a split marked as such
      assert.ok(h.transactions > 0 || h.splitTransaction, `segment ${h.start}-${h.end}`);
    }
  });
});

describe('ArchiveCore flush timing (fake clock)', () => {
  const f = FIXTURES.find((x) => x.file === 'mysql-bin.checksum-crc32')!;

  /** Feeds events until the first transaction ends; returns the next event index. */
  function firstTransaction(core: ArchiveCore, events: BinlogEvent[], now: number): number {
    core.fileAnnounced(f.file, 4, 0);
    for (let i = 0; i < events.length; i++) {
      assert.deepEqual(core.event(events[i]!.raw, events[i]!.offset, now), []);
      if (core.dueAt !== undefined) return i + 1;
    }
    throw new Error('no transaction in the fixture');
  }

  it('the interval flush is due flushIntervalMs after the first transaction ended, not before', () => {
    const { events } = eventsOf(f.file);
    const core = coreFor(f.file, f.checksum, { flushIntervalMs: 400 });
    firstTransaction(core, events, 1000);
    assert.equal(core.dueAt, 1400);
    assert.deepEqual(core.timer(1399), []);
    const cuts = core.timer(1400);
    assert.equal(cuts.length, 1);
    assert.equal(cuts[0]!.reason, 'interval');
    assert.equal(cuts[0]!.segment.header.transactions, 1);
    assert.equal(core.dueAt, undefined, 'nothing waits after the flush');
  });

  it('the idle flush stores at once, at most once per interval', () => {
    const { events } = eventsOf(f.file);
    const core = coreFor(f.file, f.checksum, { flushIntervalMs: 400 });
    let next = firstTransaction(core, events, 1000);
    const first = core.idle(1000);
    assert.equal(first.length, 1, 'the first idle moment stores the complete transaction');
    assert.equal(first[0]!.reason, 'idle');
    // another transaction right after: not before one interval since the last flush
    while (core.dueAt === undefined) core.event(events[next]!.raw, events[next++]!.offset, 1100);
    assert.deepEqual(core.idle(1100), []);
    assert.deepEqual(core.idle(1399), []);
    assert.equal(core.idle(1400)[0]?.reason, 'idle');
  });

  it('an open transaction held behind complete ones past heldMax cuts the complete ones', () => {
    const { events } = eventsOf(f.file);
    const core = coreFor(f.file, f.checksum, { flushIntervalMs: 1e9, heldMax: 1 });
    core.fileAnnounced(f.file, 4, 0);
    // the first transaction opens behind the complete FORMAT_DESCRIPTION (and friends), past 1 byte
    const cuts: SegmentCut[] = [];
    let next = 0;
    while (cuts.length === 0 && next < events.length)
      cuts.push(...core.event(events[next]!.raw, events[next++]!.offset, 0));
    assert.equal(cuts.length, 1);
    assert.equal(cuts[0]!.reason, 'size');
    const h = cuts[0]!.segment.header;
    assert.equal(h.splitTransaction, false, 'the cut is at a boundary: the open transaction stays');
    assert.equal(h.end, events[next - 2]!.endOffset, 'everything before the opening event');
    assert.ok(core.hasEvents, 'the open transaction waits for the next segment');
  });

  it('a file that ends without ROTATE (crashed source) is stored whole when the next file is announced', () => {
    const { bytes, events } = eventsOf(f.file);
    const core = coreFor(f.file, f.checksum, { flushIntervalMs: 1e9 });
    core.fileAnnounced(f.file, 4, 0);
    // stop in the middle of a transaction: everything received so far
    const cut = Math.floor(events.length / 2);
    let end = 4;
    for (const e of events.slice(0, cut)) {
      core.event(e.raw, e.offset, 0);
      end = e.endOffset;
    }
    const cuts = core.fileAnnounced('mysql-bin.000002', 4, 0);
    assert.equal(cuts.length, 1);
    assert.equal(cuts[0]!.reason, 'rotate');
    assert.ok(bytesOf(cuts).equals(bytes.subarray(0, end)));
    assert.equal(core.hasEvents, false);
    // the next file starts at its magic
    assert.deepEqual(
      core.fileAnnounced('mysql-bin.000002', 4, 0),
      [],
      'a repeated announcement changes nothing',
    );
  });

  it('an event out of place is refused (the stream skipped bytes)', () => {
    const { events } = eventsOf(f.file);
    const core = coreFor(f.file, f.checksum);
    core.fileAnnounced(f.file, 4, 0);
    core.event(events[0]!.raw, events[0]!.offset, 0);
    assert.throws(() => core.event(events[2]!.raw, events[2]!.offset, 0), { code: 'CORRUPT_DATA' });
  });
});

describe('isCaughtUp', () => {
  const d = (file: string, end: number, closesFile = false, nextFile?: string) => ({
    file,
    end,
    closesFile,
    nextFile,
  });
  it('needs a target and a durable end', () => {
    assert.equal(isCaughtUp({ target: undefined, durable: d('b.000001', 10) }), false);
    assert.equal(isCaughtUp({ target: { file: 'b.000001', position: 4 }, durable: undefined }), false);
  });
  it('compares files, then positions; a closed file reaches the next file at its start', () => {
    const target = { file: 'b.000002', position: 500 };
    assert.equal(isCaughtUp({ target, durable: d('b.000002', 499) }), false);
    assert.equal(isCaughtUp({ target, durable: d('b.000002', 500) }), true);
    assert.equal(isCaughtUp({ target, durable: d('b.000003', 4) }), true);
    assert.equal(isCaughtUp({ target, durable: d('b.000001', 9999, true, 'b.000002') }), false);
    const atStart = { file: 'b.000002', position: 4 };
    assert.equal(isCaughtUp({ target: atStart, durable: d('b.000001', 9999, true, 'b.000002') }), true);
    assert.equal(isCaughtUp({ target: atStart, durable: d('b.000001', 9999, false) }), false);
  });
});
