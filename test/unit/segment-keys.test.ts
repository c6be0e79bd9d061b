import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  binlogFileAfter,
  compareBinlogFiles,
  formatTimelineId,
  gapKey,
  nextTimelineId,
  parseGapKey,
  parseSegmentKey,
  parseTimelineKey,
  segmentKey,
  timelineKey,
} from '../../src/catalog/index.js';

describe('archive keys', () => {
  it('segment keys are deterministic, zero-padded and round-trip', () => {
    const k = segmentKey('000001', 'mysql-bin.000042', 4);
    assert.equal(k, 'binlogs/000001/mysql-bin.000042/00000000000000000004.zst');
    assert.deepEqual(parseSegmentKey(k), { timeline: '000001', file: 'mysql-bin.000042', start: 4 });
    const big = segmentKey('000002', 'db1-bin.1000000', 2 ** 40);
    assert.deepEqual(parseSegmentKey(big), { timeline: '000002', file: 'db1-bin.1000000', start: 2 ** 40 });
    // byte order of keys is offset order
    const keys = [0, 5, 40, 1_000_000, 2 ** 33].map((o) => segmentKey('000001', 'mysql-bin.000001', o));
    assert.deepEqual([...keys].sort(), keys);
  });

  it('foreign keys are not segments', () => {
    for (const k of [
      'binlogs/000001/mysql-bin.000001/4.zst',
      'binlogs/1/mysql-bin.000001/00000000000000000004.zst',
      'binlogs/000001/mysql-bin/00000000000000000004.zst',
      'binlogs/000001/mysql-bin.000001/00000000000000000004.zst.tmp',
      'backups/x/manifest.json',
    ]) {
      assert.equal(parseSegmentKey(k), undefined, k);
    }
  });

  it('rejects file names that are not binlog names, and bad offsets', () => {
    assert.throws(() => segmentKey('000001', '../etc.000001', 0), RangeError);
    assert.throws(() => segmentKey('000001', 'a/b.000001', 0), RangeError);
    assert.throws(() => segmentKey('1', 'mysql-bin.000001', 0), RangeError);
    assert.throws(() => segmentKey('000001', 'mysql-bin.000001', -1), RangeError);
  });

  it('timeline and gap keys', () => {
    assert.equal(timelineKey('000003'), 'timelines/000003.json');
    assert.equal(parseTimelineKey('timelines/000003.json'), '000003');
    assert.equal(parseTimelineKey('timelines/3.json'), undefined);
    assert.equal(gapKey('000001', 'mysql-bin.000007'), 'gaps/000001/mysql-bin.000007.json');
    assert.deepEqual(parseGapKey('gaps/000001/mysql-bin.000007.json'), {
      timeline: '000001',
      file: 'mysql-bin.000007',
    });
    assert.equal(formatTimelineId(12), '000012');
    assert.equal(nextTimelineId([]), '000001');
    assert.equal(nextTimelineId(['000001', '000004', 'junk']), '000005');
  });

  it('orders binlog files by sequence number, not as strings', () => {
    assert.ok(compareBinlogFiles('mysql-bin.999999', 'mysql-bin.1000000') < 0);
    assert.ok(compareBinlogFiles('mysql-bin.000002', 'mysql-bin.000010') < 0);
    assert.equal(compareBinlogFiles('mysql-bin.000002', 'mysql-bin.000002'), 0);
    assert.equal(binlogFileAfter('mysql-bin.000009'), 'mysql-bin.000010');
    assert.equal(binlogFileAfter('mysql-bin.999999'), 'mysql-bin.1000000');
  });
});
