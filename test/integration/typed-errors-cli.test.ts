/**
 * The CLI exits with the code of the typed error a command raises: `restore backup` over a
 * repository without the backup asked for is TARGET_OUT_OF_RANGE (exit 6, as `restore pitr
 * --backup` answers for the same id), not a usage error. Nothing connects to the target first.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ExitCode } from '../../src/errors/index.js';
import { runCli } from '../support/run-cli.js';

describe('restore backup: a backup the repository does not hold', () => {
  let dir: string;
  let repo: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mysql-pitr-typed-errors-cli-'));
    repo = `file://${join(dir, 'repo')}`;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Port 1: nothing listens there; the command must fail on the repository before connecting.
  const restore = (backup: string) =>
    runCli(['restore', 'backup', '--repo', repo, '--backup', backup, '--target', 'mysql://root@127.0.0.1:1']);

  it('an unknown id: exit 6 naming the id and how to list the backups', async () => {
    const r = await restore('20261125T103100Z-nope');
    assert.equal(r.code, ExitCode.NOT_RECOVERABLE, r.stderr);
    assert.match(r.stderr, /backup 20261125T103100Z-nope is not a complete backup of this repository/);
    assert.match(r.stderr, /`mysql-pitr backup list` shows the ones there are/);
  });

  it('latest of a repository without backups: exit 6 saying to take one', async () => {
    const r = await restore('latest');
    assert.equal(r.code, ExitCode.NOT_RECOVERABLE, r.stderr);
    assert.match(
      r.stderr,
      /the repository holds no complete backup: take one with `mysql-pitr backup create` first/,
    );
  });
});
