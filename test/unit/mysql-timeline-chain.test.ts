/**
 * The chain and fork logic on MySQL GTID sets (server_uuid:intervals), fed the GTIDs of real MySQL
 * 8.0.45 binlogs (test/fixtures/binlogs/mysql-8.0.45-gtid.00000{1,2}, provenance in
 * test/fixtures/README.md) as the project's own parser reads them: timelines linked by GTID
 * continuity, a break when transactions are in neither, a crash end judged by the next transaction
 * number, and the diverged-history set difference. MySQL is fixture-only here (no MySQL server runs
 * on the project's machines); the restore planner does not cross MySQL forks yet.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decompress } from 'zstd-napi';
import { BinlogEventParser, TransactionTracker, type BinlogTransaction } from '../../src/binlog/index.js';
import {
  findDivergedHistories,
  judgeUnclosedFileEnd,
  segmentKey,
  timelineLink,
  type CatalogTimeline,
  type SegmentHeader,
} from '../../src/catalog/index.js';
import { MysqlGtidSet, parseMysqlGtid } from '../../src/gtid/index.js';
import { readFixture } from '../support/binlog-fixtures.js';

/** The transactions of a real fixture file, as the archiver's parser and tracker see them. */
function transactionsOf(file: string): BinlogTransaction[] {
  const parser = new BinlogEventParser({ object: file, decompress: (b: Buffer) => decompress(b) });
  const tracker = new TransactionTracker(file);
  const out: BinlogTransaction[] = [];
  for (const e of parser.push(readFixture(file))) {
    const t = tracker.add(e);
    if (t) out.push(t);
  }
  parser.end();
  return out;
}

const FIRST = transactionsOf('mysql-8.0.45-gtid.000001');
const SECOND = transactionsOf('mysql-8.0.45-gtid.000002');
const UUID = parseMysqlGtid(FIRST[0]!.gtid!).uuid;

/** One segment header holding `trxs` (their GTID set, as the archiver writes it). */
function header(timeline: string, file: string, trxs: BinlogTransaction[], closes: boolean): SegmentHeader {
  const set = trxs.reduce(
    (acc, t) => acc.union(MysqlGtidSet.of(parseMysqlGtid(t.gtid!))),
    MysqlGtidSet.EMPTY,
  );
  return {
    format: 1,
    timeline,
    file,
    start: 0,
    end: trxs.at(-1)!.endOffset + (closes ? 47 : 0),
    sha256: '0'.repeat(64),
    firstCommit: '2026-12-01T10:00:00.000Z',
    lastCommit: '2026-12-01T10:00:01.000Z',
    gtids: {},
    gtidSet: set.toString(),
    transactions: trxs.length,
    events: trxs.length * 5,
    splitTransaction: false,
    closesFile: closes,
  };
}

function timeline(
  id: string,
  serverUuid: string,
  files: [string, BinlogTransaction[], boolean][],
): CatalogTimeline {
  return {
    id,
    record: {
      format: 1,
      timeline: id,
      createdAt: '2026-12-01T09:00:00Z',
      source: {
        flavor: 'mysql',
        serverId: id === '000001' ? 1 : 2,
        serverUuid,
        version: '8.0.45',
        address: 'x',
      },
      firstFile: files[0]![0],
      reason: 'a new repository',
    },
    segments: files.map(([file, trxs, closes]) => ({
      key: segmentKey(id, file, 0),
      timeline: id,
      file,
      start: 0,
      size: 100,
      lastModified: new Date(0),
      header: header(id, file, trxs, closes),
    })),
    gaps: [],
  };
}

const OTHER = '11111111-2222-3333-4444-555555555555';

describe('MySQL GTID sets from real 8.0.45 binlogs: chain, crash end, diverged', () => {
  it('the fixtures hold one server_uuid, transactions 1-4 then 5-6', () => {
    assert.deepEqual(
      [...FIRST, ...SECOND].map((t) => parseMysqlGtid(t.gtid!).gno),
      [1, 2, 3, 4, 5, 6],
    );
  });

  it('a timeline of another server that continues the uuid (repeats or goes on) is linked', () => {
    const parent = timeline('000001', UUID, [['mysql-bin.000001', FIRST, true]]);
    // the promoted replica's binlog repeats 1-4 (log_replica_updates) and goes on with 5-6
    const child = timeline('000002', OTHER, [['binlog.000001', [...FIRST, ...SECOND], false]]);
    const r = timelineLink([parent, child], child);
    assert.ok(r && 'link' in r, JSON.stringify(r));
    assert.equal(r.link.parent, '000001');
    assert.equal(r.link.how, 'inferred');
    // it starts right after the parent's last transaction: linked too
    const next = timeline('000002', OTHER, [['binlog.000001', SECOND, false]]);
    const n = timelineLink([parent, next], next);
    assert.ok(n && 'link' in n);
  });

  it('transactions in neither timeline are a break, named by uuid and number', () => {
    const parent = timeline('000001', UUID, [['mysql-bin.000001', FIRST.slice(0, 3), false]]);
    const child = timeline('000002', OTHER, [['binlog.000001', SECOND, false]]);
    const r = timelineLink([parent, child], child);
    assert.ok(r && 'break' in r);
    assert.match(
      r.break.reason,
      new RegExp(
        `first transaction of ${UUID}:? ?.*is number 5 but timeline 000001 ends at 3: 1 transaction`,
      ),
    );
  });

  it('a file without ROTATE followed by the next transaction number is a source restart; a jump is a missing tail', () => {
    const t = timeline('000001', UUID, [
      ['mysql-bin.000001', FIRST, false],
      ['mysql-bin.000002', SECOND, false],
    ]);
    const hs = t.segments.map((s) => s.header!);
    assert.equal(judgeUnclosedFileEnd(hs, 0).verdict, 'source-restarted');
    const cut = timeline('000001', UUID, [
      ['mysql-bin.000001', FIRST.slice(0, 3), false],
      ['mysql-bin.000002', SECOND, false],
    ]);
    assert.equal(
      judgeUnclosedFileEnd(
        cut.segments.map((s) => s.header!),
        0,
      ).verdict,
      'missing-tail',
    );
  });

  it('the parent transactions the later timeline lacks are reported as a diverged GTID set', () => {
    const parent = timeline('000001', UUID, [
      ['mysql-bin.000001', FIRST, true],
      ['mysql-bin.000002', SECOND, false],
    ]);
    // the promoted replica received only 1-4, then wrote its own transaction
    const own = { ...FIRST[0]!, gtid: `${OTHER}:1` };
    const child = timeline('000002', OTHER, [['binlog.000001', [...FIRST, own], false]]);
    const d = findDivergedHistories([parent, child]);
    assert.equal(d.length, 1, JSON.stringify(d));
    assert.equal(d[0]!.transactions, 2);
    assert.equal(d[0]!.upperBound, false);
    assert.deepEqual(d[0]!.ranges, [`${UUID}:5-6`]);
  });
});
