import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BackoffRetryStrategy } from '../../src/storage/backoff-retry-strategy.js';

describe('BackoffRetryStrategy', () => {
  const transient = { errorType: 'TRANSIENT' as const, error: new Error('socket hang up') };

  it('retries transient, throttling and 5xx errors up to maxAttempts, then rethrows the last error', async () => {
    const strategy = new BackoffRetryStrategy({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 1000 });
    let token = await strategy.acquireInitialRetryToken('s3');
    token = await strategy.refreshRetryTokenForRetry(token, transient);
    token = await strategy.refreshRetryTokenForRetry(token, {
      errorType: 'SERVER_ERROR',
      error: new Error('500'),
    });
    assert.equal(token.getRetryCount(), 2);
    await assert.rejects(strategy.refreshRetryTokenForRetry(token, transient), /socket hang up/);
  });

  it('does not retry client errors, except a broken connection the SDK calls a client error', async () => {
    const strategy = new BackoffRetryStrategy({ maxAttempts: 5 });
    const token = await strategy.acquireInitialRetryToken('s3');
    await assert.rejects(
      strategy.refreshRetryTokenForRetry(token, {
        errorType: 'CLIENT_ERROR',
        error: new Error('AccessDenied'),
      }),
      /AccessDenied/,
    );
    const reset = Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    const wrapped = new Error('request failed', { cause: reset });
    const next = await strategy.refreshRetryTokenForRetry(token, {
      errorType: 'CLIENT_ERROR',
      error: wrapped,
    });
    assert.equal(next.getRetryCount(), 1);
  });

  it('retries a body S3 received damaged (BadDigest, XAmzContentSHA256Mismatch), not other 400s', async () => {
    const strategy = new BackoffRetryStrategy({ maxAttempts: 5 });
    const token = await strategy.acquireInitialRetryToken('s3');
    for (const name of ['BadDigest', 'XAmzContentSHA256Mismatch']) {
      const error = Object.assign(new Error('did not match'), { name, $metadata: { httpStatusCode: 400 } });
      const next = await strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR', error });
      assert.equal(next.getRetryCount(), 1, name);
    }
    const invalid = Object.assign(new Error('The Content-MD5 you specified is not valid'), {
      name: 'InvalidDigest',
    });
    await assert.rejects(
      strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR', error: invalid }),
      /is not valid/,
    );
  });

  it('delays grow exponentially with jitter within [cap/2, cap], bounded by maxDelayMs; throttling waits longer', () => {
    const strategy = new BackoffRetryStrategy({
      maxAttempts: 10,
      baseDelayMs: 100,
      throttlingBaseDelayMs: 500,
      maxDelayMs: 3000,
    });
    for (let retries = 0; retries < 8; retries++) {
      const cap = Math.min(3000, 100 * 2 ** retries);
      for (let i = 0; i < 50; i++) {
        const d = strategy.delayFor(retries, transient);
        assert.ok(d >= cap / 2 - 1 && d <= cap + 1, `retry ${retries}: ${d} not in [${cap / 2}, ${cap}]`);
      }
    }
    assert.ok(strategy.delayFor(0, { errorType: 'THROTTLING' }) >= 250);
    const hinted = strategy.delayFor(0, {
      errorType: 'TRANSIENT',
      retryAfterHint: new Date(Date.now() + 2000),
    });
    assert.ok(hinted >= 1900 && hinted <= 3000, `Retry-After honoured: ${hinted}`);
    assert.throws(() => new BackoffRetryStrategy({ maxAttempts: 0 }), RangeError);
  });
});
