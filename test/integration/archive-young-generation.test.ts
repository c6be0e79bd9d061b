import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MiB = 1024 * 1024;

/**
 * The archiver's memory cap (bin/mysql-pitr.js and YoungGenerationCap in binlog-archiver.ts) relies
 * on V8 reading --semi-space-growth-factor at run time. A Node upgrade that stopped honouring it
 * would silently cost the archiver about 30 MiB; this fails instead.
 */
const PROBE = `
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const churn = () => {
  // a live window of small objects, as the archiver's queued events are, with steady turnover
  const keep = [];
  for (let i = 0; i < 2e6; i++) {
    keep.push({ i, b: Buffer.allocUnsafe(64) });
    if (keep.length > 20000) keep.splice(0, 10000);
  }
};
setFlagsFromString('--semi-space-growth-factor=1');
const start = newSpace();
churn();
const frozen = newSpace();
setFlagsFromString('--semi-space-growth-factor=2');
churn();
console.log(JSON.stringify({ start, frozen, grown: newSpace() }));
`;

describe('V8 young-generation growth factor (what the archiver memory cap relies on)', () => {
  it('a growth factor of 1 set at run time freezes the new space; 2 lets it grow again', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PROBE]);
    const r = JSON.parse(stdout) as { start: number; frozen: number; grown: number };
    // V8 may still commit its initial semi-space fully (1 -> 2 MiB); unfrozen it doubles repeatedly
    assert.ok(r.frozen <= 2 * MiB, `new space grew from ${r.start} to ${r.frozen} bytes while frozen`);
    assert.ok(r.grown >= 8 * MiB, `new space did not grow after unfreezing (${r.grown} bytes)`);
  });
});
