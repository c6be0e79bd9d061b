/**
 * The pure chain check of `verify` over in-memory timelines: holes inside a file, missing files,
 * unclosed files, recorded gaps, damaged segments, backups that cannot roll forward, and the
 * restorable windows.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkChain, type CheckedBackup, type CheckedSegment } from '../../src/maintenance/verify-chain.js';
import {
  segmentKey,
  type BackupManifest,
  type BinlogGap,
  type SegmentHeader,
} from '../../src/catalog/index.js';

const T = '000001';
const F = (n: number): string => `mysql-bin.${String(n).padStart(6, '0')}`;
const T0 = Date.parse('2026-11-20T03:00:00Z');
const iso = (s: number): string => new Date(T0 + s * 1000).toISOString();

/** A segment [start, end) of `file`; `commit` = second of its last commit; closes the file when `closes`. */
function seg(
  file: string,
  start: number,
  end: number,
  commit: number,
  opts: { closes?: boolean; ok?: boolean; noHeader?: boolean; nextFile?: string } = {},
): CheckedSegment {
  const header: SegmentHeader = {
    format: 1,
    timeline: T,
    file,
    start,
    end,
    sha256: 'a'.repeat(64),
    firstCommit: iso(commit),
    lastCommit: iso(commit),
    gtids: {},
    gtidSet: '',
    transactions: 1,
    events: 3,
    splitTransaction: false,
    closesFile: opts.closes ?? false,
    ...(opts.nextFile ? { nextFile: opts.nextFile } : {}),
  };
  return {
    key: segmentKey(T, file, start),
    file,
    start,
    header: opts.noHeader ? undefined : header,
    ok: opts.ok ?? !opts.noHeader,
  };
}

function backup(sec: number, file: string, position: number, ok = true): CheckedBackup {
  const started = new Date(T0 + sec * 1000);
  const id = `${started.toISOString().replace(/[-:]/g, '').replace('.', '')}-abcdef`;
  const manifest = {
    id,
    source: { address: 'x', serverId: 1, flavor: 'mariadb', version: '10.11' },
    startedAt: started.toISOString(),
    finishedAt: iso(sec + 10),
    binlog: { file, position },
    gtidPosition: null,
  } as unknown as BackupManifest;
  return { manifest, ok };
}

/** A sound archive: three files, the last still open. */
function sound(): CheckedSegment[] {
  return [
    seg(F(1), 0, 100, 5),
    seg(F(1), 100, 200, 20, { closes: true }),
    seg(F(2), 0, 150, 40),
    seg(F(2), 150, 300, 60, { closes: true }),
    seg(F(3), 0, 80, 90),
    seg(F(3), 80, 120, 100),
  ];
}

const kinds = (r: ReturnType<typeof checkChain>): string[] => r.problems.map((p) => p.kind);

describe('checkChain', () => {
  it('a sound archive: no problem, one window from the oldest backup to the last commit', () => {
    const r = checkChain(
      [{ id: T, segments: sound(), gaps: [] }],
      [backup(10, F(1), 150), backup(50, F(2), 200)],
    );
    assert.deepEqual(r.problems, []);
    assert.equal(r.runs.length, 1);
    assert.deepEqual(r.windows, [
      {
        timeline: T,
        backup: r.windows[0]!.backup,
        from: iso(20),
        to: iso(100),
        end: { file: F(3), position: 120 },
      },
    ]);
    assert.match(r.windows[0]!.backup, /^20261120T030010000Z/);
  });

  it('a missing segment in the middle: named by its key and offset; the older backup stops before it', () => {
    const segs = sound().filter((s) => !(s.file === F(2) && s.start === 0));
    const r = checkChain(
      [{ id: T, segments: segs, gaps: [] }],
      [backup(10, F(1), 150), backup(95, F(3), 100)],
    );
    // bytes 0..150 of file 2 are missing: file 1 closes and file 2 does not start at 0
    assert.deepEqual(kinds(r), ['file-missing', 'backup-chain-broken']);
    const missing = r.problems[0]!;
    assert.equal(missing.file, F(2));
    assert.equal(missing.offset, 0);
    assert.equal(missing.object, segmentKey(T, F(2), 0));
    assert.match(missing.message, /mysql-bin\.000002 bytes 0\.\.150/);
    assert.equal(r.problems[1]!.offset, 200);
    assert.deepEqual(
      r.windows.map((w) => [w.from, w.to]),
      [
        [iso(20), iso(20)],
        [iso(105), iso(105)],
      ],
    );
  });

  it('a hole inside a file names the offset and the missing object', () => {
    const segs = sound().filter((s) => !(s.file === F(2) && s.start === 150));
    segs.splice(3, 0, seg(F(2), 250, 300, 60, { closes: true }));
    const r = checkChain([{ id: T, segments: segs, gaps: [] }], []);
    assert.deepEqual(kinds(r), ['segment-missing']);
    assert.equal(r.problems[0]!.object, segmentKey(T, F(2), 150));
    assert.equal(r.problems[0]!.offset, 150);
    assert.equal(r.problems[0]!.severity, 'chain');
  });

  it('a damaged segment breaks the run without a second (hole) problem; one with no header too', () => {
    for (const damaged of [seg(F(2), 0, 150, 40, { ok: false }), seg(F(2), 0, 150, 40, { noHeader: true })]) {
      const segs = sound().map((s) => (s.file === F(2) && s.start === 0 ? damaged : s));
      const r = checkChain([{ id: T, segments: segs, gaps: [] }], [backup(10, F(1), 150)]);
      assert.deepEqual(kinds(r), ['backup-chain-broken'], JSON.stringify(damaged.header));
      assert.equal(r.runs.length, 2);
    }
  });

  it('a file that does not close before the next one: its tail is missing', () => {
    const segs = sound().filter((s) => !(s.file === F(1) && s.start === 100));
    const r = checkChain([{ id: T, segments: segs, gaps: [] }], []);
    assert.deepEqual(kinds(r), ['file-missing']);
    assert.equal(r.problems[0]!.file, F(1));
    assert.equal(r.problems[0]!.offset, 100);
  });

  it('a whole file missing from the sequence, unless a gap record explains it', () => {
    const segs = [
      seg(F(1), 0, 100, 5, { closes: true }),
      seg(F(3), 0, 100, 50, { closes: true }),
      seg(F(4), 0, 100, 60),
    ];
    const r = checkChain([{ id: T, segments: segs, gaps: [] }], []);
    assert.deepEqual(kinds(r), ['file-missing']);
    assert.equal(r.problems[0]!.file, F(2));
    assert.equal(r.problems[0]!.object, segmentKey(T, F(2), 0));
    const gap: BinlogGap = {
      timeline: T,
      file: F(2),
      from: 0,
      resumedAt: F(3),
      detectedAt: iso(45),
      reason: 'the source purged it',
    };
    const explained = checkChain([{ id: T, segments: segs, gaps: [gap] }], [backup(60, F(4), 50)]);
    assert.deepEqual(explained.problems, [], 'a recorded gap no backup crosses is not a problem');
    const crossed = checkChain([{ id: T, segments: segs, gaps: [gap] }], [backup(1, F(1), 50)]);
    assert.deepEqual(kinds(crossed), ['recorded-gap', 'backup-chain-broken']);
    assert.match(crossed.problems[0]!.message, /the source purged it/);
  });

  it('follows the ROTATE target (nextFile), not only the next number', () => {
    const segs = [seg(F(1), 0, 100, 5, { closes: true, nextFile: F(7) }), seg(F(7), 0, 100, 9)];
    assert.deepEqual(checkChain([{ id: T, segments: segs, gaps: [] }], []).problems, []);
  });

  it('an archive that starts inside a file: bytes from 0 are missing', () => {
    const r = checkChain([{ id: T, segments: [seg(F(1), 100, 200, 5)], gaps: [] }], []);
    assert.deepEqual(kinds(r), ['segment-missing']);
    assert.equal(r.problems[0]!.offset, 0);
  });

  it('a first file partly deleted before every backup (an expire stopped midway) is a leftover, not a problem', () => {
    // expire deletes oldest first: F(1)'s first segment is gone, the backup is in F(2)
    const r = checkChain([{ id: T, segments: sound().slice(1), gaps: [] }], [backup(45, F(2), 150)]);
    assert.deepEqual(kinds(r), []);
    assert.deepEqual(r.expireLeftovers, [
      { timeline: T, file: F(1), start: 100, key: segmentKey(T, F(1), 100) },
    ]);
    assert.equal(r.windows.length, 1, 'the backup still rolls forward');
  });

  it('the same partial first file is a problem when a backup needs it, or when no backup exists', () => {
    const needed = checkChain([{ id: T, segments: sound().slice(1), gaps: [] }], [backup(15, F(1), 150)]);
    assert.deepEqual(kinds(needed), ['segment-missing', 'backup-not-archived']);
    assert.deepEqual(needed.expireLeftovers, []);
    const none = checkChain([{ id: T, segments: sound().slice(1), gaps: [] }], []);
    assert.deepEqual(kinds(none), ['segment-missing']);
    const unplaced = checkChain(
      [{ id: T, segments: sound().slice(1), gaps: [] }],
      [backup(45, F(2), 150), backup(300, F(9), 4)],
    );
    assert.ok(kinds(unplaced).includes('segment-missing'), 'a backup nobody can place might need it');
  });

  it('a later timeline that starts partway is a problem while a backup on an earlier timeline needs it', () => {
    const T2 = '000002';
    const later = sound().map((x) => ({
      ...x,
      key: segmentKey(T2, x.file, x.start),
      header: x.header && { ...x.header, timeline: T2 },
    }));
    const timelines = [
      { id: T, segments: sound(), gaps: [] },
      { id: T2, segments: later.slice(1), gaps: [] },
    ];
    const r = checkChain(timelines, [backup(15, F(1), 150)]);
    assert.ok(kinds(r).includes('segment-missing'));
    assert.deepEqual(r.expireLeftovers, []);
  });

  it('overlapping segments are reported', () => {
    const segs = sound();
    segs.splice(1, 0, seg(F(1), 50, 120, 7));
    assert.ok(kinds(checkChain([{ id: T, segments: segs, gaps: [] }], [])).includes('segment-overlap'));
  });

  it('a backup the archive does not hold, and one whose dump is damaged (no window from it)', () => {
    const r = checkChain(
      [{ id: T, segments: sound(), gaps: [] }],
      [backup(5, F(1), 50, false), backup(95, F(3), 100), backup(200, F(9), 4)],
    );
    assert.deepEqual(kinds(r), ['backup-not-archived']);
    assert.match(r.problems[0]!.message, /no timeline of the archive holds mysql-bin\.000009:4/);
    assert.deepEqual(
      r.windows.map((w) => w.from),
      [iso(105)],
      'the window starts at the sound backup',
    );
  });
});
