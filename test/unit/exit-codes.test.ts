import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, exitCodeFor } from '../../src/errors/index.js';

test('every error class maps to its documented exit code', () => {
  assert.equal(exitCodeFor('CONFIG_INVALID'), ExitCode.USAGE);
  assert.equal(exitCodeFor('MYSQL_SERVER_ERROR'), ExitCode.MYSQL);
  assert.equal(exitCodeFor('STORAGE_NO_SPACE'), ExitCode.STORAGE);
  assert.equal(exitCodeFor('CHECKSUM_MISMATCH'), ExitCode.DATA);
  assert.equal(exitCodeFor('BINLOG_GAP'), ExitCode.NOT_RECOVERABLE);
  assert.equal(exitCodeFor('LEASE_HELD'), ExitCode.LOCKED);
  assert.equal(exitCodeFor('FORMAT_TOO_NEW'), 8);
  assert.equal(exitCodeFor('EXPIRE_REFUSED'), 8);
  assert.equal(exitCodeFor('something-else'), ExitCode.INTERNAL);
  assert.equal(exitCodeFor(undefined), ExitCode.INTERNAL);
});
