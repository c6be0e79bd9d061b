import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isStaleTemp, STALE_TEMP_AGE_MS } from '../../src/storage/index.js';
import { tempOwnerSuffix } from '../../src/storage/temp-owner.js';

describe('temporary names carry their writer', () => {
  const now = Date.now();
  it('own temp files are never stale; a dead pid of this host is stale at once', () => {
    const mine = `.pitr-tmp-dump.sql.zst${tempOwnerSuffix()}`;
    assert.equal(isStaleTemp(mine, now - 2 * STALE_TEMP_AGE_MS, now), false);
    // a pid that certainly existed and is gone: a finished child of ours
    const dead = spawnSync('true').pid;
    const theirs = mine.replace(`-p${process.pid}-`, `-p${dead}-`);
    assert.equal(isStaleTemp(theirs, now, now), true);
  });

  it('another host, a live pid, or no tag: stale only after 24 h', () => {
    const other = '.pitr-tmp-x-h00000000-p1-0123456789ab';
    const live = `.pitr-tmp-x${tempOwnerSuffix()}`.replace(`-p${process.pid}-`, `-p${process.ppid}-`);
    for (const name of [other, live, '.pitr-tmp-x-0123456789ab']) {
      assert.equal(isStaleTemp(name, now - 60_000, now), false, name);
      assert.equal(isStaleTemp(name, now - STALE_TEMP_AGE_MS - 1, now), true, name);
    }
  });
});
