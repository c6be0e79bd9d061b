/**
 * YoungGenerationSizer's early minor collections: that V8's own `gc` runs, observed through V8's GC
 * entries (PerformanceObserver 'gc'; a lower bound, since V8 and the runtime collect on their own
 * too, more often on Node 22), and the pacing, counted exactly through an injected collector: every
 * `collectEveryBytes` of large events one minor GC, none for small events (V8's own young-generation
 * collections are frequent enough there).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { YoungGenerationSizer } from '../../src/archiver/index.js';

const MiB = 1024 * 1024;

/** Minor GCs V8 reports while `work` runs (entries arrive asynchronously: waits a little after). */
async function minorGcsDuring(work: () => void): Promise<number> {
  let minor = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor += 1;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  await sleep(20);
  minor = 0;
  work();
  await sleep(50);
  observer.disconnect();
  return minor;
}

describe('YoungGenerationSizer: minor collections paced by the bytes of large events', () => {
  it("V8's own minor GC runs, once per collectEveryBytes of large events, from the first event", async () => {
    const sizer = new YoungGenerationSizer(8 * MiB, 1024, 1 * MiB);
    const n = await minorGcsDuring(() => {
      for (let i = 0; i < 64; i++) sizer.received(64 * 1024); // 4 MiB in 64 KiB events
    });
    // at least the sizer's 4; V8 (and Node 22's runtime) may add their own
    assert.ok(n >= 4, `${n} minor GCs for 4 MiB`);
  });

  /** A sizer whose collections are counted instead of run (exact, whatever V8 does meanwhile). */
  function countingSizer(collectEveryBytes: number): { sizer: YoungGenerationSizer; calls: () => number } {
    let calls = 0;
    const sizer = new YoungGenerationSizer(8 * MiB, 1024, collectEveryBytes, (options) => {
      assert.deepEqual(options, { type: 'minor' });
      calls += 1;
    });
    return { sizer, calls: () => calls };
  }

  it('exactly one per collectEveryBytes of large events, the remainder carried over', () => {
    const { sizer, calls } = countingSizer(1 * MiB);
    for (let i = 0; i < 64; i++) sizer.received(64 * 1024); // 4 MiB
    assert.equal(calls(), 4);
    for (let i = 0; i < 8; i++) sizer.received(64 * 1024); // half a MiB more: not yet
    assert.equal(calls(), 4);
    for (let i = 0; i < 8; i++) sizer.received(64 * 1024);
    assert.equal(calls(), 5);
  });

  it('none while the events are small, again once they are large', () => {
    const { sizer, calls } = countingSizer(1 * MiB);
    sizer.update(150);
    for (let i = 0; i < 64; i++) sizer.received(64 * 1024);
    assert.equal(calls(), 0, 'small events: left to V8');
    sizer.update(8192);
    for (let i = 0; i < 32; i++) sizer.received(64 * 1024);
    assert.equal(calls(), 2, '2 MiB of large events');
  });

  it('collectEveryBytes 0: never', () => {
    const { sizer, calls } = countingSizer(0);
    for (let i = 0; i < 64; i++) sizer.received(64 * 1024);
    assert.equal(calls(), 0);
  });
});
