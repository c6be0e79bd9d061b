import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { DeleteObjectsCommand, S3Client } from '@aws-sdk/client-s3';

import { PreconditionFailedError } from '../../src/storage/index.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.js';
import { objectStoreContract } from '../support/object-store-contract.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';

const MIB = 1024 * 1024;

objectStoreContract('S3ObjectStore (fauxqs emulator)', async () => {
  const emulator = await startS3Emulator();
  const stores: S3ObjectStore[] = [];
  let n = 0;
  return {
    newStore: async () => {
      const store = new S3ObjectStore({
        bucket: emulator.bucket,
        prefix: `contract/run-${n++}`,
        endpoint: emulator.endpoint,
        region: emulator.region,
        credentials: emulator.credentials,
        partSizeBytes: 5 * MIB,
        queueSize: 2,
        retryBaseDelayMs: 10,
      });
      stores.push(store);
      return store;
    },
    bytesReceived: async () => emulator.bytesReceived,
    // Parts in flight (queueSize) plus the one being filled, plus stream buffers.
    maxReadAheadBytes: 16 * MIB,
    close: async () => {
      for (const store of stores) store.destroy();
      await emulator.stop();
    },
  };
});

describe('S3ObjectStore on the emulator: S3-specific behaviour', () => {
  let emulator: S3Emulator;
  const stores: S3ObjectStore[] = [];
  let n = 0;
  const storeOn = (options: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore => {
    const store = new S3ObjectStore({
      bucket: emulator.bucket,
      prefix: `specific/run-${n++}`,
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
      partSizeBytes: 5 * MIB,
      ...options,
    });
    stores.push(store);
    return store;
  };
  const count = (method: string, pattern: RegExp): number =>
    emulator.requests.filter((r) => r.method === method && pattern.test(r.url)).length;

  before(async () => {
    emulator = await startS3Emulator();
  });
  after(async () => {
    for (const store of stores) store.destroy();
    await emulator?.stop();
  });

  it('the emulator, like S3, refuses DeleteObjects with more than 1,000 keys', async () => {
    const s3 = new S3Client({
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
      forcePathStyle: true,
    });
    try {
      const objects = Array.from({ length: 1001 }, (_, i) => ({ Key: `k${i}` }));
      await assert.rejects(
        s3.send(new DeleteObjectsCommand({ Bucket: emulator.bucket, Delete: { Objects: objects } })),
        (err: Error) => err.name === 'MalformedXML',
      );
    } finally {
      s3.destroy();
    }
  });

  it('lists 2,345 keys in 3 pages and deletes them in 3 batches', async () => {
    const store = storeOn();
    const keys = Array.from({ length: 2345 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 100)
      await Promise.all(keys.slice(i, i + 100).map((k) => store.put(k, Buffer.from('.'))));
    emulator.clearRequests();
    let listed = 0;
    for await (const _ of store.list('k/')) listed++;
    assert.equal(listed, keys.length);
    assert.equal(count('GET', /list-type=2/), 3);
    await store.delete(keys);
    assert.equal(count('POST', /\?delete/), 3);
    for await (const info of store.list('')) assert.fail(`left behind: ${info.key}`);
  });

  it('streams go up as multipart uploads; a failed stream aborts its upload', async () => {
    const store = storeOn();
    emulator.clearRequests();
    const part = Buffer.alloc(MIB, 7);
    await store.put('multi', Readable.from(Array.from({ length: 11 }, () => part)));
    assert.equal(count('PUT', /partNumber=/), 3);
    assert.equal(count('POST', /\?uploads/), 1);
    // A Buffer larger than one part is uploaded in parts too (PutObject takes at most 5 GiB).
    emulator.clearRequests();
    await store.put('big-buffer', Buffer.alloc(6 * MIB, 1));
    assert.equal(count('PUT', /partNumber=/), 2);
    assert.equal((await store.head('big-buffer')).size, 6 * MIB);

    emulator.clearRequests();
    async function* failing(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 8; i++) yield part;
      throw new Error('source died');
    }
    await assert.rejects(store.put('failed', failing()), /source died/);
    assert.equal(count('DELETE', /uploadId=/), 1, 'AbortMultipartUpload was sent');
    assert.equal(await store.exists('failed'), false);
  });

  it('without conditional-put support, put-if-absent checks with HEAD first', async () => {
    const store = storeOn({ conditionalPut: false });
    assert.equal(store.supportsConditionalPut, false);
    await store.put('lease', Buffer.from('a'), { ifAbsent: true });
    await assert.rejects(store.put('lease', Buffer.from('b'), { ifAbsent: true }), PreconditionFailedError);
    assert.equal((await store.get('lease')).toString(), 'a');
    emulator.clearRequests();
    await store.put('other', Buffer.from('c'), { ifAbsent: true });
    assert.equal(count('HEAD', /other/), 1);
    const put = emulator.requests.find((r) => r.method === 'PUT');
    assert.ok(put, 'a PUT was sent');
  });

  it('a store at the bucket root lists keys without any prefix; describe() shows the URL', async () => {
    await emulator.createBucket('rooted');
    const store = new S3ObjectStore({
      bucket: 'rooted',
      endpoint: emulator.endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
    });
    stores.push(store);
    assert.equal(store.describe(), 's3://rooted/');
    await store.put('top', Buffer.from('1'));
    await store.put('dir/inner', Buffer.from('2'));
    const keys: string[] = [];
    for await (const info of store.list('')) keys.push(info.key);
    assert.deepEqual(keys, ['dir/inner', 'top']);
    const prefixed = storeOn({ bucket: 'rooted', prefix: 'dir' });
    assert.equal(prefixed.describe(), 's3://rooted/dir');
    assert.equal((await prefixed.get('inner')).toString(), '2');
  });
});
