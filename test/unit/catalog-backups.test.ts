import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  backupDumpKey,
  backupIdTime,
  backupManifestKey,
  groupBackupObjects,
  isBackupId,
  newBackupId,
  parseBackupKey,
  parseBackupManifest,
  backupObjects,
  backupSize,
  singleDumpObject,
  serializeBackupManifest,
  type BackupManifest,
} from '../../src/catalog/index.js';

const ID = '20261125T193000123Z-0a0b0c';

function sampleManifest(id = ID): BackupManifest {
  return {
    format: 1,
    id,
    kind: 'logical-dump',
    timeline: 'server-id:1',
    source: {
      address: 'db1:3306',
      serverId: 1,
      gtidDomainId: 0,
      flavor: 'mariadb',
      version: '10.11.19-MariaDB-log',
    },
    startedAt: '2026-11-25T19:30:00.123Z',
    finishedAt: '2026-11-25T19:31:00.000Z',
    binlog: { file: 'mysql-bin.000042', position: 1015 },
    gtidPosition: '0-1-17',
    dump: {
      key: backupDumpKey(id),
      compression: 'zstd',
      size: 10,
      sha256: 'a'.repeat(64),
      uncompressedSize: 40,
      uncompressedSha256: 'b'.repeat(64),
    },
    databases: null,
    tool: {
      name: 'mariadb-dump',
      path: '/usr/bin/mariadb-dump',
      version: null,
      args: ['--single-transaction'],
    },
    nonTransactionalTables: [],
    warnings: [],
  };
}

describe('backup ids and keys', () => {
  it('makes time-sortable ids and reads the time back', () => {
    const a = newBackupId(new Date('2026-11-25T19:30:00.123Z'), Buffer.from([10, 11, 12]));
    const b = newBackupId(new Date('2026-11-25T19:30:00.124Z'), Buffer.from([0, 0, 0]));
    const c = newBackupId(new Date('2027-01-01T00:00:00.000Z'), Buffer.from([255, 0, 0]));
    assert.equal(a, ID);
    assert.ok(a < b && b < c);
    assert.ok(isBackupId(a));
    assert.equal(backupIdTime(a)?.toISOString(), '2026-11-25T19:30:00.123Z');
    assert.equal(isBackupId('20261125T193000123Z'), false);
    assert.equal(isBackupId('../etc'), false);
  });

  it('builds and parses backup keys; foreign keys are not backups', () => {
    assert.equal(backupDumpKey(ID), `backups/${ID}/dump.sql.zst`);
    assert.equal(backupManifestKey(ID), `backups/${ID}/manifest.json`);
    assert.deepEqual(parseBackupKey(backupManifestKey(ID)), { id: ID, name: 'manifest.json' });
    assert.equal(parseBackupKey('backups/notanid/manifest.json'), undefined);
    assert.equal(parseBackupKey(`binlogs/${ID}/x`), undefined);
    assert.equal(parseBackupKey(`backups/${ID}/`), undefined);
    assert.throws(() => backupDumpKey('../x'), RangeError);
  });

  it('groups objects by backup id, oldest first', () => {
    const at = new Date(0);
    const older = '20250101T000000000Z-000000';
    const groups = groupBackupObjects([
      { key: backupManifestKey(ID), size: 1, lastModified: at },
      { key: 'backups/README', size: 1, lastModified: at },
      { key: backupDumpKey(older), size: 5, lastModified: at },
      { key: backupDumpKey(ID), size: 2, lastModified: at },
    ]);
    assert.deepEqual([...groups.keys()], [older, ID]);
    assert.deepEqual(
      groups
        .get(ID)
        ?.map((o) => o.key)
        .sort(),
      [backupDumpKey(ID), backupManifestKey(ID)],
    );
  });
});

describe('backup manifests', () => {
  it('round-trips through its JSON form', () => {
    const m = sampleManifest();
    const text = serializeBackupManifest(m);
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(parseBackupManifest(text, 'k'), m);
  });

  it('rejects text that is not a manifest, naming the key and the field', () => {
    assert.throws(
      () => parseBackupManifest('{', 'backups/x/manifest.json'),
      (e: Error & { code?: string }) => {
        return e.code === 'CORRUPT_DATA' && /backups\/x\/manifest\.json/.test(e.message);
      },
    );
    const noPos = JSON.parse(serializeBackupManifest(sampleManifest())) as Record<string, unknown>;
    noPos.binlog = { file: 'mysql-bin.000001' };
    assert.throws(() => parseBackupManifest(JSON.stringify(noPos), 'k'), /binlog\.position/);
    const newer = { ...sampleManifest(), format: 3 };
    assert.throws(() => parseBackupManifest(JSON.stringify(newer), 'k'), /format 3/);
  });

  it('reads a split backup (format 2): parts instead of one dump, each checked', () => {
    const { dump, ...rest } = sampleManifest();
    const part = (stage: 'pre' | 'rows' | 'post', table: string | null, key: string) => ({
      ...dump!,
      key,
      stage,
      database: 'shop',
      table,
    });
    const split = {
      ...rest,
      format: 2 as const,
      parts: [
        part('pre', 'orders', 'a'),
        { ...part('rows', 'orders', 'b'), chunk: 0, rows: 10 },
        part('post', null, 'c'),
      ],
    };
    const back = parseBackupManifest(serializeBackupManifest(split), 'k');
    assert.deepEqual(back, split);
    assert.deepEqual(
      backupObjects(back).map((o) => o.key),
      ['a', 'b', 'c'],
    );
    assert.equal(backupSize(back).size, 3 * dump!.size);
    assert.throws(() => singleDumpObject(back), /split into 3 parts/);
    assert.throws(
      () => parseBackupManifest(JSON.stringify({ ...split, dump }), 'k'),
      /exactly one of dump and parts/,
    );
    assert.throws(() => parseBackupManifest(JSON.stringify(rest), 'k'), /exactly one of dump and parts/);
    const badStage = { ...split, parts: [{ ...part('pre', null, 'a'), stage: 'middle' }] };
    assert.throws(() => parseBackupManifest(JSON.stringify(badStage), 'k'), /parts\[0\]\.stage/);
    const noSha = { ...split, parts: [{ ...part('pre', null, 'a'), sha256: undefined }] };
    assert.throws(() => parseBackupManifest(JSON.stringify(noSha), 'k'), /parts\[0\]\.sha256/);
  });

  it('reads manifests with and without the SQL SHA-256 (new backups leave it out); a wrong type is refused', () => {
    const withSum = sampleManifest();
    const { uncompressedSha256, ...dump } = withSum.dump!;
    assert.equal(uncompressedSha256, 'b'.repeat(64));
    const without = { ...withSum, dump };
    const back = parseBackupManifest(serializeBackupManifest(without), 'k');
    assert.deepEqual(back, without);
    assert.equal('uncompressedSha256' in back.dump!, false);
    assert.deepEqual(parseBackupManifest(serializeBackupManifest(withSum), 'k').dump, withSum.dump);

    const { dump: _d, ...rest } = withSum;
    const split = {
      ...rest,
      format: 2 as const,
      parts: [{ ...dump, stage: 'pre' as const, database: null, table: null }],
    };
    assert.deepEqual(parseBackupManifest(serializeBackupManifest(split), 'k'), split);

    const badDump = { ...withSum, dump: { ...dump, uncompressedSha256: 7 } };
    assert.throws(() => parseBackupManifest(JSON.stringify(badDump), 'k'), /dump\.uncompressedSha256/);
    const badPart = { ...split, parts: [{ ...split.parts[0]!, uncompressedSha256: null }] };
    assert.throws(() => parseBackupManifest(JSON.stringify(badPart), 'k'), /parts\[0\]\.uncompressedSha256/);
  });
});
