/**
 * The pure restore planner over in-memory catalogs: each target kind, backup choice, the segment
 * range and stop point, and each error path with its message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  BackupManifest,
  BinlogGap,
  CatalogSegment,
  CatalogTimeline,
  SegmentHeader,
} from '../../src/catalog/index.js';
import { segmentKey } from '../../src/catalog/index.js';
import {
  filesToScan,
  planRestore,
  type ArchivedTransaction,
  type RestoreCatalog,
  type ScannedFile,
} from '../../src/restore/plan/plan-restore.js';
import { parseRestoreTarget, type RestoreTarget } from '../../src/restore/plan/restore-target.js';
import { PitrError } from '../../src/errors/index.js';

const F1 = 'mysql-bin.000001';
const F2 = 'mysql-bin.000002';
const T0 = Date.parse('2026-11-25T10:00:00Z');
const at = (s: number): number => T0 + s * 1000;

function trx(
  file: string,
  start: number,
  end: number,
  seq: number,
  sec: number,
  server = 1,
): ArchivedTransaction {
  return { file, startOffset: start, endOffset: end, gtid: `0-${server}-${seq}`, commitTime: at(sec) };
}

/** Transactions of the default archive: file 1 closes at 950 (ROTATE), file 2 is active. */
const TRX1 = [trx(F1, 300, 500, 1, 0), trx(F1, 500, 700, 2, 1), trx(F1, 700, 900, 3, 2)];
const TRX2 = [trx(F2, 200, 400, 4, 5), trx(F2, 400, 600, 5, 5), trx(F2, 600, 800, 6, 7)];

function segment(
  timeline: string,
  file: string,
  start: number,
  end: number,
  trxs: ArchivedTransaction[],
  closes = false,
): CatalogSegment {
  const ending = trxs.filter((t) => t.endOffset > start && t.endOffset <= end);
  const header: SegmentHeader = {
    format: 1,
    timeline,
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
    splitTransaction: trxs.some((t) => t.startOffset < end && t.endOffset > end),
    closesFile: closes,
    ...(closes ? { nextFile: `mysql-bin.${String(Number(file.split('.')[1]) + 1).padStart(6, '0')}` } : {}),
  };
  return {
    key: segmentKey(timeline, file, start),
    timeline,
    file,
    start,
    size: Math.round((end - start) / 3),
    lastModified: new Date(0),
    header,
  };
}

function timeline(
  id: string,
  segments: CatalogSegment[],
  gaps: BinlogGap[] = [],
  serverId = 1,
): CatalogTimeline {
  return {
    id,
    record: {
      format: 1,
      timeline: id,
      createdAt: id === '000001' ? '2026-11-25T09:00:00Z' : '2026-11-25T10:00:30Z',
      source: {
        flavor: 'mariadb',
        serverId,
        gtidDomainId: 0,
        version: '10.11',
        address: 'mysql://repl@db1:3306',
      },
      firstFile: F1,
      reason: id === '000001' ? 'a new repository' : 'RESET MASTER on the source',
    },
    segments,
    gaps,
  };
}

function backup(id: string, file: string, position: number, gtid: string, serverId = 1): BackupManifest {
  return {
    format: 1,
    id,
    kind: 'logical-dump',
    timeline: `server-id:${serverId}`,
    source: { address: 'db1:3306', serverId, gtidDomainId: 0, flavor: 'mariadb', version: '10.11' },
    startedAt: '2026-11-25T09:30:00Z',
    finishedAt: '2026-11-25T09:31:00Z',
    binlog: { file, position },
    gtidPosition: gtid,
    dump: {
      key: `backups/${id}/dump.sql.zst`,
      compression: 'zstd',
      size: 1000,
      sha256: 'a',
      uncompressedSize: 5000,
      uncompressedSha256: 'b',
    },
    databases: null,
    tool: { name: 'mariadb-dump', path: '/usr/bin/mariadb-dump', version: null, args: [] },
    nonTransactionalTables: [],
    warnings: [],
  };
}

const SEG_A = segment('000001', F1, 0, 600, TRX1);
const SEG_B = segment('000001', F1, 600, 950, TRX1, true);
const SEG_C = segment('000001', F2, 0, 800, TRX2);
const B1 = backup('20261125T093000000Z-b1', F1, 500, '0-1-1');
const B2 = backup('20261125T100500000Z-b2', F2, 400, '0-1-4');
const SCANNED: ScannedFile[] = [
  { timeline: '000001', file: F1, scannedTo: 950, transactions: TRX1 },
  { timeline: '000001', file: F2, scannedTo: 800, transactions: TRX2 },
];

function catalog(over: Partial<RestoreCatalog> = {}): RestoreCatalog {
  return {
    backups: [B1, B2],
    timelines: [timeline('000001', [SEG_A, SEG_B, SEG_C])],
    scanned: SCANNED,
    ...over,
  };
}

const target = (flags: Parameters<typeof parseRestoreTarget>[0]): RestoreTarget => parseRestoreTarget(flags);

function fails(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PitrError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('planRestore: targets', () => {
  it('--to-gtid includes the transaction and starts from the newest backup before it', () => {
    const p = planRestore(catalog(), target({ toGtid: '0-1-3' }));
    assert.equal(p.backup.id, B1.id);
    assert.deepEqual(p.start, { file: F1, position: 500 });
    assert.deepEqual(p.stop, { file: F1, position: 900 });
    assert.equal(p.lastIncluded?.gtid, '0-1-3');
    assert.equal(p.firstExcluded, undefined);
    assert.equal(p.files.length, 1);
    assert.deepEqual(
      {
        file: p.files[0]!.file,
        from: p.files[0]!.from,
        to: p.files[0]!.to,
        keys: p.files[0]!.segments.map((s) => s.start),
      },
      { file: F1, from: 500, to: 900, keys: [0, 600] },
    );
    assert.equal(p.expectedGtidPosition, '0-1-3');
    assert.equal(p.timeline, '000001');
    assert.equal(p.targetText, '--to-gtid 0-1-3');
  });

  it('--before-gtid stops at the start of the transaction', () => {
    const p = planRestore(catalog(), target({ beforeGtid: '0-1-6' }));
    assert.equal(p.backup.id, B2.id);
    assert.deepEqual(p.stop, { file: F2, position: 600 });
    assert.equal(p.firstExcluded?.gtid, '0-1-6');
    assert.equal(p.lastIncluded?.gtid, '0-1-5');
    assert.deepEqual(
      p.files.map((f) => [f.file, f.from, f.to]),
      [[F2, 400, 600]],
    );
    assert.equal(p.expectedGtidPosition, '0-1-5');
  });

  it('a target equal to a backup position applies no binlog', () => {
    for (const t of [target({ beforeGtid: '0-1-5' }), target({ toGtid: '0-1-4' })]) {
      const p = planRestore(catalog(), t);
      assert.equal(p.backup.id, B2.id);
      assert.deepEqual(p.files, []);
      assert.equal(p.bytes.binlogStored, 0);
      assert.equal(p.expectedGtidPosition, '0-1-4');
    }
  });

  it('--to TIME includes every transaction committed at or before TIME, ties of the second included', () => {
    let p = planRestore(catalog(), target({ to: '2026-11-25 10:00:01' }));
    assert.deepEqual(p.stop, { file: F1, position: 700 });
    assert.equal(p.lastIncluded?.gtid, '0-1-2');
    assert.equal(p.backup.id, B1.id);
    // t4 and t5 both committed at 10:00:05: both included, t6 (10:00:07) not
    p = planRestore(catalog(), target({ to: '2026-11-25T10:00:05Z' }));
    assert.deepEqual(p.stop, { file: F2, position: 600 });
    assert.equal(p.lastIncluded?.gtid, '0-1-5');
    // a zone: 11:00:06+01:00 is 10:00:06Z
    p = planRestore(catalog(), target({ to: '2026-11-25T11:00:06+01:00' }));
    assert.deepEqual(p.stop, { file: F2, position: 600 });
  });

  it('--to TIME between files crosses the rotation from the older backup', () => {
    const p = planRestore(catalog(), target({ to: '2026-11-25 10:00:03' }));
    assert.deepEqual(p.stop, { file: F2, position: 200 });
    assert.equal(p.backup.id, B1.id);
    assert.deepEqual(
      p.files.map((f) => [f.file, f.from, f.to, f.segments.length]),
      [
        [F1, 500, undefined, 2],
        [F2, 4, 200, 1],
      ],
    );
    assert.equal(p.expectedGtidPosition, '0-1-3');
    assert.equal(p.bytes.binlog, 950 + 800);
    assert.equal(p.bytes.binlogStored, SEG_A.size + SEG_B.size + SEG_C.size);
    const e = p.estimateSeconds;
    assert.ok(Math.abs(e.total - (e.download + e.load + e.apply)) < 0.2, JSON.stringify(e));
  });

  it('--to latest stops at the end of the archive', () => {
    const p = planRestore(catalog(), target({ to: 'latest' }));
    assert.deepEqual(p.stop, { file: F2, position: 800 });
    assert.equal(p.backup.id, B2.id);
    assert.deepEqual(
      p.files.map((f) => [f.file, f.from, f.to]),
      [[F2, 400, 800]],
    );
    assert.equal(p.expectedGtidPosition, '0-1-6');
  });

  it('--to-position at a boundary stops there', () => {
    const p = planRestore(catalog(), target({ toPosition: `${F1}:700` }));
    assert.deepEqual(p.stop, { file: F1, position: 700 });
    assert.equal(p.lastIncluded?.gtid, '0-1-2');
    assert.equal(p.firstExcluded?.gtid, '0-1-3');
  });

  it('--backup picks a given older backup', () => {
    const p = planRestore(catalog(), target({ to: 'latest' }), { backupId: B1.id });
    assert.equal(p.backup.id, B1.id);
    assert.deepEqual(
      p.files.map((f) => f.file),
      [F1, F2],
    );
  });

  it('filesToScan asks for the one file holding the target, and planRestore needs it', () => {
    assert.deepEqual(filesToScan(catalog(), target({ beforeGtid: '0-1-6' })), [
      { timeline: '000001', file: F2, upTo: 800 },
    ]);
    assert.deepEqual(filesToScan(catalog(), target({ to: 'latest' })), []);
    fails(
      () => planRestore(catalog({ scanned: [] }), target({ beforeGtid: '0-1-6' })),
      'INTERNAL',
      /filesToScan/,
    );
  });
});

describe('planRestore: errors say what the repository can do instead', () => {
  it('a target after the newest archived transaction', () => {
    for (const t of [
      target({ toGtid: '0-1-99' }),
      target({ to: '2026-11-25 11:00:00' }),
      target({ toPosition: `${F2}:900` }),
    ]) {
      fails(
        () => planRestore(catalog(), t),
        'TARGET_OUT_OF_RANGE',
        /after the newest archived transaction of timeline 000001 \(the archive ends at mysql-bin\.000002:800, last commit 2026-11-25T10:00:07\.000Z\).*--to latest/,
      );
    }
  });

  it('a target before the oldest backup names the earliest restorable point', () => {
    fails(
      () => planRestore(catalog(), target({ to: '2026-11-25 09:59:00' })),
      'TARGET_OUT_OF_RANGE',
      /before the oldest backup of timeline 000001: 20261125T093000000Z-b1, taken at binlog mysql-bin\.000001:500.*--to-position mysql-bin\.000001:500/,
    );
    fails(
      () => planRestore(catalog(), target({ beforeGtid: '0-1-1' })),
      'TARGET_OUT_OF_RANGE',
      /before the oldest backup/,
    );
  });

  it('a GTID older than the archive', () => {
    fails(
      () => planRestore(catalog(), target({ toGtid: '0-1-0' })),
      'TARGET_OUT_OF_RANGE',
      /older than the archive.*sequence number 1/,
    );
    fails(
      () => planRestore(catalog(), target({ toGtid: '5-1-3' })),
      'TARGET_OUT_OF_RANGE',
      /no transaction of GTID domain 5/,
    );
  });

  it('a GTID of another server id inside the archived range', () => {
    fails(
      () => planRestore(catalog(), target({ toGtid: '0-2-5' })),
      'TARGET_OUT_OF_RANGE',
      /no transaction with GTID 0-2-5 in mysql-bin\.000002.*0-1-4 to 0-1-6/,
    );
  });

  it('--to-position inside a transaction names the nearest boundaries', () => {
    fails(
      () => planRestore(catalog(), target({ toPosition: `${F1}:650` })),
      'USAGE',
      /inside transaction GTID 0-1-2 at mysql-bin\.000001:500\.\.700.*nearest boundaries are mysql-bin\.000001:500 .*and mysql-bin\.000001:700/,
    );
    fails(
      () => planRestore(catalog(), target({ toPosition: `${F1}:1200` })),
      'TARGET_OUT_OF_RANGE',
      /past the end of mysql-bin\.000001, which ends at 950; the next file is mysql-bin\.000002/,
    );
  });

  it('a gap between the backup and the target', () => {
    const gap: BinlogGap = {
      timeline: '000001',
      file: F1,
      from: 600,
      resumedAt: F2,
      detectedAt: '2026-11-25T10:00:04Z',
      reason: 'purged',
    };
    const c = catalog({ backups: [B1], timelines: [timeline('000001', [SEG_A, SEG_C], [gap])] });
    fails(
      () => planRestore(c, target({ beforeGtid: '0-1-6' })),
      'BINLOG_GAP',
      /inside or beyond a gap of timeline 000001: mysql-bin\.000001 from byte 600 on was purged.*up to mysql-bin\.000001:600 at most.*no backup was taken after the gap/,
    );
    // with a backup after the gap, the message points to it
    fails(
      () => planRestore({ ...c, backups: [B1, B2] }, target({ beforeGtid: '0-1-6' }), { backupId: B1.id }),
      'BINLOG_GAP',
      /pick backup 20261125T100500000Z-b2/,
    );
    // a missing segment without a gap record
    const hole = catalog({ backups: [B1], timelines: [timeline('000001', [SEG_A, SEG_C])] });
    fails(
      () => planRestore(hole, target({ beforeGtid: '0-1-6' })),
      'BINLOG_GAP',
      /mysql-bin\.000001 is archived up to byte 600 but its end \(ROTATE\) is not/,
    );
  });

  it('a target on another timeline', () => {
    const t2seg = segment('000002', F1, 0, 500, [trx(F1, 200, 400, 100, 60)]);
    const c = catalog({
      timelines: [timeline('000001', [SEG_A, SEG_B, SEG_C]), timeline('000002', [t2seg])],
    });
    fails(
      () => planRestore(c, target({ toGtid: '0-1-3' })),
      'TARGET_OUT_OF_RANGE',
      /is on timeline 000001, not on timeline 000002 .*RESET MASTER.*--timeline 000001/,
    );
    fails(
      () => planRestore(c, target({ to: '2026-11-25 10:00:03' })),
      'TARGET_OUT_OF_RANGE',
      /on timeline 000001.*--timeline 000001/,
    );
    // and with --timeline it plans there
    const p = planRestore(c, target({ toGtid: '0-1-3' }), { timeline: '000001' });
    assert.deepEqual(p.stop, { file: F1, position: 900 });
    fails(
      () => planRestore(c, target({ toGtid: '0-1-3' }), { timeline: '000009' }),
      'TARGET_OUT_OF_RANGE',
      /timeline 000009 has no archived binlogs.*000001, 000002/,
    );
  });

  it('no backup, no archive, a backup after the target', () => {
    fails(
      () => planRestore(catalog({ backups: [] }), target({ to: 'latest' })),
      'TARGET_OUT_OF_RANGE',
      /has no complete backup.*backup create/,
    );
    fails(
      () => planRestore(catalog({ backups: [backup('x', F1, 500, '0-1-1', 7)] }), target({ to: 'latest' })),
      'TARGET_OUT_OF_RANGE',
      /do not match any archived binlog position/,
    );
    fails(
      () => planRestore(catalog({ timelines: [] }), target({ to: 'latest' })),
      'TARGET_OUT_OF_RANGE',
      /no archived binlogs.*mysql-pitr archive/,
    );
    fails(
      () => planRestore(catalog(), target({ toGtid: '0-1-3' }), { backupId: B2.id }),
      'TARGET_OUT_OF_RANGE',
      /after the target.*Leave out --backup/,
    );
    fails(
      () => planRestore(catalog(), target({ toGtid: '0-1-3' }), { backupId: 'nope' }),
      'TARGET_OUT_OF_RANGE',
      /not a complete backup/,
    );
  });
});

describe('parseRestoreTarget', () => {
  it('parses each kind', () => {
    assert.deepEqual(parseRestoreTarget({ to: 'latest' }), { kind: 'latest' });
    assert.deepEqual(parseRestoreTarget({ to: '2026-11-25 10:31:00' }), {
      kind: 'time',
      time: Date.parse('2026-11-25T10:31:00Z'),
    });
    assert.deepEqual(parseRestoreTarget({ to: '2026-11-25T10:31:00.5Z' }), {
      kind: 'time',
      time: Date.parse('2026-11-25T10:31:00.500Z'),
    });
    assert.deepEqual(parseRestoreTarget({ to: '2026-11-25T12:31:00+02:00' }), {
      kind: 'time',
      time: Date.parse('2026-11-25T10:31:00Z'),
    });
    assert.deepEqual(parseRestoreTarget({ toGtid: ' 0-1-48213 ' }), { kind: 'to-gtid', gtid: '0-1-48213' });
    assert.deepEqual(parseRestoreTarget({ beforeGtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:42' }), {
      kind: 'before-gtid',
      gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:42',
    });
    assert.deepEqual(parseRestoreTarget({ toPosition: 'mysql-bin.000042:1234' }), {
      kind: 'position',
      file: 'mysql-bin.000042',
      position: 1234,
    });
  });

  it('rejects bad and ambiguous input with an example', () => {
    const bad = (flags: Parameters<typeof parseRestoreTarget>[0], message: RegExp): void =>
      fails(() => parseRestoreTarget(flags), 'USAGE', message);
    bad({}, /say where to stop/);
    bad({ to: 'latest', toGtid: '0-1-1' }, /give one target, not --to and --to-gtid/);
    bad({ to: 'yesterday' }, /not a time: use RFC 3339.*UTC unless a zone/);
    bad({ to: '2026-02-30 10:00:00' }, /not a time/);
    bad({ toGtid: '0-1' }, /not a GTID: MariaDB GTIDs look like 0-1-48213/);
    bad({ beforeGtid: 'abc:1' }, /not a GTID/);
    bad({ toPosition: 'mysql-bin.000001' }, /not FILE:POS/);
    bad({ toPosition: 'foo/bar:12' }, /not FILE:POS/);
  });
});
