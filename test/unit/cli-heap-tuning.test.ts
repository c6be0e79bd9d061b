import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * Loads the CLI's main module as `mysql-pitr WORD` would (without running a command), then churns
 * small objects and reports whether V8's new space grew: main.ts must freeze it for `archive`
 * before its other modules load, however the process is started (bin/, `node dist/...`, npx).
 */
const probe = (word: string): string => `
import { getHeapSpaceStatistics } from 'node:v8';
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
process.argv = [process.execPath, "mysql-pitr", ${JSON.stringify(word)}, "--help"];
await import(${JSON.stringify(MAIN)});
const before = newSpace();
const keep = [];
for (let i = 0; i < 2e6; i++) {
  keep.push({ i, b: Buffer.allocUnsafe(64) });
  if (keep.length > 20000) keep.splice(0, 10000);
}
console.log(JSON.stringify({ before, after: newSpace() }));
`;

async function newSpaceGrowth(word: string): Promise<{ before: number; after: number }> {
  const { stdout } = await run(process.execPath, [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    probe(word),
  ]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { before: number; after: number };
}

describe('CLI heap tuning at the entry point (src/cli/heap-tuning.ts)', () => {
  it('`archive` freezes the young generation as soon as the CLI module loads', async () => {
    const r = await newSpaceGrowth('archive');
    // it may shrink (V8 shrinks new space when little survives, seen in a loaded CI run), never grow
    assert.ok(r.after <= r.before, `new space grew from ${r.before} to ${r.after} bytes for archive`);
  });

  it('other commands keep V8 default growth', async () => {
    const r = await newSpaceGrowth('status');
    assert.ok(r.after > r.before, `new space stayed at ${r.before} bytes for status`);
  });
});
