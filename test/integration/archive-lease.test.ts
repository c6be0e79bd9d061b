/** The repository lease over a real filesystem store (and the S3 emulator's conditional put). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lease, readLease } from '../../src/archiver/index.js';
import { FsObjectStore, openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';

describe('archiver lease', () => {
  let dir: string;
  let s3: S3Emulator;
  const stores: [string, () => ObjectStore][] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-lease-'));
    s3 = await startS3Emulator();
    let n = 0;
    stores.push(['fs', () => new FsObjectStore({ root: join(dir, `r${++n}`) })]);
    stores.push([
      's3',
      () =>
        openObjectStore(`s3://${s3.bucket}/lease${++n}`, {
          endpoint: s3.endpoint,
          region: s3.region,
          credentials: s3.credentials,
        }),
    ]);
  });

  after(async () => {
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ['fs', 's3']) {
    it(`${kind}: one holder at a time; a live holder is refused with LEASE_HELD`, async () => {
      const store = stores.find(([k]) => k === kind)![1]();
      const a = await Lease.acquire(store, {
        source: 'mysql://repl@a:3306',
        host: 'h1',
        pid: 100,
        isProcessAlive: () => true,
      });
      await assert.rejects(
        Lease.acquire(store, { source: 'mysql://repl@b:3306', host: 'h2', pid: 200 }),
        (err: Error & { code?: string }) => err.code === 'LEASE_HELD' && /host h1 pid 100/.test(err.message),
      );
      // same host, but the holder's process is alive: refused too
      await assert.rejects(
        Lease.acquire(store, { source: 's', host: 'h1', pid: 101, isProcessAlive: () => true }),
        {
          code: 'LEASE_HELD',
        },
      );
      await a.release();
      assert.equal(await readLease(store), undefined);
      // released by overwriting, not deleting: the archiver's IAM role has no delete permission
      assert.match((await store.get('locks/archiver.json')).toString(), /"releasedAt"/);
      const b = await Lease.acquire(store, { source: 's', host: 'h2', pid: 200 });
      await b.release();
    });
  }

  it('takes over at once when the holder on this host is dead (kill -9), or when the lease expired', async () => {
    const store = stores[0]![1]();
    await Lease.acquire(store, { source: 's', host: 'h1', pid: 100 }); // never released: "killed"
    const b = await Lease.acquire(store, {
      source: 's',
      host: 'h1',
      pid: 101,
      isProcessAlive: (pid) => pid !== 100,
    });
    assert.equal((await readLease(store))?.owner, b.record.owner);
    // from another host only the expiry counts
    let now = Date.now();
    await assert.rejects(Lease.acquire(store, { source: 's', host: 'h9', pid: 1, now: () => now }), {
      code: 'LEASE_HELD',
    });
    now += 61_000;
    const c = await Lease.acquire(store, { source: 's', host: 'h9', pid: 1, now: () => now });
    // the old holder finds out when it renews, and does not delete the new holder's lease on release
    await assert.rejects(b.renew(), { code: 'LEASE_HELD' });
    await b.release();
    assert.equal((await readLease(store))?.owner, c.record.owner);
    await c.renew();
    await c.release();
  });
});
