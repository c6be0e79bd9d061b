/**
 * Regression: a SIGTERM that reached the CLI while it was still starting (before the command ran)
 * was lost, so `archive` started anyway and followed the source until killed. Seen under load in
 * archive-cli.test.ts: the test's SIGTERM came during startup and the archiver never exited. The
 * signal here is aborted before main() runs; the source is a closed port, so an archiver that
 * missed the signal would retry the connection forever (and the test times out).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import { readLease } from '../../src/archiver/index.js';
import { FsObjectStore } from '../../src/storage/index.js';

describe('a signal that arrives while the CLI starts', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cli-signal-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'stops `archive` before it streams: exit 0, the lease released, nothing archived',
    { timeout: 120_000 },
    async () => {
      let err = '';
      const stderr = new PassThrough();
      stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await main(
        ['archive', '--source', 'mysql://repl@127.0.0.1:9', '--repo', `file://${dir}`],
        {
          stdout: new PassThrough(),
          stderr,
          env: { MYSQL_PITR_SOURCE_PASSWORD: 'unused', MYSQL_PITR_LOG_FORMAT: 'json' },
          signal: AbortSignal.abort(new Error('SIGTERM during startup')),
        },
      );
      assert.equal(code, 0, err);
      assert.doesNotMatch(err, /reconnecting|streaming binlogs/);
      const store = new FsObjectStore({ root: dir });
      assert.equal(await readLease(store), undefined, 'the lease is released');
      const keys: string[] = [];
      for await (const o of store.list('binlogs/')) keys.push(o.key);
      assert.deepEqual(keys, []);
    },
  );
});
