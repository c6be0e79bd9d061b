/**
 * Every object mysql-pitr writes carries a format version; readers take a missing one as format 1
 * and refuse a newer one with FORMAT_TOO_NEW ("written by a newer mysql-pitr (format N); upgrade"),
 * never as garbage. The retention planner refuses to plan around a manifest it cannot read.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BINLOG_GAP_FORMAT,
  checkFormatVersion,
  decodeSegmentHeader,
  encodeSegmentHeader,
  parseBackupManifest,
  parseBinlogGap,
  parseTimelineRecord,
  planRetention,
  serializeBinlogGap,
  serializeTimelineRecord,
  type IncompleteBackup,
  type SegmentHeader,
  type TimelineRecord,
} from '../../src/catalog/index.js';
import { parseLeaseRecord } from '../../src/archiver/index.js';
import { FormatTooNewError } from '../../src/errors/index.js';

const tooNew = (format: number, what: string) => (e: unknown) =>
  e instanceof FormatTooNewError &&
  e.code === 'FORMAT_TOO_NEW' &&
  e.format === format &&
  e.message.includes(`written by a newer mysql-pitr (format ${format}); upgrade`) &&
  e.message.includes(what);

const manifest = {
  format: 1,
  id: '20261125T193000123Z-0a0b0c',
  kind: 'logical-dump',
  timeline: '000001',
  source: { address: 'db1:3306', serverId: 1, flavor: 'mariadb', version: '10.11' },
  startedAt: '2026-11-25T19:30:00.123Z',
  finishedAt: '2026-11-25T19:31:00.000Z',
  binlog: { file: 'mysql-bin.000042', position: 1015 },
  gtidPosition: null,
  dump: { key: 'k', compression: 'zstd', size: 1, sha256: 'a', uncompressedSize: 1, uncompressedSha256: 'b' },
  databases: null,
  tool: { name: 'mariadb-dump', path: '/x', version: null, args: [] },
  nonTransactionalTables: [],
  warnings: [],
};

const record: TimelineRecord = {
  format: 1,
  timeline: '000001',
  createdAt: '2026-11-25T19:30:00.000Z',
  source: { flavor: 'mariadb', serverId: 1, gtidDomainId: 0, version: '10.11', address: 'mysql://repl@db1' },
  firstFile: 'mysql-bin.000001',
  reason: 'a new repository',
};

const header: SegmentHeader = {
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
};

const without = <T extends object>(o: T): Omit<T, 'format'> => {
  const { format: _f, ...rest } = o as T & { format?: unknown };
  return rest;
};

describe('format versions', () => {
  it('checkFormatVersion: absent is 1, newer is FORMAT_TOO_NEW, anything else is CORRUPT_DATA', () => {
    assert.equal(checkFormatVersion(undefined, 1, 'k', 'thing'), 1);
    assert.equal(checkFormatVersion(1, 2, 'k', 'thing'), 1);
    assert.throws(() => checkFormatVersion(3, 2, 'objects/k', 'thing'), tooNew(3, 'objects/k'));
    for (const bad of ['1', 0, -1, 1.5, null]) {
      assert.throws(
        () => checkFormatVersion(bad, 1, 'k', 'thing'),
        (e: Error & { code?: string }) => e.code === 'CORRUPT_DATA',
      );
    }
  });

  it('backup manifests: without format read as 1; a newer one refused as FORMAT_TOO_NEW', () => {
    assert.equal(parseBackupManifest(JSON.stringify(without(manifest)), 'm').format, 1);
    assert.throws(
      () => parseBackupManifest(JSON.stringify({ ...manifest, format: 3 }), 'backups/x/manifest.json'),
      tooNew(3, 'backups/x/manifest.json'),
    );
  });

  it('timeline records: without format read as 1; a newer one refused', () => {
    assert.equal(parseTimelineRecord(JSON.stringify(without(record)), 't').format, 1);
    assert.deepEqual(parseTimelineRecord(serializeTimelineRecord(record), 't'), record);
    assert.throws(
      () => parseTimelineRecord(JSON.stringify({ ...record, format: 5 }), 'timelines/000001.json'),
      tooNew(5, 'timelines/000001.json'),
    );
  });

  it('gap records: written with format 1, read without it as 1, a newer one refused', () => {
    const gap = {
      timeline: '000001',
      file: 'mysql-bin.000003',
      from: 4,
      resumedAt: 'mysql-bin.000004',
      detectedAt: 'x',
      reason: 'purged',
    };
    const text = serializeBinlogGap(gap);
    assert.equal((JSON.parse(text) as { format: number }).format, BINLOG_GAP_FORMAT);
    assert.equal(parseBinlogGap(JSON.stringify(gap), 'g').format, 1);
    assert.throws(
      () => parseBinlogGap(JSON.stringify({ ...gap, format: 2 }), 'gaps/000001/mysql-bin.000003.json'),
      tooNew(2, 'gaps/000001/mysql-bin.000003.json'),
    );
  });

  it('segment headers: without format read as 1; a newer one refused (not called corrupt)', () => {
    const old = encodeSegmentHeader(without(header) as SegmentHeader);
    assert.equal(decodeSegmentHeader(old, 's').header.format, 1);
    const newer = encodeSegmentHeader({ ...header, format: 2 as 1 });
    assert.throws(
      () => decodeSegmentHeader(newer, 'binlogs/000001/x.zst'),
      tooNew(2, 'binlogs/000001/x.zst'),
    );
  });

  it('leases: without format read as 1; a newer one refused, so an older archiver never takes it over', () => {
    const lease = {
      owner: 'o',
      host: 'h',
      pid: 1,
      source: 's',
      acquiredAt: 'a',
      renewedAt: 'r',
      expiresAt: 'e',
    };
    assert.equal(parseLeaseRecord(JSON.stringify(lease))?.format, 1);
    assert.equal(parseLeaseRecord('not json'), undefined);
    assert.throws(
      () => parseLeaseRecord(JSON.stringify({ ...lease, format: 2 }), 'locks/archiver.json'),
      tooNew(2, 'locks/archiver.json'),
    );
  });
});

describe('planRetention refuses what it cannot account for', () => {
  it('a backup whose manifest exists but cannot be read goes into `refused`, never into the deletions', () => {
    const id = '20261101T000000000Z-aaaaaa';
    const old = new Date('2026-11-01T00:00:00Z');
    const incomplete: IncompleteBackup[] = [
      {
        id,
        reason: 'written by a newer mysql-pitr (format 2); upgrade',
        objects: [
          { key: `backups/${id}/dump.sql.zst`, size: 1, lastModified: old },
          { key: `backups/${id}/manifest.json`, size: 1, lastModified: old },
        ],
        unreadable: { key: `backups/${id}/manifest.json`, code: 'FORMAT_TOO_NEW' },
      },
    ];
    const plan = planRetention(
      { backups: [], incomplete, timelines: [] },
      { keepBackups: 1 },
      new Date('2026-12-01T00:00:00Z'),
    );
    assert.deepEqual(plan.expireIncomplete, []);
    assert.deepEqual(plan.refused, [
      { id, key: `backups/${id}/manifest.json`, code: 'FORMAT_TOO_NEW', reason: incomplete[0]!.reason },
    ]);
  });
});
