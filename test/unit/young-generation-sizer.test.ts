/**
 * YoungGenerationSizer's early minor collections, observed through V8's own GC entries
 * (PerformanceObserver 'gc'): every `collectEveryBytes` of large events one minor GC, none for
 * small events (V8's own young-generation collections are frequent enough there).
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
  it('one minor GC per collectEveryBytes of large events, from the first event', async () => {
    const sizer = new YoungGenerationSizer(8 * MiB, 1024, 1 * MiB);
    const n = await minorGcsDuring(() => {
      for (let i = 0; i < 64; i++) sizer.received(64 * 1024); // 4 MiB in 64 KiB events
    });
    // V8 may add one of its own, but nothing here allocates much
    assert.ok(n >= 4 && n <= 5, `${n} minor GCs for 4 MiB`);
  });

  it('none while the events are small, again once they are large', async () => {
    const sizer = new YoungGenerationSizer(8 * MiB, 1024, 1 * MiB);
    sizer.update(150);
    const small = await minorGcsDuring(() => {
      for (let i = 0; i < 64; i++) sizer.received(64 * 1024);
    });
    assert.equal(small, 0, 'small events: left to V8');
    sizer.update(8192);
    const large = await minorGcsDuring(() => {
      for (let i = 0; i < 32; i++) sizer.received(64 * 1024);
    });
    assert.ok(large >= 2, `${large} minor GCs for 2 MiB of large events`);
  });

  it('collectEveryBytes 0: never', async () => {
    const sizer = new YoungGenerationSizer(8 * MiB, 1024, 0);
    const n = await minorGcsDuring(() => {
      for (let i = 0; i < 64; i++) sizer.received(64 * 1024);
    });
    assert.equal(n, 0);
  });
});
