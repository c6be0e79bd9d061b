/** mapLimit (p-queue underneath): order, the bound on calls in flight, and stopping at the first failure. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';

import { mapLimit } from '../../src/catalog/index.js';

describe('mapLimit', () => {
  it('keeps input order and never has more than `limit` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      for (let i = 0; i < n; i++) await tick();
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30, 0, 60]);
    assert.equal(most, 3);
  });

  it('runs one at a time with a limit below 1, and returns [] for no items', async () => {
    let most = 0;
    let inFlight = 0;
    await mapLimit([1, 2, 3], 0, async () => {
      most = Math.max(most, ++inFlight);
      await tick();
      inFlight--;
    });
    assert.equal(most, 1);
    assert.deepEqual(await mapLimit([], 4, () => Promise.resolve(1)), []);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 2, async (n) => {
        started.push(n);
        await tick();
        if (n === 1) throw new Error('boom at 1');
        return n;
      }),
      /boom at 1/,
    );
    await tick();
    await tick();
    assert.ok(started.length < 8, `started ${started.join(',')}`);
  });
});
