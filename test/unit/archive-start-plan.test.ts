import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planArchiveStart, type SourceState } from '../../src/archiver/index.js';
import type { SegmentHeader, TimelineRecord } from '../../src/catalog/index.js';

const identity = { flavor: 'mariadb' as const, serverId: 7, gtidDomainId: 0 };
const record: TimelineRecord = {
  format: 1,
  timeline: '000001',
  createdAt: '2026-01-01T00:00:00.000Z',
  source: { ...identity, version: '10.11.6-MariaDB', address: 'mysql://repl@db1:3306' },
  firstFile: 'mysql-bin.000001',
  reason: 'first timeline of this repository',
};
const header = (over: Partial<SegmentHeader>): SegmentHeader => ({
  format: 1,
  timeline: '000001',
  file: 'mysql-bin.000003',
  start: 1000,
  end: 5000,
  sha256: '0'.repeat(64),
  firstCommit: null,
  lastCommit: null,
  gtids: { '0': { first: '0-7-10', last: '0-7-20' } },
  gtidSet: '',
  transactions: 10,
  events: 40,
  splitTransaction: false,
  closesFile: false,
  ...over,
});
const source = (over: Partial<SourceState> = {}): SourceState => ({
  identity,
  binaryLogs: [
    { name: 'mysql-bin.000002', size: 9000 },
    { name: 'mysql-bin.000003', size: 8000 },
    { name: 'mysql-bin.000004', size: 300 },
  ],
  gtidBinlogPos: '0-7-25',
  ...over,
});
const repo = (last?: SegmentHeader) => ({
  timelineIds: ['000001'],
  newest: { id: '000001', record },
  ...(last ? { last } : {}),
});

describe('planArchiveStart (resume point)', () => {
  it('an empty repository starts timeline 000001 at the oldest file the source has', () => {
    const plan = planArchiveStart({ timelineIds: [] }, source());
    assert.deepEqual(plan, {
      kind: 'new-timeline',
      timeline: '000001',
      file: 'mysql-bin.000002',
      position: 4,
      reason: 'first timeline of this repository',
    });
  });

  it('resumes at exactly the end of the last segment', () => {
    const plan = planArchiveStart(repo(header({})), source());
    assert.equal(plan.kind, 'resume');
    assert.deepEqual([plan.timeline, plan.file, plan.position], ['000001', 'mysql-bin.000003', 5000]);
  });

  it('after a closed file, resumes at the start of the next one (named by the ROTATE)', () => {
    const plan = planArchiveStart(repo(header({ closesFile: true, nextFile: 'mysql-bin.000004' })), source());
    assert.deepEqual([plan.kind, plan.file, plan.position], ['resume', 'mysql-bin.000004', 4]);
    // a STOP event names no next file: the next sequence number is used
    const stop = planArchiveStart(repo(header({ closesFile: true })), source());
    assert.deepEqual([stop.kind, stop.file, stop.position], ['resume', 'mysql-bin.000004', 4]);
  });

  it('a timeline with a record but no segment starts at its first file', () => {
    const plan = planArchiveStart(repo(), source({ binaryLogs: [{ name: 'mysql-bin.000001', size: 400 }] }));
    assert.deepEqual(
      [plan.kind, plan.timeline, plan.file, plan.position],
      ['resume', '000001', 'mysql-bin.000001', 4],
    );
  });

  it('files purged before they were archived become gaps, and it continues at the oldest file', () => {
    const plan = planArchiveStart(
      repo(header({ file: 'mysql-bin.000001', end: 700 })),
      source({ binaryLogs: [{ name: 'mysql-bin.000004', size: 300 }] }),
    );
    assert.equal(plan.kind, 'resume');
    assert.equal(plan.file, 'mysql-bin.000004');
    assert.equal(plan.position, 4);
    assert.deepEqual(plan.kind === 'resume' && plan.gaps, [
      { file: 'mysql-bin.000001', from: 700 },
      { file: 'mysql-bin.000002', from: 0 },
      { file: 'mysql-bin.000003', from: 0 },
    ]);
  });

  it('another server identity starts a new timeline forked from the last position', () => {
    const plan = planArchiveStart(repo(header({})), source({ identity: { ...identity, serverId: 8 } }));
    assert.equal(plan.kind, 'new-timeline');
    assert.equal(plan.timeline, '000002');
    assert.equal(plan.file, 'mysql-bin.000002');
    assert.deepEqual(plan.kind === 'new-timeline' && plan.parent, {
      timeline: '000001',
      file: 'mysql-bin.000003',
      position: 5000,
    });
    assert.match(plan.kind === 'new-timeline' ? plan.reason : '', /server_id 8/);
  });

  it('RESET MASTER (files numbered from 1 again, GTIDs back) is a new timeline', () => {
    const reset = source({ binaryLogs: [{ name: 'mysql-bin.000001', size: 900 }], gtidBinlogPos: '0-7-1' });
    const plan = planArchiveStart(repo(header({})), reset);
    assert.equal(plan.kind, 'new-timeline');
    assert.equal(plan.file, 'mysql-bin.000001');
    // even when the file names line up again, a shorter file is another history
    const again = planArchiveStart(
      repo(header({ gtids: {} })),
      source({ binaryLogs: [{ name: 'mysql-bin.000003', size: 4999 }] }),
    );
    assert.equal(again.kind, 'new-timeline');
    assert.match(again.kind === 'new-timeline' ? again.reason : '', /4999 bytes/);
    // and a GTID position behind the archived one is another history, whatever the files say
    const behind = planArchiveStart(repo(header({})), source({ gtidBinlogPos: '0-7-19' }));
    assert.equal(behind.kind, 'new-timeline');
  });

  it('a newest timeline without a record is never appended to', () => {
    const plan = planArchiveStart(
      { timelineIds: ['000001'], newest: { id: '000001', record: undefined } },
      source(),
    );
    assert.deepEqual([plan.kind, plan.timeline], ['new-timeline', '000002']);
  });

  describe('another server that continues the GTIDs (failover, switchover, a moved address)', () => {
    const replica = { flavor: 'mariadb' as const, serverId: 8, gtidDomainId: 0 };
    const promoted = (over: Partial<SourceState> = {}): SourceState =>
      source({
        identity: replica,
        binaryLogs: [
          { name: 'mysql-bin.000001', size: 5000 },
          { name: 'mysql-bin.000002', size: 6000 },
          { name: 'mysql-bin.000003', size: 700 },
        ],
        gtidBinlogPos: '0-8-23',
        gtidBinlogState: '0-7-20,0-8-23',
        fileStartGtidPos: {
          'mysql-bin.000001': '',
          'mysql-bin.000002': '0-7-15',
          'mysql-bin.000003': '0-7-21',
        },
        ...over,
      });
    const archivedRepo = { ...repo(header({})), archivedGtidPos: '0-7-20' };

    it('starts a new timeline at the file holding the first transaction not archived, with the fork GTID', () => {
      const plan = planArchiveStart(archivedRepo, promoted());
      assert.equal(plan.kind, 'new-timeline');
      assert.equal(plan.timeline, '000002');
      assert.equal(
        plan.file,
        'mysql-bin.000002',
        'not the oldest file, and not one that starts after the fork',
      );
      assert.equal(plan.position, 4);
      assert.equal(plan.kind === 'new-timeline' && plan.forkGtid, '0-7-20');
      assert.deepEqual(plan.kind === 'new-timeline' && plan.parent, {
        timeline: '000001',
        file: 'mysql-bin.000003',
        position: 5000,
      });
      assert.match(plan.kind === 'new-timeline' ? plan.reason : '', /failover or switchover/);
    });

    it('an unrelated server (no GTID of the archived server in its state) starts at its oldest file', () => {
      const plan = planArchiveStart(archivedRepo, promoted({ gtidBinlogState: '0-8-23' }));
      assert.equal(plan.file, 'mysql-bin.000001');
      assert.equal(plan.kind === 'new-timeline' && plan.forkGtid, undefined);
    });

    it('without the starting GTID positions (MySQL, an old server) the oldest file, as before', () => {
      const plan = planArchiveStart(archivedRepo, promoted({ fileStartGtidPos: undefined }));
      assert.equal(plan.file, 'mysql-bin.000001');
    });
  });
});
