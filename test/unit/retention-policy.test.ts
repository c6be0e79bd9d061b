/**
 * The pure retention policy over in-memory catalogs: which backups stay and why, which binlog data
 * goes (whole files before the oldest retained backup's file, older timelines whole), deletion
 * order, incomplete backups and the grace period, and the cases where no binlog may go.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  backupManifestKey,
  gapKey,
  locateBackupTimeline,
  planRetention,
  segmentKey,
  timelineKey,
  type BackupManifest,
  type BinlogGap,
  type CatalogTimeline,
  type IncompleteBackup,
  type RetentionCatalog,
  type SegmentHeader,
  type TimelineRecord,
} from '../../src/catalog/index.js';
import { PitrError } from '../../src/errors/index.js';

const NOW = new Date('2026-11-25T12:00:00.000Z');
const DAY = 24 * 3600 * 1000;
const daysAgo = (d: number): Date => new Date(NOW.getTime() - d * DAY);

function idAt(t: Date, suffix = 'a1b2c3'): string {
  return `${t.toISOString().replace(/[-:]/g, '').replace('.', '')}-${suffix}`;
}

function manifest(ageDays: number, file: string, position: number, serverId = 1): BackupManifest {
  const started = daysAgo(ageDays);
  const id = idAt(started);
  return {
    format: 1,
    id,
    kind: 'logical-dump',
    timeline: `server-id:${serverId}`,
    source: {
      address: 'db1:3306',
      serverId,
      gtidDomainId: 0,
      flavor: 'mariadb',
      version: '10.11.6-MariaDB-log',
    },
    startedAt: started.toISOString(),
    finishedAt: new Date(started.getTime() + 60_000).toISOString(),
    binlog: { file, position },
    gtidPosition: null,
    dump: {
      key: `backups/${id}/dump.sql.zst`,
      compression: 'zstd',
      size: 100,
      sha256: '0'.repeat(64),
      uncompressedSize: 1000,
      uncompressedSha256: '1'.repeat(64),
    },
    databases: null,
    tool: { name: 'mariadb-dump', path: '/usr/bin/mariadb-dump', version: null, args: [] },
    nonTransactionalTables: [],
    warnings: [],
  };
}

function record(id: string, createdAt: Date, serverId = 1): TimelineRecord {
  return {
    format: 1,
    timeline: id,
    createdAt: createdAt.toISOString(),
    source: { flavor: 'mariadb', serverId, gtidDomainId: 0, version: '10.11.6', address: 'mysql://repl@db1' },
    firstFile: 'mysql-bin.000001',
    reason: 'test',
  };
}

/** `files`: file -> segment boundaries, e.g. [0, 100, 200] = segments 0..100 and 100..200 (the last closes the file unless open). */
function timeline(
  id: string,
  files: Record<string, number[]>,
  opts: { record?: TimelineRecord | null; gaps?: BinlogGap[]; open?: string } = {},
): CatalogTimeline {
  const segments: CatalogTimeline['segments'] = [];
  for (const [file, cuts] of Object.entries(files)) {
    for (let i = 0; i + 1 < cuts.length; i++) {
      const start = cuts[i]!;
      const end = cuts[i + 1]!;
      const header: SegmentHeader = {
        format: 1,
        timeline: id,
        file,
        start,
        end,
        sha256: 'a'.repeat(64),
        firstCommit: null,
        lastCommit: null,
        gtids: {},
        gtidSet: '',
        transactions: 1,
        events: 3,
        splitTransaction: false,
        closesFile: i + 2 === cuts.length && opts.open !== file,
      };
      segments.push({
        key: segmentKey(id, file, start),
        timeline: id,
        file,
        start,
        size: 10,
        lastModified: NOW,
        header,
      });
    }
  }
  return {
    id,
    record: opts.record === null ? undefined : (opts.record ?? record(id, daysAgo(100))),
    segments,
    gaps: opts.gaps ?? [],
  };
}

const F = (n: number): string => `mysql-bin.${String(n).padStart(6, '0')}`;

function catalog(
  backups: BackupManifest[],
  timelines: CatalogTimeline[],
  incomplete: IncompleteBackup[] = [],
): RetentionCatalog {
  return { backups, timelines, incomplete };
}

const segKeys = (plan: ReturnType<typeof planRetention>): string[] =>
  plan.expireBinlogs.flatMap((t) => t.segments.map((s) => s.key));

describe('planRetention: which backups stay', () => {
  const b = [
    manifest(20, F(1), 500),
    manifest(10, F(2), 300),
    manifest(5, F(3), 200),
    manifest(1, F(4), 100),
  ];
  const tl = timeline(
    '000001',
    {
      [F(1)]: [0, 400, 800],
      [F(2)]: [0, 200, 600],
      [F(3)]: [0, 150, 300],
      [F(4)]: [0, 50, 200],
    },
    { open: F(4) },
  );

  it('refuses to run without a policy or with a bad value (USAGE)', () => {
    for (const policy of [{}, { keepBackups: 0 }, { keepDays: -1 }, { keepBackups: 1.5 }]) {
      assert.throws(
        () => planRetention(catalog(b, [tl]), policy, NOW),
        (e: unknown) => e instanceof PitrError && e.code === 'USAGE',
        JSON.stringify(policy),
      );
    }
  });

  it('--keep-backups 2 keeps the newest two, expires the rest oldest first, manifest before data', () => {
    const plan = planRetention(catalog([...b].reverse(), [tl]), { keepBackups: 2 }, NOW);
    assert.deepEqual(
      plan.keep.map((k) => k.id),
      [b[2]!.id, b[3]!.id],
    );
    assert.deepEqual(
      plan.expireBackups.map((e) => e.id),
      [b[0]!.id, b[1]!.id],
    );
    for (const [i, e] of plan.expireBackups.entries()) {
      assert.equal(e.manifestKey, backupManifestKey(b[i]!.id));
      assert.deepEqual(e.dataKeys, [b[i]!.dump!.key]);
      assert.match(e.reason, /not among the newest 2/);
    }
    assert.match(plan.keep[1]!.reason, /newest backup is always kept/);
    assert.equal(plan.keep[0]!.timeline, '000001');
  });

  it('--keep-days 7 keeps the backups of the last 7 days and the newest one before the cutoff', () => {
    const plan = planRetention(catalog(b, [tl]), { keepDays: 7 }, NOW);
    assert.deepEqual(
      plan.keep.map((k) => k.id),
      [b[1]!.id, b[2]!.id, b[3]!.id],
    );
    assert.match(plan.keep[0]!.reason, /newest backup before the --keep-days 7 cutoff/);
    assert.match(plan.keep[1]!.reason, /within 7 days/);
    assert.deepEqual(
      plan.expireBackups.map((e) => e.id),
      [b[0]!.id],
    );
  });

  it('--keep-days 0 keeps only the newest backup; the newest is never deleted', () => {
    const plan = planRetention(catalog(b, [tl]), { keepDays: 0 }, NOW);
    assert.deepEqual(
      plan.keep.map((k) => k.id),
      [b[3]!.id],
    );
    assert.equal(plan.expireBackups.length, 3);
    const one = planRetention(catalog([b[0]!], [tl]), { keepDays: 0, keepBackups: 1 }, NOW);
    assert.deepEqual(
      one.keep.map((k) => k.id),
      [b[0]!.id],
    );
    assert.deepEqual(one.expireBackups, []);
  });

  it('both rules: a backup stays when either keeps it', () => {
    const plan = planRetention(catalog(b, [tl]), { keepDays: 2, keepBackups: 3 }, NOW);
    assert.deepEqual(
      plan.keep.map((k) => k.id),
      [b[1]!.id, b[2]!.id, b[3]!.id],
    );
    assert.match(plan.expireBackups[0]!.reason, /not needed for the last 2 days and not among the newest 3/);
  });

  it('a policy that keeps everything deletes nothing', () => {
    const plan = planRetention(catalog(b, [tl]), { keepBackups: 10 }, NOW);
    assert.equal(plan.expireBackups.length, 0);
    assert.deepEqual(segKeys(plan), []);
    assert.deepEqual(plan.keepBinlogsFrom, { timeline: '000001', file: F(1), position: 0 });
  });
});

describe('planRetention: binlogs', () => {
  it('deletes whole files before the oldest retained backup, keeps its whole file (the FDE is at offset 4)', () => {
    const b = [manifest(20, F(1), 500), manifest(10, F(3), 250), manifest(1, F(4), 100)];
    const tl = timeline(
      '000001',
      {
        [F(1)]: [0, 400, 800],
        [F(2)]: [0, 200, 600],
        [F(3)]: [0, 150, 300],
        [F(4)]: [0, 50, 200],
      },
      { open: F(4) },
    );
    const plan = planRetention(catalog(b, [tl]), { keepBackups: 2 }, NOW);
    assert.deepEqual(segKeys(plan), [
      segmentKey('000001', F(1), 0),
      segmentKey('000001', F(1), 400),
      segmentKey('000001', F(2), 0),
      segmentKey('000001', F(2), 200),
    ]);
    assert.equal(plan.expireBinlogs[0]!.whole, false);
    assert.equal(plan.expireBinlogs[0]!.recordKey, undefined, 'the timeline record of a kept timeline stays');
    // the segment 0..150 of mysql-bin.000003 lies wholly before the backup position 250 but is kept
    assert.ok(!segKeys(plan).includes(segmentKey('000001', F(3), 0)));
    assert.deepEqual(plan.keepBinlogsFrom, { timeline: '000001', file: F(3), position: 0 });
    assert.deepEqual(plan.windowStart, {
      backup: b[1]!.id,
      timeline: '000001',
      file: F(3),
      position: 250,
      time: b[1]!.finishedAt,
    });
    assert.equal(
      plan.expireBinlogs[0]!.segments.reduce((a, s) => a + s.size, 0),
      40,
    );
  });

  it('orders segments by binlog sequence, not by string (mysql-bin.999999 before mysql-bin.1000000)', () => {
    const b = [manifest(20, 'mysql-bin.999998', 10), manifest(1, 'mysql-bin.1000001', 10)];
    const tl = timeline(
      '000001',
      {
        'mysql-bin.999998': [0, 100],
        'mysql-bin.999999': [0, 100],
        'mysql-bin.1000000': [0, 100],
        'mysql-bin.1000001': [0, 100],
      },
      { open: 'mysql-bin.1000001' },
    );
    tl.segments.sort((x, y) => (x.key < y.key ? -1 : 1)); // byte order, as a store lists
    tl.segments.sort((x, y) => {
      const n = (f: string): number => Number(f.split('.')[1]);
      return n(x.file) - n(y.file) || x.start - y.start;
    });
    const plan = planRetention(catalog(b, [tl]), { keepBackups: 1 }, NOW);
    assert.deepEqual(
      plan.expireBinlogs[0]!.segments.map((s) => s.file),
      ['mysql-bin.999998', 'mysql-bin.999999', 'mysql-bin.1000000'],
    );
  });

  it('deletes older timelines whole (segments, gaps, then the record) and keeps later ones', () => {
    const gap1: BinlogGap = {
      timeline: '000001',
      file: F(2),
      from: 0,
      resumedAt: F(3),
      detectedAt: daysAgo(40).toISOString(),
      reason: 'purged',
    };
    const t1 = timeline(
      '000001',
      { [F(1)]: [0, 100], [F(3)]: [0, 100, 200] },
      { gaps: [gap1], record: record('000001', daysAgo(50)) },
    );
    const t2 = timeline(
      '000002',
      { [F(1)]: [0, 100], [F(2)]: [0, 300] },
      { record: record('000002', daysAgo(30)) },
    );
    const t3 = timeline('000003', { [F(1)]: [0, 100] }, { record: record('000003', daysAgo(2)), open: F(1) });
    const old = manifest(45, F(3), 150); // on timeline 1
    const mid = manifest(25, F(2), 50); // on timeline 2
    const plan = planRetention(catalog([old, mid], [t1, t2, t3]), { keepBackups: 1 }, NOW);
    assert.deepEqual(
      plan.keep.map((k) => [k.id, k.timeline]),
      [[mid.id, '000002']],
    );
    assert.equal(plan.expireBinlogs.length, 2);
    const [w, p] = plan.expireBinlogs;
    assert.equal(w!.timeline, '000001');
    assert.equal(w!.whole, true);
    assert.deepEqual(
      w!.segments.map((s) => s.key),
      [segmentKey('000001', F(1), 0), segmentKey('000001', F(3), 0), segmentKey('000001', F(3), 100)],
    );
    assert.deepEqual(w!.gapKeys, [gapKey('000001', F(2))]);
    assert.equal(w!.recordKey, timelineKey('000001'));
    assert.equal(p!.timeline, '000002');
    assert.equal(p!.whole, false);
    assert.deepEqual(
      p!.segments.map((s) => s.key),
      [segmentKey('000002', F(1), 0)],
    );
    assert.ok(!segKeys(plan).some((k) => k.startsWith('binlogs/000003/')), 'a later timeline is kept');
  });

  it('gap records before the kept file go, later ones stay', () => {
    const g = (file: string): BinlogGap => ({
      timeline: '000001',
      file,
      from: 0,
      resumedAt: 'x',
      detectedAt: NOW.toISOString(),
      reason: 'purged',
    });
    const tl = timeline(
      '000001',
      { [F(1)]: [0, 10], [F(3)]: [0, 10], [F(5)]: [0, 10] },
      { gaps: [g(F(2)), g(F(4))] },
    );
    const plan = planRetention(catalog([manifest(3, F(3), 5)], [tl]), { keepBackups: 1 }, NOW);
    assert.deepEqual(plan.expireBinlogs[0]!.gapKeys, [gapKey('000001', F(2))]);
  });

  it('a backup at the very end of the archive (idle source) is placed; one beyond it leaves all binlogs alone', () => {
    const tl = timeline('000001', { [F(1)]: [0, 100], [F(2)]: [0, 100] }, { open: F(2) });
    const atEnd = manifest(1, F(2), 100);
    assert.equal(locateBackupTimeline(atEnd, [tl]), '000001');
    const beyond = manifest(1, F(3), 4);
    assert.equal(locateBackupTimeline(beyond, [tl]), undefined);
    const plan = planRetention(catalog([manifest(9, F(1), 50), beyond], [tl]), { keepBackups: 1 }, NOW);
    assert.deepEqual(plan.expireBackups.length, 1);
    assert.deepEqual(segKeys(plan), []);
    assert.equal(plan.keepBinlogsFrom, undefined);
    assert.match(plan.notes[0]!, /no timeline of the archive holds/);
    assert.equal(plan.windowStart?.timeline, undefined);
  });

  it('another source identity does not place a backup on a timeline', () => {
    const tl = timeline('000001', { [F(1)]: [0, 100] });
    assert.equal(locateBackupTimeline(manifest(1, F(1), 50, 2), [tl]), undefined);
    assert.equal(locateBackupTimeline(manifest(1, F(1), 50, 1), [tl]), '000001');
  });

  it('same file names on two timelines (RESET MASTER): the newest timeline created before the backup', () => {
    const t1 = timeline('000001', { [F(1)]: [0, 500] }, { record: record('000001', daysAgo(30)) });
    const t2 = timeline('000002', { [F(1)]: [0, 500] }, { record: record('000002', daysAgo(10)) });
    assert.equal(locateBackupTimeline(manifest(20, F(1), 300), [t1, t2]), '000001');
    assert.equal(locateBackupTimeline(manifest(5, F(1), 300), [t1, t2]), '000002');
    const plan = planRetention(
      catalog([manifest(20, F(1), 300), manifest(5, F(1), 300)], [t1, t2]),
      { keepBackups: 1 },
      NOW,
    );
    assert.deepEqual(
      plan.expireBinlogs.map((t) => [t.timeline, t.whole, t.segments.length]),
      [['000001', true, 1]],
    );
  });

  it('without any complete backup no binlog goes', () => {
    const tl = timeline('000001', { [F(1)]: [0, 100], [F(2)]: [0, 100] });
    const plan = planRetention(catalog([], [tl]), { keepDays: 1 }, NOW);
    assert.deepEqual(plan.expireBinlogs, []);
    assert.equal(plan.windowStart, undefined);
    assert.match(plan.notes[0]!, /no complete backup/);
  });
});

describe('planRetention: incomplete backups', () => {
  const obj = (key: string, age: number): IncompleteBackup['objects'][number] => ({
    key,
    size: 5,
    lastModified: new Date(NOW.getTime() - age),
  });

  it('removes folders without a manifest only after the grace period, a damaged manifest first', () => {
    const oldId = idAt(daysAgo(3), 'aaaaaa');
    const recentId = idAt(new Date(NOW.getTime() - 3600_000), 'bbbbbb');
    const slowId = idAt(daysAgo(3), 'cccccc'); // started long ago, still writing (fs store)
    const incomplete: IncompleteBackup[] = [
      {
        id: oldId,
        reason: 'corrupt manifest',
        objects: [
          obj(`backups/${oldId}/dump.sql.zst`, 3 * DAY),
          obj(`backups/${oldId}/manifest.json`, 3 * DAY),
        ],
      },
      { id: recentId, reason: 'no manifest', objects: [obj(`backups/${recentId}/dump.sql.zst`, 3600_000)] },
      { id: slowId, reason: 'no manifest', objects: [obj(`backups/${slowId}/dump.sql.zst`, 60_000)] },
    ];
    const plan = planRetention(catalog([], [], incomplete), { keepBackups: 1 }, NOW);
    assert.deepEqual(
      plan.expireIncomplete.map((i) => i.id),
      [oldId],
    );
    assert.deepEqual(plan.expireIncomplete[0]!.keys, [
      `backups/${oldId}/manifest.json`,
      `backups/${oldId}/dump.sql.zst`,
    ]);
    const short = planRetention(
      catalog([], [], incomplete),
      { keepBackups: 1, incompleteGraceMs: 30 * 60_000 },
      NOW,
    );
    assert.deepEqual(
      short.expireIncomplete.map((i) => i.id),
      [oldId, recentId],
    );
  });
});

describe('planRetention: compacted files', () => {
  it('deletes segments left covered by an interrupted compaction before the objects that cover them', () => {
    const b = [manifest(20, F(1), 500), manifest(1, F(3), 100)];
    const tl = timeline('000001', { [F(1)]: [0, 800], [F(2)]: [0, 600], [F(3)]: [0, 50, 200] });
    // F(1) was compacted into one object (key of the first segment here), its inputs not yet deleted
    const leftover = timeline('000001', { [F(1)]: [0, 400, 800] }).segments.map((s) => ({
      ...s,
      key: `${s.key}.leftover`,
    }));
    tl.covered = leftover;
    const plan = planRetention(catalog(b, [tl]), { keepBackups: 1 }, NOW);
    const keys = segKeys(plan);
    assert.deepEqual(
      keys.slice(0, 2),
      leftover.map((s) => s.key),
    );
    assert.ok(keys.indexOf(segmentKey('000001', F(1), 0)) > 1, keys.join(' '));
    assert.ok(!keys.some((k) => k.includes(F(3))));
  });
});
