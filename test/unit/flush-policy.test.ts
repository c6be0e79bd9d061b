import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlushPolicy } from '../../src/archiver/index.js';

describe('FlushPolicy (fake clock)', () => {
  it('flushes flushInterval after the first unflushed transaction ended, not after later ones', () => {
    const p = new FlushPolicy({ flushIntervalMs: 1000, segmentSize: 1 << 20 });
    assert.equal(p.dueAt, undefined);
    assert.equal(p.decide(0, { bufferedBytes: 500 }), undefined, 'nothing complete yet');
    p.transactionEnded(10_000);
    p.transactionEnded(10_600); // does not push the deadline
    assert.equal(p.dueAt, 11_000);
    assert.equal(p.decide(10_999, { bufferedBytes: 500 }), undefined);
    assert.equal(p.decide(11_000, { bufferedBytes: 500 }), 'interval');
    p.flushed();
    assert.equal(p.dueAt, undefined);
    assert.equal(p.decide(20_000, { bufferedBytes: 500 }), undefined, 'flushed: the clock stopped');
  });

  it('an idle source never flushes: heartbeats do not start the clock', () => {
    const p = new FlushPolicy({ flushIntervalMs: 1000 });
    for (let t = 0; t < 3_600_000; t += 30_000) assert.equal(p.decide(t, { bufferedBytes: 0 }), undefined);
  });

  it('flushes at the size limit at once, before the interval, and at rotation', () => {
    const p = new FlushPolicy({ flushIntervalMs: 1000, segmentSize: 4096 });
    assert.equal(p.decide(0, { bufferedBytes: 4095 }), undefined);
    assert.equal(p.decide(0, { bufferedBytes: 4096 }), 'size');
    assert.equal(p.decide(0, { bufferedBytes: 10, rotated: true }), 'rotate');
    p.transactionEnded(0);
    assert.equal(
      p.decide(5000, { bufferedBytes: 5000, rotated: true }),
      'size',
      'size wins (it may need a split)',
    );
  });

  it('a zero interval flushes every transaction', () => {
    const p = new FlushPolicy({ flushIntervalMs: 0 });
    p.transactionEnded(5);
    assert.equal(p.decide(5, { bufferedBytes: 1 }), 'interval');
  });

  it('rejects nonsense settings', () => {
    assert.throws(() => new FlushPolicy({ flushIntervalMs: -1 }), RangeError);
    assert.throws(() => new FlushPolicy({ segmentSize: 10 }), RangeError);
  });

  it('idle flush: at once when a transaction waits and the last flush is an interval old; never more often', () => {
    const p = new FlushPolicy({ flushIntervalMs: 400 });
    assert.equal(p.idleDue(0), false, 'nothing pending');
    p.transactionEnded(0);
    assert.equal(p.idleDue(0), true, 'the first transaction after a quiet period is stored at once');
    p.flushed(0);
    p.transactionEnded(10);
    assert.equal(p.idleDue(10), false, 'one flush per interval');
    assert.equal(p.idleDue(399), false);
    assert.equal(p.idleDue(400), true);
    assert.equal(
      p.decide(409, { bufferedBytes: 100 }),
      undefined,
      'the interval still counts from the transaction',
    );
    assert.equal(p.decide(410, { bufferedBytes: 100 }), 'interval');
  });
});
