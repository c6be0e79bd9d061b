import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/log/index.js';
import { PitrError } from '../../src/errors/index.js';

test('logger writes JSON lines with error code and cause when not on a TTY', () => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const log = createLogger({ stream: out, json: true }).child({ component: 'x' });
  log.error('failed', { err: new PitrError('BINLOG_GAP', 'gap', { cause: new Error('inner') }) });
  log.debug('dropped below level');
  const lines = chunks.join('').trim().split('\n');
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.level, 'error');
  assert.equal(rec.component, 'x');
  assert.equal(rec.err.code, 'BINLOG_GAP');
  assert.equal(rec.err.cause.message, 'inner');
});
