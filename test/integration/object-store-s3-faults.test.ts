import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { isPitrError } from '../../src/errors/index.js';
import { StorageError, type ObjectInfo } from '../../src/storage/index.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.js';
import { startFaultProxy, type FaultKind, type FaultProxy } from '../support/fault-proxy.js';
import { freePort } from '../support/free-port.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';

const MIB = 1024 * 1024;

async function collect(iter: AsyncIterable<ObjectInfo>): Promise<string[]> {
  const out: string[] = [];
  for await (const info of iter) out.push(info.key);
  return out;
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const sha256 = (buf: Buffer): string => createHash('sha256').update(buf).digest('hex');

function chunksOf(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

function expectStorageError(code: string, ...patterns: RegExp[]): (err: unknown) => true {
  return (err) => {
    assert.ok(isPitrError(err), `expected a PitrError, got ${String(err)}`);
    assert.ok(err instanceof StorageError, `expected a StorageError, got ${err.name}`);
    assert.equal(err.code, code, err.message);
    for (const pattern of patterns) assert.match(err.message, pattern);
    return true;
  };
}

describe('S3ObjectStore under faults (fault proxy in front of the emulator)', () => {
  let emulator: S3Emulator;
  let proxy: FaultProxy;
  const stores: S3ObjectStore[] = [];
  let n = 0;
  const big = randomBytes(12 * MIB + 4321);

  /** A store through the proxy with fast retries, under its own prefix. */
  function storeVia(endpoint: string, options: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
    const store = new S3ObjectStore({
      bucket: emulator.bucket,
      prefix: `faults/run-${n++}`,
      endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
      partSizeBytes: 5 * MIB,
      retryBaseDelayMs: 2,
      throttlingBaseDelayMs: 5,
      retryMaxDelayMs: 40,
      connectionTimeoutMs: 1000,
      ...options,
    });
    stores.push(store);
    return store;
  }

  before(async () => {
    emulator = await startS3Emulator();
    proxy = await startFaultProxy(emulator.endpoint);
  });
  after(async () => {
    for (const store of stores) store.destroy();
    await proxy?.stop();
    await emulator?.stop();
  });

  for (const kind of ['http-500', 'http-503', 'slow-down', 'reset'] as FaultKind[]) {
    it(`every operation succeeds through transient ${kind} faults, data intact`, async () => {
      const store = storeVia(proxy.endpoint, { maxAttempts: 8 });
      proxy.setFault({ kind, every: 3 });
      const small = randomBytes(1000);
      await store.put('small', small);
      await store.put('big/stream', Readable.from(chunksOf(big, 256 * 1024)));
      await store.put('if-absent', Buffer.from('first'), { ifAbsent: true });
      assert.ok((await store.get('small')).equals(small));
      assert.equal(await sha256Of(await store.getStream('big/stream')), sha256(big));
      assert.ok(
        (await store.get('big/stream', { start: 5 * MIB - 10, end: 5 * MIB + 10 })).equals(
          big.subarray(5 * MIB - 10, 5 * MIB + 10),
        ),
      );
      assert.equal((await store.head('big/stream')).size, big.length);
      assert.equal(await store.exists('small'), true);
      assert.equal(await store.exists('nothing'), false);
      assert.deepEqual(await collect(store.list('')), ['big/stream', 'if-absent', 'small']);
      await store.delete(['small', 'nothing']);
      const injected = proxy.faults;
      proxy.setFault(undefined);
      assert.ok(injected >= 5, `only ${injected} faults were injected`);
      assert.deepEqual(await collect(store.list('')), ['big/stream', 'if-absent']);
      assert.equal(await sha256Of(await store.getStream('big/stream')), sha256(big));
      assert.equal((await store.get('if-absent')).toString(), 'first');
    });
  }

  it('resumes a download whose connection breaks mid-body, from the last byte received', async () => {
    const store = storeVia(proxy.endpoint, { maxAttempts: 8 });
    await store.put('big/object', Readable.from(chunksOf(big, MIB)));
    const isObjectGet = ({ method, url }: { method: string; url: string }): boolean =>
      method === 'GET' && !url.includes('list-type');
    proxy.setFault({ kind: 'cut-body', every: 2, match: isObjectGet });
    assert.equal(await sha256Of(await store.getStream('big/object')), sha256(big));
    const range = await store.get('big/object', { start: 1000, end: 3 * MIB });
    assert.ok(range.equals(big.subarray(1000, 3 * MIB)));
    assert.ok(proxy.faults >= 2, `only ${proxy.faults} bodies were cut`);
    proxy.setFault(undefined);
  });

  it('a download that keeps breaking fails on the stream with STORAGE_UNAVAILABLE saying where it broke', async () => {
    const store = storeVia(proxy.endpoint, { maxAttempts: 3 });
    await store.put('flaky', Readable.from(chunksOf(big, MIB)));
    proxy.setFault({
      kind: 'cut-body',
      match: ({ method, url }) => method === 'GET' && !url.includes('list-type'),
    });
    const stream = await store.getStream('flaky');
    await assert.rejects(
      sha256Of(stream),
      expectStorageError(
        'STORAGE_UNAVAILABLE',
        /S3 get of flaky in s3:\/\/.* failed after 3 attempts/,
        /download broke at byte \d+/,
      ),
    );
    assert.equal(proxy.faults, 3);
    proxy.setFault(undefined);
  });

  it('a put whose answer was lost is retried safely: plain puts store once, put-if-absent still succeeds', async () => {
    const store = storeVia(proxy.endpoint, { maxAttempts: 4 });
    const isPut = ({ method }: { method: string }): boolean => method === 'PUT';
    proxy.setFault({ kind: 'lose-answer', times: 1, match: isPut });
    await store.put('plain', Buffer.from('once'));
    assert.equal(proxy.faults, 1);
    // The first attempt created the object; the retry meets it. That is our own write, not a lost race.
    proxy.setFault({ kind: 'lose-answer', times: 1, match: isPut });
    await store.put('lease', Buffer.from('mine'), { ifAbsent: true });
    assert.equal(proxy.faults, 1);
    proxy.setFault(undefined);
    assert.equal((await store.get('plain')).toString(), 'once');
    assert.equal((await store.get('lease')).toString(), 'mine');
    // Someone else's object under the key is still a lost race.
    await assert.rejects(store.put('lease', Buffer.from('theirs'), { ifAbsent: true }), (err: Error) =>
      isPitrError(err, 'STORAGE_PRECONDITION_FAILED'),
    );
  });

  it('once retries run out: STORAGE_UNAVAILABLE naming the store and key, saying what to do; nothing stored', async () => {
    const store = storeVia(proxy.endpoint, { maxAttempts: 3 });
    await store.put('exists', Buffer.from('x'));
    proxy.setFault({ kind: 'http-503' });
    const where = store.describe().replace(/[/.]/g, '\\$&');
    const ops: Array<[string, string | undefined, () => Promise<unknown>]> = [
      ['put', 'new-object', () => store.put('new-object', Buffer.from('data'))],
      ['put', 'new-stream', () => store.put('new-stream', Readable.from(chunksOf(big, MIB)))],
      ['get', 'exists', () => store.get('exists')],
      ['get', 'exists', () => store.getStream('exists')],
      ['head', 'exists', () => store.head('exists')],
      ['head', 'exists', () => store.exists('exists')],
      ['list', undefined, () => collect(store.list(''))],
      ['delete', 'exists', () => store.delete(['exists'])],
    ];
    for (const [op, key, call] of ops) {
      proxy.setFault({ kind: 'http-503' });
      await assert.rejects(
        call(),
        expectStorageError(
          'STORAGE_UNAVAILABLE',
          new RegExp(`S3 ${op}${key === undefined ? '' : ` of ${key}`} in ${where} failed after 3 attempts`),
          /ServiceUnavailable \(HTTP 503\): Service is unable to handle request|HTTP 503 Service Unavailable \(no error details/,
          /Check network access to the endpoint http:\/\/127\.0\.0\.1:\d+\/? and the service's health, then retry/,
        ),
        `${op} ${key ?? ''}`,
      );
    }
    // A one-shot PUT is retried exactly maxAttempts times.
    proxy.setFault({ kind: 'http-503' });
    await assert.rejects(store.put('counted', Buffer.from('x')), expectStorageError('STORAGE_UNAVAILABLE'));
    assert.equal(proxy.requests, 3);
    proxy.setFault(undefined);
    assert.deepEqual(await collect(store.list('')), ['exists']);
  });

  it('connections reset on every attempt: STORAGE_UNAVAILABLE with the connection error', async () => {
    const store = storeVia(proxy.endpoint, { maxAttempts: 3 });
    proxy.setFault({ kind: 'reset' });
    await assert.rejects(
      store.put('k', Buffer.from('x')),
      expectStorageError('STORAGE_UNAVAILABLE', /failed after 3 attempts/, /k in s3:/),
    );
    await assert.rejects(store.get('k'), expectStorageError('STORAGE_UNAVAILABLE', /get of k/));
    proxy.setFault(undefined);
    assert.equal(await store.exists('k'), false);
  });

  it('nothing listening at the endpoint: STORAGE_UNAVAILABLE naming the endpoint', async () => {
    const port = await freePort();
    const store = storeVia(`http://127.0.0.1:${port}`, { maxAttempts: 2 });
    await assert.rejects(
      store.head('k'),
      expectStorageError(
        'STORAGE_UNAVAILABLE',
        /failed after 2 attempts/,
        new RegExp(`endpoint http://127\\.0\\.0\\.1:${port}`),
        /ECONNREFUSED/,
      ),
    );
  });

  it('access denied: STORAGE_ACCESS_DENIED at once (no retries), naming the IAM permission and resource', async () => {
    const store = storeVia(proxy.endpoint, { maxAttempts: 5 });
    const prefix = store.keyPrefix;
    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      [
        'put',
        () => store.put('a/b', Buffer.from('x')),
        new RegExp(`s3:PutObject on arn:aws:s3:::${emulator.bucket}/${prefix}a/b`),
      ],
      ['get', () => store.get('a/b'), /s3:GetObject/],
      [
        'list',
        () => collect(store.list('a/')),
        new RegExp(`s3:ListBucket on arn:aws:s3:::${emulator.bucket}\\.`),
      ],
      ['delete', () => store.delete(['a/b']), /s3:DeleteObject/],
    ];
    for (const [op, call, permission] of cases) {
      proxy.setFault({ kind: 'http-403' });
      await assert.rejects(
        call(),
        expectStorageError('STORAGE_ACCESS_DENIED', /access denied/, /AccessDenied/, permission),
        op,
      );
      assert.equal(proxy.requests, 1, `${op} must not be retried`);
    }
    proxy.setFault(undefined);
  });

  it('a bucket that does not exist: STORAGE_BUCKET_MISSING saying to create it or fix --repo', async () => {
    const store = new S3ObjectStore({
      bucket: 'no-such-bucket',
      prefix: 'p',
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
      retryBaseDelayMs: 2,
    });
    stores.push(store);
    const missing = expectStorageError(
      'STORAGE_BUCKET_MISSING',
      /bucket no-such-bucket does not exist in region us-east-1; create it or fix --repo/,
    );
    await assert.rejects(store.put('k', Buffer.from('x')), missing, 'put');
    await assert.rejects(store.put('s', Readable.from(chunksOf(big, MIB))), missing, 'put stream');
    await assert.rejects(store.get('k'), missing, 'get');
    await assert.rejects(store.head('k'), missing, 'head');
    await assert.rejects(store.exists('k'), missing, 'exists');
    await assert.rejects(collect(store.list('')), missing, 'list');
    await assert.rejects(store.delete(['k']), missing, 'delete');
  });
});
