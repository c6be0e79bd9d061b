/**
 * A request body damaged on the way to S3: the SDK sends the CRC32 of what it read
 * (`x-amz-checksum-crc32`), S3 (here the emulator, which checks it as S3 does) computes it over what
 * it received and answers 400 BadDigest, storing nothing. The fault proxy inverts one byte of the
 * body between the SDK and the emulator. S3ObjectStore sends the same bytes again; when every
 * attempt is damaged it fails with STORAGE_UNAVAILABLE saying what happened, not INTERNAL.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

import { ExitCode, exitCodeFor } from '../../src/errors/index.js';
import { StorageError } from '../../src/storage/index.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';

const MIB = 1024 * 1024;
const isPut = (r: { method: string }): boolean => r.method === 'PUT';

describe('S3ObjectStore: a body damaged on the way (BadDigest)', () => {
  let emulator: S3Emulator;
  let proxy: FaultProxy;
  const stores: S3ObjectStore[] = [];
  let n = 0;

  function storeVia(endpoint: string, options: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore {
    const store = new S3ObjectStore({
      bucket: emulator.bucket,
      prefix: `digest/run-${n++}`,
      endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
      partSizeBytes: 5 * MIB,
      retryBaseDelayMs: 2,
      retryMaxDelayMs: 20,
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

  it('the emulator answers BadDigest to a body that does not match its Content-MD5 or CRC32, as S3 does', async () => {
    const s3 = new S3Client({
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
      forcePathStyle: true,
    });
    try {
      const wrongMd5 = createHash('md5').update('other').digest('base64');
      await assert.rejects(
        s3.send(
          new PutObjectCommand({ Bucket: emulator.bucket, Key: 'md5', Body: 'data', ContentMD5: wrongMd5 }),
        ),
        (err: Error & { $metadata?: { httpStatusCode?: number } }) =>
          err.name === 'BadDigest' &&
          err.$metadata?.httpStatusCode === 400 &&
          /Content-MD5/.test(err.message),
      );
      const rightMd5 = createHash('md5').update('data').digest('base64');
      await s3.send(
        new PutObjectCommand({ Bucket: emulator.bucket, Key: 'md5', Body: 'data', ContentMD5: rightMd5 }),
      );
    } finally {
      s3.destroy();
    }
  });

  it('damaged once: the put is sent again and stores the right bytes', async () => {
    const store = storeVia(proxy.endpoint);
    const data = randomBytes(64 * 1024);
    proxy.setFault({ kind: 'flip-body-byte', times: 1, match: isPut });
    await store.put('once', data);
    assert.equal(proxy.faults, 1);
    assert.equal(proxy.requests, 2, 'the damaged attempt and one retry');
    proxy.setFault(undefined);
    assert.ok((await store.get('once')).equals(data));
  });

  it('one damaged part of a streamed multipart upload is sent again; the object is whole', async () => {
    const store = storeVia(proxy.endpoint);
    const data = randomBytes(11 * MIB + 123);
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += MIB) chunks.push(data.subarray(i, i + MIB));
    proxy.setFault({ kind: 'flip-body-byte', times: 1, match: isPut });
    await store.put('parts', Readable.from(chunks));
    assert.equal(proxy.faults, 1);
    proxy.setFault(undefined);
    assert.ok((await store.get('parts')).equals(data));
  });

  it('damaged on every attempt: STORAGE_UNAVAILABLE saying the bytes were damaged on the way, nothing stored', async () => {
    const store = storeVia(proxy.endpoint, { maxAttempts: 3 });
    proxy.setFault({ kind: 'flip-body-byte', match: isPut });
    await assert.rejects(store.put('always', randomBytes(4096)), (err: unknown) => {
      assert.ok(err instanceof StorageError, String(err));
      assert.equal(err.code, 'STORAGE_UNAVAILABLE');
      assert.equal(exitCodeFor(err.code), ExitCode.STORAGE);
      assert.equal(err.key, 'always');
      assert.equal(err.store, store.describe());
      assert.match(
        err.message,
        /S3 put of always in s3:\/\/pitr-test\/digest\/run-\d+ failed after 3 attempts/,
      );
      assert.match(
        err.message,
        /did not match the checksum sent with them \(BadDigest: The CRC32 you specified/,
      );
      assert.match(err.message, /damaged on the way and S3 stored nothing/);
      assert.match(err.message, /Check the network path to the endpoint http:\/\/127\.0\.0\.1:\d+/);
      assert.match(err.message, /the operation is safe to repeat/);
      return true;
    });
    assert.equal(proxy.faults, 3, 'each of the 3 attempts was sent and damaged');
    proxy.setFault(undefined);
    assert.equal(await store.exists('always'), false);
  });
});
