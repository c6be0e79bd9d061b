/**
 * planApplyFrom, the pure planner of `restore apply`: the binlog files from a start point (no
 * backup) to the stop point, and its errors (start not archived, target before the start, a gap).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CatalogSegment, CatalogTimeline, SegmentHeader } from '../../src/catalog/index.js';
import { segmentKey } from '../../src/catalog/index.js';
import type { ArchivedTransaction, RestoreCatalog } from '../../src/restore/plan/plan-restore.js';
import {
  APPLY_FROM_BACKUP_ID,
  applyScanRequests,
  planApplyFrom,
} from '../../src/restore/apply/batch-apply-plan.js';
import { PitrError } from '../../src/errors/index.js';

const F1 = 'mysql-bin.000001';
const F2 = 'mysql-bin.000002';
const F3 = 'mysql-bin.000003';
const T0 = Date.parse('2026-11-25T10:00:00Z');

const trx = (file: string, start: number, end: number, seq: number): ArchivedTransaction => ({
  file,
  startOffset: start,
  endOffset: end,
  gtid: `0-1-${seq}`,
  commitTime: T0 + seq * 1000,
});

const TRX1 = [trx(F1, 300, 500, 1), trx(F1, 500, 700, 2), trx(F1, 700, 900, 3)];
const TRX2 = [trx(F2, 200, 400, 4), trx(F2, 400, 600, 5), trx(F2, 600, 800, 6)];

function segment(
  file: string,
  start: number,
  end: number,
  trxs: ArchivedTransaction[],
  closes: boolean,
): CatalogSegment {
  const ending = trxs.filter((t) => t.endOffset > start && t.endOffset <= end);
  const header: SegmentHeader = {
    format: 1,
    timeline: '000001',
    file,
    start,
    end,
    sha256: '0'.repeat(64),
    firstCommit: ending[0] ? new Date(ending[0].commitTime).toISOString() : null,
    lastCommit: ending.at(-1) ? new Date(ending.at(-1)!.commitTime).toISOString() : null,
    gtids: ending.length ? { '0': { first: ending[0]!.gtid!, last: ending.at(-1)!.gtid! } } : {},
    gtidSet: '',
    transactions: ending.length,
    events: ending.length * 4,
    splitTransaction: false,
    closesFile: closes,
    ...(closes ? { nextFile: file === F1 ? F2 : F3 } : {}),
  };
  return {
    key: segmentKey('000001', file, start),
    timeline: '000001',
    file,
    start,
    size: 100,
    lastModified: new Date(0),
    header,
  };
}

const TIMELINE: CatalogTimeline = {
  id: '000001',
  record: {
    format: 1,
    timeline: '000001',
    createdAt: '2026-11-25T09:00:00Z',
    source: {
      flavor: 'mariadb',
      serverId: 1,
      gtidDomainId: 0,
      version: '10.11',
      address: 'mysql://repl@db1:3306',
    },
    firstFile: F1,
    reason: 'a new repository',
  },
  segments: [
    segment(F1, 0, 600, TRX1, false),
    segment(F1, 600, 950, TRX1, true),
    segment(F2, 0, 800, TRX2, false),
  ],
  gaps: [],
};

const catalog = (scanned: RestoreCatalog['scanned'] = []): RestoreCatalog => ({
  backups: [],
  timelines: [TIMELINE],
  scanned,
});
const SCANNED2 = [{ timeline: '000001', file: F2, scannedTo: 800, transactions: TRX2 }];

describe('planApplyFrom', () => {
  it('plans from the start point to --to-gtid across a rotation', () => {
    const start = { file: F1, position: 500 };
    assert.deepEqual(applyScanRequests(catalog(), start, { kind: 'to-gtid', gtid: '0-1-5' }), [
      { timeline: '000001', file: F2, upTo: 800 },
    ]);
    const plan = planApplyFrom(catalog(SCANNED2), start, { kind: 'to-gtid', gtid: '0-1-5' });
    assert.equal(plan.backup.id, APPLY_FROM_BACKUP_ID);
    assert.deepEqual(plan.start, start);
    assert.deepEqual(plan.stop, { file: F2, position: 600 });
    assert.deepEqual(
      plan.files.map((f) => [f.file, f.from, f.to, f.segments.map((s) => s.start)]),
      [
        [F1, 500, undefined, [0, 600]],
        [F2, 4, 600, [0]],
      ],
    );
    assert.equal(plan.lastIncluded?.gtid, '0-1-5');
    assert.equal(plan.firstExcluded?.gtid, '0-1-6');
  });

  it('plans nothing to apply when the start is the stop point', () => {
    const plan = planApplyFrom(
      catalog(SCANNED2),
      { file: F2, position: 400 },
      { kind: 'before-gtid', gtid: '0-1-5' },
    );
    assert.deepEqual(plan.files, []);
  });

  it('refuses a start that is not archived, saying what is', () => {
    assert.throws(
      () => planApplyFrom(catalog(SCANNED2), { file: F3, position: 4 }, { kind: 'latest' }),
      (e: unknown) =>
        e instanceof PitrError &&
        e.code === 'TARGET_OUT_OF_RANGE' &&
        /--from mysql-bin\.000003:4 is not in the archive \(it holds 000001: mysql-bin\.000001:0 to mysql-bin\.000002:800\)/.test(
          e.message,
        ),
    );
  });

  it('refuses a target before the start point', () => {
    const scanned1 = [{ timeline: '000001', file: F1, scannedTo: 950, transactions: TRX1 }];
    assert.throws(
      () => planApplyFrom(catalog(scanned1), { file: F2, position: 400 }, { kind: 'to-gtid', gtid: '0-1-2' }),
      (e: unknown) =>
        e instanceof PitrError &&
        e.code === 'TARGET_OUT_OF_RANGE' &&
        /--to-gtid 0-1-2 is before --from mysql-bin\.000002:400: the target server is already past it/.test(
          e.message,
        ),
    );
  });

  it('refuses a range with missing bytes (BINLOG_GAP)', () => {
    const holed: CatalogTimeline = { ...TIMELINE, segments: [TIMELINE.segments[0]!, TIMELINE.segments[2]!] };
    assert.throws(
      () =>
        planApplyFrom(
          { ...catalog(SCANNED2), timelines: [holed] },
          { file: F1, position: 500 },
          { kind: 'to-gtid', gtid: '0-1-5' },
        ),
      (e: unknown) => e instanceof PitrError && e.code === 'BINLOG_GAP',
    );
  });
});
