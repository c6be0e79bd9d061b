/**
 * findDivergedHistories over in-memory catalogs: a clean failover (nothing reported), a failover
 * that lost transactions (named, exact from dense headers), an old primary's errant transactions
 * inside a segment the child straddles (upper bound), a recorded fork, and MySQL GTID sets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  findDivergedHistories,
  type CatalogSegment,
  type CatalogTimeline,
  type SegmentHeader,
  type TimelineRecord,
} from '../../src/catalog/index.js';

const F = (n: number): string => `mysql-bin.${String(n).padStart(6, '0')}`;

/** A MariaDB segment of `timeline` with domain-0 GTIDs `first`..`last` and `transactions` of them. */
function seg(
  timeline: string,
  file: string,
  start: number,
  gtids: Record<string, { first: string; last: string }>,
  transactions: number,
  gtidSet = '',
): CatalogSegment {
  const header: SegmentHeader = {
    format: 1,
    timeline,
    file,
    start,
    end: start + 1000,
    sha256: '0'.repeat(64),
    firstCommit: '2026-12-01T10:00:00.000Z',
    lastCommit: '2026-12-01T10:00:01.000Z',
    gtids,
    gtidSet,
    transactions,
    events: transactions * 4,
    splitTransaction: false,
    closesFile: false,
  };
  return {
    key: `binlogs/${timeline}/${file}/${start}.zst`,
    timeline,
    file,
    start,
    size: 100,
    lastModified: new Date(0),
    header,
  };
}

function record(id: string, serverId: number, extra: Partial<TimelineRecord> = {}): TimelineRecord {
  return {
    format: 1,
    timeline: id,
    createdAt: '2026-12-01T10:00:00.000Z',
    source: {
      flavor: 'mariadb',
      serverId,
      gtidDomainId: 0,
      version: '11.4',
      address: `mysql://r@db${serverId}`,
    },
    firstFile: F(1),
    reason: 'test',
    ...extra,
  };
}

const tl = (id: string, rec: TimelineRecord | undefined, segments: CatalogSegment[]): CatalogTimeline => ({
  id,
  record: rec,
  segments,
  gaps: [],
});

const d0 = (first: string, last: string): Record<string, { first: string; last: string }> => ({
  '0': { first, last },
});

describe('findDivergedHistories', () => {
  it('reports nothing for a clean failover: the new primary continues right after the old one', () => {
    const t1 = tl('000001', record('000001', 1), [
      seg('000001', F(1), 4, d0('0-1-1', '0-1-50'), 50),
      seg('000001', F(1), 1004, d0('0-1-51', '0-1-100'), 50),
    ]);
    const t2 = tl('000002', record('000002', 2), [seg('000002', F(3), 4, d0('0-2-101', '0-2-120'), 20)]);
    assert.deepEqual(findDivergedHistories([t1, t2]), []);
  });

  it('reports nothing when the new primary repeats what it replicated up to the fork', () => {
    const t1 = tl('000001', record('000001', 1), [seg('000001', F(1), 4, d0('0-1-1', '0-1-100'), 100)]);
    const t2 = tl('000002', record('000002', 2), [
      seg('000002', F(3), 4, d0('0-1-90', '0-1-100'), 11),
      seg('000002', F(3), 1004, d0('0-2-101', '0-2-110'), 10),
    ]);
    assert.deepEqual(findDivergedHistories([t1, t2]), []);
  });

  it('names the transactions lost in a failover, exactly when the headers are dense', () => {
    const t1 = tl('000001', record('000001', 1), [
      seg('000001', F(1), 4, d0('0-1-1', '0-1-95'), 95),
      seg('000001', F(1), 1004, d0('0-1-96', '0-1-103'), 8),
    ]);
    // the replica got up to 0-1-100; promoted, it writes 0-2-101..
    const t2 = tl('000002', record('000002', 2), [seg('000002', F(3), 4, d0('0-2-101', '0-2-110'), 10)]);
    const [d, ...rest] = findDivergedHistories([t1, t2]);
    assert.equal(rest.length, 0);
    assert.ok(d);
    assert.equal(d.parent, '000001');
    assert.equal(d.timeline, '000002');
    assert.equal(d.how, 'inferred');
    assert.equal(d.transactions, 3);
    assert.equal(d.upperBound, false);
    assert.deepEqual(d.ranges, ['0-1-101..0-1-103']);
    assert.match(
      d.message,
      /^diverged: 3 transactions on timeline 000001 after the fork are not in timeline 000002/,
    );
    assert.match(d.message, /lost in the failover, or errant on a returning old primary/);
  });

  it('gives an upper bound when a segment of the new timeline straddles the fork', () => {
    const t1 = tl('000001', record('000001', 1), [seg('000001', F(1), 4, d0('0-1-1', '0-1-103'), 103)]);
    // one segment: replicated 0-1-95..0-1-x, then own 0-2-(x+1)..0-2-105: x is between 95 and 104
    const t2 = tl('000002', record('000002', 2), [seg('000002', F(3), 4, d0('0-1-95', '0-2-105'), 11)]);
    assert.deepEqual(findDivergedHistories([t1, t2]), []);
    // the old primary went on past the new one's first own transaction: certainly diverged
    const t1b = tl('000001', record('000001', 1), [seg('000001', F(1), 4, d0('0-1-1', '0-1-107'), 107)]);
    const [d] = findDivergedHistories([t1b, t2]);
    assert.ok(d);
    assert.equal(d.upperBound, true);
    assert.equal(d.transactions, 12); // 0-1-96..0-1-107 at most
    assert.deepEqual(d.ranges, ['0-1-96..0-1-107']);
    assert.match(d.message, /^diverged: up to 12 transactions/);
  });

  it('uses the recorded fork for a domain the new timeline has not written in', () => {
    const t1 = tl('000001', record('000001', 1), [
      seg('000001', F(1), 4, { '0': { first: '0-1-1', last: '0-1-100' } }, 100),
      seg('000001', F(1), 1004, { '1': { first: '1-1-1', last: '1-1-9' } }, 9),
    ]);
    const t2 = tl('000002', record('000002', 2, { parent: '000001', forkGtid: '0-1-100,1-1-5' }), [
      seg('000002', F(3), 4, d0('0-2-101', '0-2-110'), 10),
    ]);
    const [d, ...rest] = findDivergedHistories([t1, t2]);
    assert.equal(rest.length, 0);
    assert.ok(d);
    assert.equal(d.how, 'recorded');
    assert.equal(d.transactions, 4);
    assert.deepEqual(d.ranges, ['1-1-6..1-1-9']);
  });

  it('MySQL: the old primary transactions beyond what the new one holds of its server_uuid', () => {
    const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const B = '4f22fa47-71ca-11e1-9e33-c80aa9429563';
    const my = (id: string, serverId: number, uuid: string): TimelineRecord => ({
      ...record(id, serverId),
      source: { flavor: 'mysql', serverId, serverUuid: uuid, version: '8.4', address: 'mysql://r@x' },
    });
    const t1 = tl('000001', my('000001', 1, A), [seg('000001', F(1), 4, {}, 40, `${A}:1-40`)]);
    const clean = tl('000002', my('000002', 2, B), [seg('000002', F(3), 4, {}, 15, `${A}:31-40,${B}:1-5`)]);
    assert.deepEqual(findDivergedHistories([t1, clean]), []);
    const lossy = tl('000002', my('000002', 2, B), [seg('000002', F(3), 4, {}, 12, `${A}:31-37,${B}:1-5`)]);
    const [d] = findDivergedHistories([t1, lossy]);
    assert.ok(d);
    assert.equal(d.transactions, 3);
    assert.equal(d.upperBound, false);
    assert.deepEqual(d.ranges, [`${A}:38-40`]);
  });

  it('a primary that returns (A, B, then A again) carries its old history: not diverged', () => {
    const t1 = tl('000001', record('000001', 1), [seg('000001', F(1), 4, d0('0-1-1', '0-1-90'), 90)]);
    const t2 = tl('000002', record('000002', 2), [seg('000002', F(1), 4, d0('0-1-80', '0-2-150'), 71)]);
    // A's binlog: its old transactions, B's (replicated, inside the segment), then its new ones
    const t3 = tl('000003', record('000003', 1), [
      seg('000003', F(1), 4, d0('0-1-1', '0-1-85'), 85),
      seg('000003', F(1), 1004, d0('0-1-86', '0-1-190'), 105),
    ]);
    assert.deepEqual(findDivergedHistories([t1, t2, t3]), []);
    // ...unless its binlog shows B's transactions and then its own before B's last one
    const errant = tl('000003', record('000003', 1), [
      seg('000003', F(1), 4, d0('0-1-1', '0-2-140'), 140),
      seg('000003', F(1), 1004, d0('0-1-141', '0-1-190'), 50),
    ]);
    const [d] = findDivergedHistories([t1, t2, errant]);
    assert.ok(d);
    assert.equal(d.parent, '000002');
    assert.equal(d.transactions, 10);
    assert.deepEqual(d.ranges, ['0-2-141..0-2-150']);
  });

  it('reports nothing across a break (the same server reset its history)', () => {
    const t1 = tl('000001', record('000001', 1), [seg('000001', F(1), 4, d0('0-1-1', '0-1-100'), 100)]);
    const t2 = tl('000002', record('000002', 1), [seg('000002', F(1), 4, d0('0-1-1', '0-1-5'), 5)]);
    assert.deepEqual(findDivergedHistories([t1, t2]), []);
  });
});
