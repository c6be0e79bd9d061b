/**
 * Which segments `undo` and `timeline search` read, from segment headers alone (src/restore/
 * segment-window.ts): the start at a transaction boundary (walking back over segments that end inside
 * a transaction), the time window, and whether a header may hold a MariaDB or MySQL GTID.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SegmentHeader } from '../../src/catalog/index.js';
import {
  segmentMayHoldGtid,
  segmentsInTimeRange,
  transactionStartIndex,
  type HeadedSegment,
} from '../../src/restore/index.js';

const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

function header(over: Partial<SegmentHeader>): SegmentHeader {
  return {
    format: 1,
    timeline: '000001',
    file: 'mysql-bin.000001',
    start: 0,
    end: 100,
    sha256: '0'.repeat(64),
    firstCommit: null,
    lastCommit: null,
    gtids: {},
    gtidSet: '',
    transactions: 0,
    events: 1,
    splitTransaction: false,
    closesFile: false,
    ...over,
  };
}

/**
 * Segments of 100 bytes each, with commit seconds [first, last] (null: no transaction ends there) and
 * one MariaDB GTID per segment that ends a transaction (none with `gtids: false`).
 */
function segs(
  list: { first: number | null; last: number | null; split?: boolean }[],
  gtids = true,
): HeadedSegment[] {
  const t = (s: number | null): string | null => (s === null ? null : new Date(s * 1000).toISOString());
  return list.map((x, i) => ({
    start: i * 100,
    header: header({
      start: i * 100,
      end: i * 100 + 100,
      firstCommit: t(x.first),
      lastCommit: t(x.last),
      transactions: x.last === null ? 0 : 1,
      gtids: gtids && x.last !== null ? { '0': { first: `0-1-${i}`, last: `0-1-${i}` } } : {},
      splitTransaction: x.split ?? false,
    }),
  }));
}

describe('transactionStartIndex', () => {
  it('stays on a segment whose predecessor ends at a transaction boundary', () => {
    const s = segs([
      { first: 1, last: 2 },
      { first: 3, last: 4 },
      { first: 5, last: 6 },
    ]);
    assert.equal(transactionStartIndex(s, 2), 2);
    assert.equal(transactionStartIndex(s, 0), 0);
  });

  it('walks back over segments wholly inside a transaction, then to the one where it may begin', () => {
    const s = segs([
      { first: 1, last: 2 },
      { first: 3, last: 3, split: true },
      { first: null, last: null, split: true },
      { first: 7, last: 8, split: true },
      { first: 9, last: 9 },
    ]);
    // Segment 3 starts inside the transaction that ends there; it began after the end of the one in 1.
    assert.equal(transactionStartIndex(s, 3), 1);
    // A transaction ending in 4 may have begun in 3 (which is flagged split).
    assert.equal(transactionStartIndex(s, 4), 3);
  });
});

describe('segmentsInTimeRange', () => {
  const s = segs([
    { first: 10, last: 19 },
    { first: 20, last: 29 },
    { first: 30, last: 39, split: true },
    { first: null, last: null, split: true },
    { first: 50, last: 59, split: true },
    { first: 60, last: 69 },
  ]);

  it('reads everything without bounds', () => {
    assert.deepEqual(segmentsInTimeRange(s, undefined, undefined), { first: 0, end: 6 });
  });

  it('skips the segments wholly before --from, starting at a transaction boundary', () => {
    assert.deepEqual(segmentsInTimeRange(s, 25_000, undefined), { first: 1, end: 6 });
    // The transaction ending in segment 4 started in segment 2 (2 and 3 end inside it).
    assert.deepEqual(segmentsInTimeRange(s, 45_000, undefined), { first: 2, end: 6 });
  });

  it('stops before the first segment whose commits are all after --to (one-second resolution)', () => {
    assert.deepEqual(segmentsInTimeRange(s, undefined, 29_000), { first: 0, end: 2 });
    assert.deepEqual(segmentsInTimeRange(s, undefined, 49_500), { first: 0, end: 5 });
    assert.deepEqual(segmentsInTimeRange(s, 20_000, 39_000), { first: 1, end: 4 });
  });

  it('bounds are inclusive to the second', () => {
    const t = segs([
      { first: 29, last: 29 },
      { first: 30, last: 30 },
    ]);
    assert.deepEqual(segmentsInTimeRange(t, undefined, 29_000), { first: 0, end: 1 });
    assert.deepEqual(segmentsInTimeRange(t, 30_000, undefined), { first: 1, end: 2 });
  });

  it('reads nothing of a file wholly before --from', () => {
    assert.deepEqual(segmentsInTimeRange(s, 70_000, undefined), { first: 6, end: 6 });
  });

  it('a file without GTIDs is read from its start, or skipped when wholly before --from', () => {
    const t = segs(
      [
        { first: 10, last: 19 },
        { first: 20, last: 29 },
      ],
      false,
    );
    assert.deepEqual(segmentsInTimeRange(t, 25_000, undefined), { first: 0, end: 2 });
    assert.deepEqual(segmentsInTimeRange(t, 30_000, undefined), { first: 2, end: 2 });
  });

  it('keeps a segment whose commit times are out of order by either bound', () => {
    // A long transaction committed last but stamped with its start: first 40, last 12.
    const t = segs([
      { first: 40, last: 12 },
      { first: 13, last: 14 },
    ]);
    assert.equal(segmentsInTimeRange(t, 35_000, undefined).first, 0);
  });
});

describe('segmentMayHoldGtid', () => {
  it('MariaDB: the sequence number within the range of its domain', () => {
    const h = header({
      gtids: { '0': { first: '0-1-10', last: '0-2-20' }, '5': { first: '5-1-3', last: '5-1-3' } },
    });
    assert.equal(segmentMayHoldGtid(h, '0-1-10'), true);
    assert.equal(segmentMayHoldGtid(h, '0-7-15'), true);
    assert.equal(segmentMayHoldGtid(h, '0-2-20'), true);
    assert.equal(segmentMayHoldGtid(h, '0-1-9'), false);
    assert.equal(segmentMayHoldGtid(h, '0-1-21'), false);
    assert.equal(segmentMayHoldGtid(h, '5-1-3'), true);
    assert.equal(segmentMayHoldGtid(h, '6-1-3'), false, 'a domain the segment has no transaction of');
  });

  it('MySQL: the GTID set contains it', () => {
    const h = header({ gtidSet: `${UUID}:5-9:12` });
    assert.equal(segmentMayHoldGtid(h, `${UUID}:5`), true);
    assert.equal(segmentMayHoldGtid(h, `${UUID}:12`), true);
    assert.equal(segmentMayHoldGtid(h, `${UUID}:10`), false);
    assert.equal(segmentMayHoldGtid(h, `${UUID.replace('3e', '4e')}:5`), false);
  });

  it('never on a header without GTIDs or for text that is no GTID', () => {
    assert.equal(segmentMayHoldGtid(header({}), '0-1-1'), false);
    assert.equal(segmentMayHoldGtid(header({}), `${UUID}:1`), false);
    assert.equal(segmentMayHoldGtid(header({ gtidSet: `${UUID}:1` }), 'not-a-gtid'), false);
  });
});
