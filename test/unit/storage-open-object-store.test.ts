import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isPitrError } from '../../src/errors/index.js';
import { FsObjectStore, LazyS3ObjectStore, openObjectStore } from '../../src/storage/index.js';

function configInvalid(...patterns: RegExp[]): (err: unknown) => true {
  return (err) => {
    assert.ok(isPitrError(err, 'CONFIG_INVALID'), String(err));
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}

describe('openObjectStore', () => {
  it('opens file:/// URLs and absolute paths as FsObjectStore', () => {
    const a = openObjectStore('file:///var/lib/pitr/repo');
    assert.ok(a instanceof FsObjectStore);
    assert.equal(a.root, '/var/lib/pitr/repo');
    assert.equal(a.describe(), 'file:///var/lib/pitr/repo');
    const b = openObjectStore('/srv/pitr%20repo/');
    assert.ok(b instanceof FsObjectStore);
    assert.equal(b.root, '/srv/pitr%20repo');
    const c = openObjectStore('file:///srv/with%20space');
    assert.ok(c instanceof FsObjectStore);
    assert.equal(c.root, '/srv/with space');
  });

  it('opens s3://bucket/prefix as a lazily loaded S3ObjectStore with the given region, endpoint and credentials', () => {
    const store = openObjectStore('s3://my-backups/pitr/orders/', {
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4566',
      credentials: { accessKeyId: 'AKIA', secretAccessKey: 'shh' },
    });
    assert.ok(store instanceof LazyS3ObjectStore);
    assert.equal(store.bucket, 'my-backups');
    assert.equal(store.keyPrefix, 'pitr/orders/');
    assert.equal(store.describe(), 's3://my-backups/pitr/orders');
    assert.doesNotMatch(store.describe(), /shh/);
    store.destroy();
    const root = openObjectStore('s3://my-backups');
    assert.ok(root instanceof LazyS3ObjectStore);
    assert.equal(root.keyPrefix, '');
    root.destroy();
  });

  it('refuses other schemes, relative paths, bad bucket names and query strings, redacting secrets', () => {
    assert.throws(
      () => openObjectStore('gs://bucket/x'),
      configInvalid(/unsupported scheme/, /file:\/\/\/absolute\/path or s3:\/\/bucket\/prefix/),
    );
    assert.throws(() => openObjectStore('relative/path'), configInvalid(/unsupported scheme/));
    assert.throws(() => openObjectStore('file://host/path'), configInvalid(/three slashes/));
    assert.throws(() => openObjectStore('s3://Bad_Bucket/x'), configInvalid(/valid bucket name/));
    assert.throws(() => openObjectStore('s3://ok-bucket/x?versionId=1'), configInvalid(/query string/));
    assert.throws(
      () => openObjectStore('https://user:hunter2@example.com/x'),
      (err: Error) =>
        configInvalid(/https:\/\/user:\*\*\*@example\.com/)(err) && !err.message.includes('hunter2'),
    );
    assert.throws(
      () => openObjectStore('s3://b/../etc'),
      (err) => isPitrError(err, 'USAGE', 'CONFIG_INVALID'),
    );
  });
});
