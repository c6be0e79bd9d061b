import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../support/run-cli.js';

/**
 * The README's main-job command, as a user runs it (minus the dependency install, which the test
 * command has already done): the whole incident drill must pass and print its proof.
 */
describe('quick start (scripts/quickstart.ts)', () => {
  it('archives, backs up, finds the bad DELETE, restores to just before it, and proves the table equal', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/quickstart.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, `${out}\n${err}`);
    assert.match(out, /\$ mysql-pitr timeline search --query/);
    assert.match(out, /the DELETE is transaction \d+-\d+-\d+/);
    const before = /before the incident: (\d+) rows, CHECKSUM (\d+)/.exec(out);
    const after = /restored target: +(\d+) rows, CHECKSUM (\d+)/.exec(out);
    assert.ok(before && after, out);
    assert.equal(after[1], before[1]);
    assert.equal(after[2], before[2]);
    assert.notEqual(before[1], '0');
    assert.match(out, /exactly as it was just before the DELETE/);
  });
});
