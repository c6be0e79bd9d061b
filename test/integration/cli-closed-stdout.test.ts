// `mysql-pitr binlog inspect FILE | head`: when the reader of stdout goes away (EPIPE), the CLI ends
// quietly with exit 0 instead of printing a Node stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_DIR } from '../support/binlog-fixtures.js';
import { cliCommand, PROJECT_ROOT } from '../support/run-cli.js';

describe('CLI whose stdout is closed by its reader', () => {
  it('binlog inspect | head: exit 0, nothing on stderr', async () => {
    const { command, args } = cliCommand(['binlog', 'inspect', join(FIXTURE_DIR, 'mysql-bin.checksum-none')]);
    const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let firstChunk = '';
    child.stdout.once('data', (d: Buffer) => {
      firstChunk = d.toString();
      child.stdout.destroy(); // what `head` does once it has its lines
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.match(firstChunk, /FORMAT_DESCRIPTION/);
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
