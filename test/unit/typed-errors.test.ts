/**
 * Typed errors carry the fields a caller acts on (issue 18: "errors are typed and carry fields,
 * never matched on message text"). Each class is checked on its own, then the throw sites that used
 * to build a bare PitrError are driven for real (an empty repository in a temp dir, the pure
 * planners) and their fields asserted.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { RowImage, TableMapColumns, ColumnValue } from '../../src/binlog/index.js';
import { segmentKey, type CatalogTimeline, type SegmentHeader } from '../../src/catalog/index.js';
import {
  ChecksumMismatchError,
  exitCodeFor,
  ExitCode,
  PitrError,
  TargetOutOfRangeError,
  TransactionBoundaryError,
} from '../../src/errors/index.js';
import { chooseTimeline, fetchArchivedBinlogs } from '../../src/maintenance/archive-fetch.js';
import { planApplyFrom } from '../../src/restore/apply/batch-apply-plan.js';
import { selectBackup } from '../../src/restore/load/restore-backup.js';
import type { ArchivedTransaction, RestoreCatalog } from '../../src/restore/plan/plan-restore.js';
import { searchTimeline } from '../../src/restore/timeline-search.js';
import { FsObjectStore } from '../../src/storage/index.js';
import {
  planUndo,
  readUndoSource,
  UndoRefusedError,
  UndoRowCountError,
  type TargetTable,
  type UndoRowChange,
  type UndoSource,
} from '../../src/undo/index.js';
import { segmentHeaderFor } from '../support/segment-header.js';

describe('typed error classes carry their fields', () => {
  it('TargetOutOfRangeError: reason and what was asked for; code TARGET_OUT_OF_RANGE, exit 6', () => {
    const cause = new Error('below');
    const gtids = ['0-1-5', '0-1-9'];
    const e = new TargetOutOfRangeError('not-archived', 'GTID 0-1-5 is not in the archive', {
      cause,
      timeline: '000002',
      gtids,
    });
    assert.ok(e instanceof PitrError);
    assert.equal(e.name, 'TargetOutOfRangeError');
    assert.equal(e.code, 'TARGET_OUT_OF_RANGE');
    assert.equal(exitCodeFor(e.code), ExitCode.NOT_RECOVERABLE);
    assert.equal(e.reason, 'not-archived');
    assert.equal(e.timeline, '000002');
    assert.deepEqual(e.gtids, ['0-1-5', '0-1-9']);
    assert.equal(e.file, undefined);
    assert.equal(e.backup, undefined);
    assert.equal(e.cause, cause);
    assert.equal(e.message, 'GTID 0-1-5 is not in the archive');
    // A copy, frozen: the caller's array and the error's field do not alias.
    gtids.push('0-1-10');
    assert.deepEqual(e.gtids, ['0-1-5', '0-1-9']);
    assert.ok(Object.isFrozen(e.gtids));
    const bare = new TargetOutOfRangeError('no-archive', 'nothing');
    assert.equal(bare.gtids, undefined);
    assert.equal('cause' in bare, false);
  });

  it('TransactionBoundaryError: the position, the enclosing transaction, the boundaries; code USAGE, exit 2', () => {
    const e = new TransactionBoundaryError(
      {
        option: '--from',
        file: 'mysql-bin.000002',
        position: 450,
        inside: { gtid: '0-1-5', startOffset: 400, endOffset: 600 },
        boundaries: [600, 400],
      },
      'inside',
    );
    assert.equal(e.code, 'USAGE');
    assert.equal(exitCodeFor(e.code), ExitCode.USAGE);
    assert.equal(e.name, 'TransactionBoundaryError');
    assert.deepEqual(
      [e.option, e.file, e.position, e.inside, e.boundaries],
      ['--from', 'mysql-bin.000002', 450, { gtid: '0-1-5', startOffset: 400, endOffset: 600 }, [400, 600]],
    );
  });

  it('ChecksumMismatchError: object and offset; the generic advice unless the caller gives its own', () => {
    const plain = new ChecksumMismatchError('binlogs/x.zst', 120, 'CRC32 0x1 != 0x2');
    assert.equal(plain.code, 'CHECKSUM_MISMATCH');
    assert.equal(exitCodeFor(plain.code), ExitCode.DATA);
    assert.equal(
      plain.message,
      'checksum mismatch in binlogs/x.zst at offset 120: CRC32 0x1 != 0x2. The data is corrupt; do not use it. ' +
        'Re-fetch it from the source or repository, or restore from another copy.',
    );
    const cause = new Error('zstd: checksum wrong');
    const own = new ChecksumMismatchError('k', undefined, 'it was deleted', {
      cause,
      advice: 'Run it again.',
    });
    assert.equal(own.message, 'checksum mismatch in k: it was deleted. Run it again.');
    assert.equal(own.cause, cause);
    assert.equal(own.offset, undefined);
  });

  it('UndoRefusedError carries a reason and table; UndoRowCountError the counts and statement', () => {
    const r = new UndoRefusedError('no-key', 'no key', { table: 'shop.orders' });
    assert.deepEqual([r.code, r.reason, r.table], ['UNDO_REFUSED', 'no-key', 'shop.orders']);
    assert.equal(exitCodeFor(r.code), ExitCode.NOT_RECOVERABLE);
    const sql = `DELETE FROM \`shop\`.\`orders\` WHERE \`id\` IN (${'1,'.repeat(400)}2)`;
    const c = new UndoRowCountError(3, 2, sql);
    assert.deepEqual([c.code, c.expected, c.changed, c.sql], ['UNDO_CONFLICT', 3, 2, sql]);
    assert.equal(exitCodeFor(c.code), ExitCode.MYSQL);
    assert.match(
      c.message,
      /^an inverse statement changed 2 row\(s\) where 3 were expected; it was rolled back/,
    );
    assert.ok(
      c.message.endsWith(`Statement: ${sql.slice(0, 300)}`),
      'the message quotes at most 300 characters',
    );
  });
});

describe('throw sites on an empty repository name what was asked for', () => {
  let dir: string;
  let store: FsObjectStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mysql-pitr-typed-errors-'));
    store = new FsObjectStore({ root: join(dir, 'repo') });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const outOfRange =
    (reason: string, fields: Partial<TargetOutOfRangeError> = {}) =>
    (err: unknown): true => {
      assert.ok(err instanceof TargetOutOfRangeError, `expected TargetOutOfRangeError, got ${String(err)}`);
      assert.equal(err.reason, reason, err.message);
      for (const [k, v] of Object.entries(fields)) {
        assert.deepEqual(err[k as keyof TargetOutOfRangeError], v, k);
      }
      return true;
    };

  it('selectBackup: `latest` of no backups is no-backup; an unknown id is unknown-backup with the id', async () => {
    await assert.rejects(selectBackup(store, 'latest'), outOfRange('no-backup'));
    await assert.rejects(
      selectBackup(store, '20261125T103100Z-abc'),
      outOfRange('unknown-backup', { backup: '20261125T103100Z-abc' }),
    );
  });

  it('timeline search and undo: no-archive, or unknown-timeline with the timeline asked for', async () => {
    await assert.rejects(
      searchTimeline(store, {}, () => undefined),
      outOfRange('no-archive', { timeline: undefined }),
    );
    await assert.rejects(
      searchTimeline(store, { timeline: '000007' }, () => undefined),
      outOfRange('unknown-timeline', { timeline: '000007' }),
    );
    await assert.rejects(readUndoSource(store, { gtids: ['0-1-1'] }), outOfRange('no-archive'));
    await assert.rejects(
      readUndoSource(store, { gtids: ['0-1-1'] }, { timeline: '000007' }),
      outOfRange('unknown-timeline', { timeline: '000007' }),
    );
  });

  it('binlog fetch: unknown-timeline with the timeline, file-not-archived with timeline and file', async () => {
    await assert.rejects(
      fetchArchivedBinlogs({ store, dest: join(dir, 'out'), timeline: '000007' }),
      outOfRange('unknown-timeline', { timeline: '000007' }),
    );
    // One segment object is enough for the catalog to list the file; the unknown one is refused
    // before anything is read or written.
    await store.put(segmentKey('000001', 'mysql-bin.000001', 4), Buffer.from('not read'));
    await assert.rejects(
      fetchArchivedBinlogs({ store, dest: join(dir, 'out'), files: ['mysql-bin.000009'] }),
      outOfRange('file-not-archived', { timeline: '000001', file: 'mysql-bin.000009' }),
    );
    assert.throws(
      () => chooseTimeline([], undefined, store),
      outOfRange('no-archive', { timeline: undefined }),
    );
  });
});

describe('planners: a position inside a transaction is a TransactionBoundaryError', () => {
  const F1 = 'mysql-bin.000001';
  const F2 = 'mysql-bin.000002';
  const trx = (file: string, start: number, end: number, seq: number): ArchivedTransaction => ({
    file,
    startOffset: start,
    endOffset: end,
    gtid: `0-1-${seq}`,
    commitTime: Date.parse('2026-11-25T10:00:00Z') + seq * 1000,
  });
  const TRX2 = [trx(F2, 200, 400, 4), trx(F2, 400, 600, 5), trx(F2, 600, 800, 6)];
  const header = (file: string, start: number, end: number, trxs: ArchivedTransaction[]): SegmentHeader =>
    segmentHeaderFor(file, start, Buffer.alloc(end - start), {
      firstCommit: new Date(trxs[0]!.commitTime).toISOString(),
      lastCommit: new Date(trxs.at(-1)!.commitTime).toISOString(),
      gtids: { '0': { first: trxs[0]!.gtid!, last: trxs.at(-1)!.gtid! } },
      transactions: trxs.length,
      events: trxs.length * 4,
      closesFile: file === F1,
      ...(file === F1 ? { nextFile: F2 } : {}),
    });
  const seg = (file: string, start: number, end: number, trxs: ArchivedTransaction[]) => ({
    key: segmentKey('000001', file, start),
    timeline: '000001',
    file,
    start,
    size: 100,
    lastModified: new Date(0),
    header: header(file, start, end, trxs),
  });
  const timeline: CatalogTimeline = {
    id: '000001',
    segments: [seg(F1, 0, 950, [trx(F1, 300, 500, 1), trx(F1, 500, 900, 2)]), seg(F2, 0, 800, TRX2)],
    gaps: [],
  } as unknown as CatalogTimeline;
  const catalog: RestoreCatalog = {
    backups: [],
    timelines: [timeline],
    scanned: [{ timeline: '000001', file: F2, scannedTo: 800, transactions: TRX2 }],
  };

  it('--to-position inside a transaction: the transaction and the boundaries either side', () => {
    assert.throws(
      () =>
        planApplyFrom(catalog, { file: F1, position: 900 }, { kind: 'position', file: F2, position: 450 }),
      (err: unknown) => {
        assert.ok(err instanceof TransactionBoundaryError, String(err));
        assert.equal(err.code, 'USAGE');
        assert.equal(err.option, '--to-position');
        assert.equal(err.file, F2);
        assert.equal(err.position, 450);
        assert.deepEqual(err.inside, { gtid: '0-1-5', startOffset: 400, endOffset: 600 });
        assert.deepEqual(err.boundaries, [400, 600]);
        assert.match(err.message, /--to-position mysql-bin\.000002:450 is inside transaction/);
        return true;
      },
    );
  });
});

describe('planUndo refusals carry their reason and table', () => {
  const int = (v: number): ColumnValue => ({ t: 'int', raw: BigInt(v), bytes: 4 });
  const TABLE: TargetTable = {
    database: 'shop',
    table: 'orders',
    columns: [
      { name: 'id', dataType: 'int', unsigned: false, charset: null, octetLength: null, generated: false },
    ],
    key: { name: 'PRIMARY', columns: [0] },
  };
  const change = (before?: RowImage, after?: RowImage): UndoRowChange => ({
    table: 'shop.orders',
    kind: before && after ? 'update' : before ? 'delete' : 'insert',
    before,
    after,
    file: 'mysql-bin.000001',
    offset: 100,
  });
  const source = (changes: UndoRowChange[], extra: Partial<UndoSource> = {}): UndoSource => ({
    timeline: '000001',
    transactions: [
      {
        gtid: '0-1-1',
        file: 'mysql-bin.000001',
        startOffset: 100,
        endOffset: 150,
        commitTime: 1_700_000_000_000,
        changes,
        statements: [],
      },
    ],
    tableMaps: new Map([
      [
        'shop.orders',
        {
          kind: 'table-map',
          tableId: 1,
          database: 'shop',
          table: 'orders',
          columns: [{}],
        } as unknown as TableMapColumns,
      ],
    ]),
    ddl: [],
    ...extra,
  });
  const refused =
    (reason: string, table: string | undefined) =>
    (err: unknown): true => {
      assert.ok(err instanceof UndoRefusedError, String(err));
      assert.equal(err.reason, reason, err.message);
      assert.equal(err.table, table);
      return true;
    };
  const targets = (t: TargetTable | undefined): Map<string, TargetTable | undefined> =>
    new Map([['shop.orders', t]]);

  it('nothing-to-undo, table-missing, no-key, definition-changed, ddl-after, partial-images', () => {
    const del = source([change([int(1)])]);
    assert.throws(() => planUndo(source([]), targets(TABLE)), refused('nothing-to-undo', undefined));
    assert.throws(() => planUndo(del, targets(undefined)), refused('table-missing', 'shop.orders'));
    assert.throws(
      () => planUndo(del, targets({ ...TABLE, key: undefined })),
      refused('no-key', 'shop.orders'),
    );
    assert.throws(
      () => planUndo(del, targets({ ...TABLE, columns: [{ ...TABLE.columns[0]!, dataType: 'datetime' }] })),
      refused('definition-changed', 'shop.orders'),
    );
    assert.throws(
      () =>
        planUndo(
          {
            ...del,
            ddl: [
              {
                gtid: '0-1-2',
                file: 'mysql-bin.000001',
                offset: 400,
                statement: 'ALTER TABLE orders ADD x INT',
              },
            ],
          },
          targets(TABLE),
        ),
      refused('ddl-after', 'shop.orders'),
    );
    const partial: RowImage = [];
    partial.length = 1;
    assert.throws(
      () => planUndo(source([change(partial)]), targets(TABLE)),
      refused('partial-images', 'shop.orders'),
    );
  });
});
