/**
 * Config typos stop the real CLI with exit 2 before it touches anything: a misspelt key in a
 * --config file and a misspelt MYSQL_PITR_* variable, each named with the nearest known one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from '../support/run-cli.js';

describe('config typos (real CLI)', () => {
  let work: string;
  let repo: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pitr-typos-'));
    repo = pathToFileURL(join(work, 'repo')).href;
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('`expire --config` with "keepDay": exit 2, names the key and "keepDays"', async () => {
    const config = join(work, 'pitr.json');
    await writeFile(config, JSON.stringify({ keepBackups: 1, keepDay: 30 }));
    const r = await runCli(['expire', '--config', config, '--repo', repo]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown key "keepDay" \(did you mean "keepDays"\?\)/);
    assert.ok(r.stderr.includes(config));
    assert.deepEqual(await readdir(work), ['pitr.json']); // the repository was not even opened
  });

  it('MYSQL_PITR_KEEP_DAY in the environment: exit 2, names MYSQL_PITR_KEEP_DAYS', async () => {
    const r = await runCli(['expire', '--keep-backups', '1', '--repo', repo], {
      env: { MYSQL_PITR_KEEP_DAY: '30' },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /unknown environment variable MYSQL_PITR_KEEP_DAY \(did you mean MYSQL_PITR_KEEP_DAYS\?\)/,
    );
  });

  it('variables of other commands and of the deployment are accepted', async () => {
    const r = await runCli(['backup', 'list', '--repo', repo], {
      env: { MYSQL_PITR_SOURCE_PASSWORD: 'x', MYSQL_PITR_CLUSTER: 'orders', MYSQL_PITR_KEEP_DAYS: '7' },
    });
    assert.equal(r.code, 0, r.stderr);
  });
});
