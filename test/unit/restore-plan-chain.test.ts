/**
 * Production history in the pure planner, over in-memory catalogs: a file that ended without
 * ROTATE because the source crashed (judged by GTID continuity), and one whose tail is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  judgeUnclosedFileEnd,
  segmentKey,
  summarizeTimeline,
  timelineChain,
  timelineLink,
  type BackupManifest,
  type CatalogSegment,
  type CatalogTimeline,
  type SegmentHeader,
} from '../../src/catalog/index.js';
import {
  filesToScan,
  planRestore,
  type ArchivedTransaction,
  type RestoreCatalog,
  type ScannedFile,
} from '../../src/restore/plan/plan-restore.js';
import { parseRestoreTarget } from '../../src/restore/plan/restore-target.js';
import { checkChain } from '../../src/maintenance/verify-chain.js';
import { PitrError } from '../../src/errors/index.js';

const F = (n: number): string => `mysql-bin.${String(n).padStart(6, '0')}`;
const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number): number => T0 + s * 1000;

/** A transaction of `file` at [start, end) with MariaDB GTID 0-server-seq, committed at second `sec`. */
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

/** One segment [start, end) of `file` holding the transactions of `trxs` that end inside it. */
function segment(
  timeline: string,
  file: string,
  start: number,
  end: number,
  trxs: ArchivedTransaction[],
  closes = false,
): CatalogSegment & { header: SegmentHeader } {
  const ending = trxs.filter((t) => t.file === file && t.endOffset > start && t.endOffset <= end);
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
    splitTransaction: false,
    closesFile: closes,
    ...(closes ? { nextFile: F(Number(file.split('.')[1]) + 1) } : {}),
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

function timeline(id: string, segments: CatalogSegment[], serverId = 1): CatalogTimeline {
  return {
    id,
    record: {
      format: 1,
      timeline: id,
      createdAt: '2026-12-01T09:00:00Z',
      source: {
        flavor: 'mariadb',
        serverId,
        gtidDomainId: 0,
        version: '10.11',
        address: `mysql://repl@db${serverId}:3306`,
      },
      firstFile: segments[0]?.file ?? F(1),
      reason: 'a new repository',
    },
    segments,
    gaps: [],
  };
}

function backup(id: string, file: string, position: number, gtid: string, serverId = 1): BackupManifest {
  return {
    format: 1,
    id,
    kind: 'logical-dump',
    timeline: `server-id:${serverId}`,
    source: { address: `db${serverId}:3306`, serverId, gtidDomainId: 0, flavor: 'mariadb', version: '10.11' },
    startedAt: '2026-12-01T09:30:00Z',
    finishedAt: '2026-12-01T09:31:00Z',
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

function fails(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PitrError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

/** Plans with every file filesToScan asks for scanned from `trxs`. */
function plan(
  cat: Omit<RestoreCatalog, 'scanned'>,
  trxs: ArchivedTransaction[],
  flags: Parameters<typeof parseRestoreTarget>[0],
) {
  const target = parseRestoreTarget(flags);
  const base: RestoreCatalog = { ...cat, scanned: [] };
  const scanned: ScannedFile[] = filesToScan(base, target).map((r) => ({
    timeline: r.timeline,
    file: r.file,
    scannedTo: r.upTo,
    transactions: trxs.filter((t) => t.file === r.file && t.endOffset <= r.upTo),
  }));
  return planRestore({ ...cat, scanned }, target);
}

describe('a file that ended without ROTATE (source crash)', () => {
  // file 1 closes by ROTATE; file 2 ends at 700 without ROTATE (kill -9); the restarted server
  // opened file 3, whose first transaction is 0-1-5, right after file 2's last (0-1-4)
  const TRX = [
    trx(F(1), 300, 500, 1, 0),
    trx(F(1), 500, 700, 2, 1),
    trx(F(2), 200, 450, 3, 3),
    trx(F(2), 450, 700, 4, 4),
    trx(F(3), 300, 500, 5, 20),
    trx(F(3), 500, 700, 6, 21),
  ];
  const crashed = [
    segment('000001', F(1), 0, 800, TRX, true),
    segment('000001', F(2), 0, 450, TRX),
    segment('000001', F(2), 450, 700, TRX),
    segment('000001', F(3), 0, 700, TRX),
  ];
  const B = backup('20261201T093000000Z-b1', F(1), 500, '0-1-1');

  it('is judged a source restart when the next file continues its GTIDs', () => {
    const end = judgeUnclosedFileEnd(
      crashed.map((s) => s.header),
      2,
    );
    assert.equal(end.verdict, 'source-restarted');
    assert.match(end.evidence, /0-1-4 is followed by 0-1-5/);
  });

  it('restores go on to the next file: latest, and a time after the crash', () => {
    const cat = { backups: [B], timelines: [timeline('000001', crashed)] };
    const p = plan(cat, TRX, { to: 'latest' });
    assert.deepEqual(
      p.files.map((f) => [f.file, f.from, f.to]),
      [
        [F(1), 500, undefined],
        [F(2), 4, undefined],
        [F(3), 4, 700],
      ],
    );
    assert.equal(p.expectedGtidPosition, '0-1-6');
    const q = plan(cat, TRX, { to: new Date(at(20)).toISOString() });
    assert.equal(q.lastIncluded?.gtid, '0-1-5');
    assert.deepEqual(q.stop, { file: F(3), position: 500 });
  });

  it('a missing tail (the GTIDs jump) is still a gap, for the planner, verify and binlog list', () => {
    // the segment 450..700 of file 2 is deleted: 0-1-4 is lost
    const damaged = crashed.filter((s) => !(s.file === F(2) && s.start === 450));
    const cat = { backups: [B], timelines: [timeline('000001', damaged)] };
    assert.throws(
      () => plan(cat, TRX, { to: 'latest' }),
      (err: unknown) =>
        err instanceof PitrError &&
        err.code === 'BINLOG_GAP' &&
        /archived up to byte 450 but its end \(ROTATE\) is not \(the last archived transaction before it is 0-1-3 but the next one archived is 0-1-5: 1 transaction\(s\) are missing\)/.test(
          err.message,
        ),
    );
    const summary = summarizeTimeline(timeline('000001', damaged));
    assert.equal(summary.files[1]!.unclosedEnd?.verdict, 'missing-tail');
    const report = checkChain(
      [
        {
          id: '000001',
          gaps: [],
          segments: damaged.map((s) => ({
            key: s.key,
            file: s.file,
            start: s.start,
            header: s.header,
            ok: true,
          })),
        },
      ],
      [],
    );
    assert.deepEqual(
      report.problems.map((p) => p.kind),
      ['file-missing'],
    );
    assert.equal(report.restarts.length, 0);
  });

  it('verify joins the run across a crash end and lists it as a restart', () => {
    const report = checkChain(
      [
        {
          id: '000001',
          gaps: [],
          segments: crashed.map((s) => ({
            key: s.key,
            file: s.file,
            start: s.start,
            header: s.header,
            ok: true,
          })),
        },
      ],
      [{ manifest: B, ok: true }],
    );
    assert.deepEqual(report.problems, []);
    assert.equal(report.runs.length, 1);
    assert.deepEqual(
      report.restarts.map((r) => [r.file, r.end, r.nextFile]),
      [[F(2), 700, F(3)]],
    );
    assert.deepEqual(report.windows[0]!.end, { file: F(3), position: 700 });
  });

  it('without any transaction after the restart yet, the end is undecided and not crossed', () => {
    const quiet = [...crashed.slice(0, 3), segment('000001', F(3), 0, 250, [])];
    const end = judgeUnclosedFileEnd(
      quiet.map((s) => s.header),
      2,
    );
    assert.equal(end.verdict, 'undecided');
    const cat = { backups: [B], timelines: [timeline('000001', quiet)] };
    fails(
      () => plan(cat, TRX, { to: 'latest' }),
      'BINLOG_GAP',
      /no transaction with GTIDs has been archived after it yet/,
    );
    // a target before the crash end is still restorable
    assert.equal(plan(cat, TRX, { toGtid: '0-1-4' }).lastIncluded?.gtid, '0-1-4');
  });

  it('without GTIDs (MySQL gtid_mode=OFF) a crash end cannot be proven: undecided', () => {
    const bare = crashed.map((s) => ({ ...s.header, gtids: {} }));
    assert.equal(judgeUnclosedFileEnd(bare, 2).verdict, 'undecided');
  });

  it('MySQL GTID sets: the next transaction number of the same server_uuid continues', () => {
    const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const h = (file: string, set: string): SegmentHeader => ({
      ...crashed[0]!.header,
      file,
      closesFile: false,
      gtids: {},
      gtidSet: set,
    });
    assert.equal(
      judgeUnclosedFileEnd([h(F(1), `${uuid}:1-10`), h(F(2), `${uuid}:11-12`)], 0).verdict,
      'source-restarted',
    );
    assert.equal(
      judgeUnclosedFileEnd([h(F(1), `${uuid}:1-10`), h(F(2), `${uuid}:14-15`)], 0).verdict,
      'missing-tail',
    );
  });
});

describe('a restore across a failover (timelines stitched by GTID)', () => {
  // the old primary (server 1, timeline 000001) writes 0-1-1..0-1-6 (0-1-7 in the lost variant);
  // the replica (server 2) with log_slave_updates has 0-1-1..0-1-6 in its own binlog, is promoted
  // and writes 0-2-7.. (timeline 000002, its own file names)
  const P_TRX = [
    trx(F(1), 300, 500, 1, 0),
    trx(F(1), 500, 700, 2, 1),
    trx(F(1), 700, 900, 3, 2),
    trx(F(2), 300, 500, 4, 10),
    trx(F(2), 500, 700, 5, 11),
    trx(F(2), 700, 900, 6, 12),
  ];
  const LOST = trx(F(2), 900, 1100, 7, 13);
  const T_TRX = [
    trx(F(1), 400, 600, 1, 0),
    trx(F(1), 600, 800, 2, 1),
    trx(F(1), 800, 1000, 3, 2),
    trx(F(1), 1000, 1200, 4, 10),
    trx(F(1), 1200, 1400, 5, 11),
    trx(F(1), 1400, 1600, 6, 12),
    trx(F(1), 1600, 1800, 7, 30, 2),
    trx(F(1), 1800, 2000, 8, 31, 2),
    trx(F(2), 300, 500, 9, 40, 2),
  ];
  const parent = (lost = false): CatalogTimeline =>
    timeline('000001', [
      segment('000001', F(1), 0, 1000, P_TRX, true),
      segment('000001', F(2), 0, lost ? 1100 : 900, lost ? [...P_TRX, LOST] : P_TRX),
    ]);
  const child = timeline(
    '000002',
    [
      segment('000002', F(1), 0, 1300, T_TRX),
      segment('000002', F(1), 1300, 2100, T_TRX, true),
      segment('000002', F(2), 0, 500, T_TRX),
    ],
    2,
  );
  const B = backup('20261201T093000000Z-b1', F(1), 500, '0-1-1');
  const planChain = (lost: boolean, flags: Parameters<typeof parseRestoreTarget>[0]) => {
    const trxs = [
      ...(lost ? [...P_TRX, LOST] : P_TRX).map((t) => ({ ...t, tl: '000001' })),
      ...T_TRX.map((t) => ({ ...t, tl: '000002' })),
    ];
    const cat: Omit<RestoreCatalog, 'scanned'> = { backups: [B], timelines: [parent(lost), child] };
    const target = parseRestoreTarget(flags);
    let scanned: ScannedFile[] = [];
    for (let round = 0; round < 3; round++) {
      const reqs = filesToScan({ ...cat, scanned }, target);
      if (reqs.length === 0) break;
      scanned = [
        ...scanned,
        ...reqs.map((r) => ({
          timeline: r.timeline,
          file: r.file,
          scannedTo: r.upTo,
          transactions: trxs
            .filter((t) => t.tl === r.timeline && t.file === r.file && t.endOffset <= r.upTo)
            .map(({ tl: _tl, ...t }) => t),
        })),
      ];
    }
    return planRestore({ ...cat, scanned }, target);
  };

  it('infers the link by GTID continuity (another server, GTIDs overlap)', () => {
    const chain = timelineChain([parent(), child], child);
    assert.deepEqual(
      chain.chain.map((t) => t.id),
      ['000001', '000002'],
    );
    assert.equal(chain.links[0]!.how, 'inferred');
  });

  it('latest from the pre-failover backup: old primary up to the fork, then the new one from 0-2-7', () => {
    const p = planChain(false, { to: 'latest' });
    assert.equal(p.backup.id, B.id);
    assert.equal(p.timeline, '000002');
    assert.deepEqual(
      p.files.map((f) => [f.timeline, f.file, f.from, f.to]),
      [
        ['000001', F(1), 500, undefined],
        ['000001', F(2), 4, 900],
        ['000002', F(1), 1600, undefined],
        ['000002', F(2), 4, 500],
      ],
    );
    assert.equal(p.chain?.length, 1);
    assert.equal(p.chain![0]!.forkTransaction.gtid, '0-1-6');
    assert.equal(p.chain![0]!.firstNew?.gtid, '0-2-7');
    assert.deepEqual(p.chain![0]!.lost, []);
    assert.equal(p.expectedGtidPosition, '0-2-9');
  });

  it('a time in the quiet between the last old commit and the first new one: everything of the old primary', () => {
    const p = planChain(false, { to: new Date(at(20)).toISOString() });
    assert.deepEqual(p.stop, { file: F(1), position: 1600 });
    assert.equal(p.lastIncluded?.gtid, '0-1-6');
    assert.equal(p.firstExcluded?.gtid, '0-2-7');
    assert.deepEqual(
      p.files.map((f) => [f.timeline, f.file, f.from, f.to]),
      [
        ['000001', F(1), 500, undefined],
        ['000001', F(2), 4, 900],
      ],
    );
    assert.equal(p.expectedGtidPosition, '0-1-6');
  });

  it('--before-gtid on the new primary, and a time before the failover on the old one', () => {
    const p = planChain(false, { beforeGtid: '0-2-8' });
    assert.deepEqual(p.stop, { file: F(1), position: 1800 });
    assert.equal(p.expectedGtidPosition, '0-2-7');
    assert.equal(p.files.at(-1)!.timeline, '000002');
    const q = planChain(false, { to: new Date(at(10)).toISOString() });
    assert.equal(q.timeline, '000001');
    assert.equal(q.lastIncluded?.gtid, '0-1-4');
    assert.equal(q.chain, undefined);
  });

  it('a transaction archived from the old primary after the fork is reported lost, never applied', () => {
    const p = planChain(true, { to: 'latest' });
    assert.deepEqual(
      p.chain![0]!.lost.map((t) => t.gtid),
      ['0-1-7'],
    );
    assert.equal(p.chain![0]!.cut.position, 900);
    assert.ok(
      p.files.every((f) => !(f.timeline === '000001' && (f.to ?? Infinity) > 900 && f.file === F(2))),
    );
    fails(() => planChain(true, { toGtid: '0-1-7' }), 'TARGET_OUT_OF_RANGE', /lost in the failover/);
  });

  it('a new primary that logged only its own transactions continues right after the old one', () => {
    const own = timeline(
      '000002',
      [segment('000002', F(1), 0, 700, [trx(F(1), 300, 500, 7, 30, 2), trx(F(1), 500, 700, 8, 31, 2)])],
      2,
    );
    const cat = { backups: [B], timelines: [parent(), own] };
    const trxs = [
      ...P_TRX.map((t) => ({ ...t, tl: '000001' })),
      ...[trx(F(1), 300, 500, 7, 30, 2), trx(F(1), 500, 700, 8, 31, 2)].map((t) => ({ ...t, tl: '000002' })),
    ];
    const target = parseRestoreTarget({ to: 'latest' });
    let scanned: ScannedFile[] = [];
    for (let round = 0; round < 3; round++) {
      const reqs = filesToScan({ ...cat, scanned }, target);
      if (reqs.length === 0) break;
      scanned = [
        ...scanned,
        ...reqs.map((r) => ({
          timeline: r.timeline,
          file: r.file,
          scannedTo: r.upTo,
          transactions: trxs
            .filter((t) => t.tl === r.timeline && t.file === r.file && t.endOffset <= r.upTo)
            .map(({ tl: _tl, ...t }) => t),
        })),
      ];
    }
    const p = planRestore({ ...cat, scanned }, target);
    assert.equal(p.chain?.[0]?.forkTransaction.gtid, '0-1-6');
    assert.deepEqual(
      p.files.map((f) => [f.timeline, f.file, f.from, f.to]),
      [
        ['000001', F(1), 500, undefined],
        ['000001', F(2), 4, 900],
        ['000002', F(1), 300, 700],
      ],
    );
    assert.equal(p.expectedGtidPosition, '0-2-8');
  });

  it('timelines that diverge inside the overlap are refused, naming both GTIDs', () => {
    const odd = [...T_TRX.slice(0, 4), trx(F(1), 1200, 1400, 5, 11, 2), ...T_TRX.slice(5)];
    const diverged = timeline(
      '000002',
      [
        segment('000002', F(1), 0, 1300, odd),
        segment('000002', F(1), 1300, 2100, odd, true),
        segment('000002', F(2), 0, 500, odd),
      ],
      2,
    );
    const cat = { backups: [B], timelines: [parent(), diverged] };
    const trxs = [...P_TRX.map((t) => ({ ...t, tl: '000001' })), ...odd.map((t) => ({ ...t, tl: '000002' }))];
    const target = parseRestoreTarget({ to: 'latest' });
    let scanned: ScannedFile[] = [];
    for (let round = 0; round < 3; round++) {
      const reqs = filesToScan({ ...cat, scanned }, target);
      if (reqs.length === 0) break;
      scanned = [
        ...scanned,
        ...reqs.map((r) => ({
          timeline: r.timeline,
          file: r.file,
          scannedTo: r.upTo,
          transactions: trxs
            .filter((t) => t.tl === r.timeline && t.file === r.file && t.endOffset <= r.upTo)
            .map(({ tl: _tl, ...t }) => t),
        })),
      ];
    }
    fails(
      () => planRestore({ ...cat, scanned }, target),
      'BINLOG_GAP',
      /diverge before the fork: timeline 000001 has 0-1-5 where timeline 000002 has 0-2-5/,
    );
  });

  it('a recorded fork GTID decides the fork', () => {
    const recordedChild: CatalogTimeline = {
      ...child,
      record: { ...child.record!, parent: '000001', forkGtid: '0-1-5' },
    };
    const cat = { backups: [B], timelines: [parent(), recordedChild] };
    assert.equal(timelineChain(cat.timelines, recordedChild).links[0]!.how, 'recorded');
  });

  it('without GTIDs a change of server is a break, named, and not crossed', () => {
    const bare = (t: CatalogTimeline): CatalogTimeline => ({
      ...t,
      segments: t.segments.map((s) => ({ ...s, header: { ...s.header!, gtids: {} } })),
    });
    const r = timelineLink([bare(parent()), bare(child)], bare(child));
    assert.ok(r && 'break' in r);
    assert.match(r.break.reason, /without GTIDs/);
  });

  it('the same server starting over (RESET MASTER) is a break even when sequence numbers look continuous', () => {
    const again = timeline('000002', child.segments, 1);
    const r = timelineLink([parent(), again], again);
    assert.ok(r && 'break' in r);
  });
});

describe('verify across timelines: windows through linked timelines, breaks, unrestorable intervals', () => {
  const P = [trx(F(1), 300, 500, 1, 0), trx(F(1), 500, 700, 2, 10)];
  const T = [trx(F(1), 300, 500, 1, 0), trx(F(1), 500, 700, 2, 10), trx(F(1), 700, 900, 3, 40, 2)];
  const input = (id: string, trxs: ArchivedTransaction[], end: number) => ({
    id,
    record: timeline(id, [], id === '000001' ? 1 : 2).record,
    gaps: [],
    segments: [segment(id, F(1), 0, end, trxs)].map((s) => ({
      key: s.key,
      file: s.file,
      start: s.start,
      header: s.header,
      ok: true,
    })),
  });
  const B = { manifest: backup('20261201T093000000Z-b1', F(1), 500, '0-1-1'), ok: true };

  it('a window from a backup on the old primary goes on through the linked timeline', () => {
    const r = checkChain(
      [
        input('000001', P, 700),
        {
          ...input('000002', T, 900),
          link: { timeline: '000002', parent: '000001', how: 'inferred' as const, forkGtid: undefined },
        },
      ],
      [B],
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.windows[0]!.through, ['000002']);
    assert.equal(r.windows[0]!.to, new Date(at(40)).toISOString());
    // the backup finished before the first archived commit: every archived commit is restorable
    assert.deepEqual(r.unrestorable, []);
    // a backup that finished later leaves the commits before it unrestorable, and says so
    const late = { manifest: { ...B.manifest, finishedAt: new Date(at(5)).toISOString() }, ok: true };
    const r2 = checkChain([input('000001', P, 700)], [late]);
    assert.deepEqual(
      r2.unrestorable.map((u) => [u.kind, u.from, u.to]),
      [['before-oldest-backup', new Date(at(0)).toISOString(), new Date(at(5)).toISOString()]],
    );
  });

  it('a break (no GTIDs) without a backup on the later timeline is a problem and an unrestorable interval', () => {
    const r = checkChain(
      [
        input('000001', P, 700),
        {
          ...input('000002', T, 900),
          break: {
            timeline: '000002',
            previous: '000001',
            reason: 'without GTIDs a change of source cannot be stitched',
          },
        },
      ],
      [B],
    );
    assert.deepEqual(
      r.problems.map((p) => p.kind),
      ['timeline-break'],
    );
    assert.equal(r.windows[0]!.through, undefined);
    const last = r.unrestorable.at(-1)!;
    assert.equal(last.kind, 'break');
    assert.equal(last.to, new Date(at(40)).toISOString());
    assert.match(last.reason, /does not continue timeline 000001/);
  });
});
