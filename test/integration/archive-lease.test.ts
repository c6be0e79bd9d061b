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
    it(`${kind}: one holder at a time; a holder that renews is refused with LEASE_HELD`, async () => {
      const store = stores.find(([k]) => k === kind)![1]();
      const a = await Lease.acquire(store, {
        fencing: true,
        source: 'mysql://repl@a:3306',
        host: 'h1',
        pid: 100,
        // a renews every ttl/3 and the others watch its record for their own ttl: long enough that a
        // loaded machine's slow renewal is neither a lost lease nor a takeover (600 ms was not)
        ttlMs: 3_000,
        isProcessAlive: () => true,
      });
      a.keepAlive(() => assert.fail('a lost its lease'));
      await assert.rejects(
        Lease.acquire(store, {
          fencing: true,
          source: 'mysql://repl@b:3306',
          host: 'h2',
          pid: 200,
          ttlMs: 3_000,
        }),
        (err: Error & { code?: string }) => err.code === 'LEASE_HELD' && /host h1 pid 100/.test(err.message),
      );
      // same host, but the holder's process is alive: refused too
      await assert.rejects(
        Lease.acquire(store, {
          fencing: true,
          source: 's',
          host: 'h1',
          pid: 101,
          ttlMs: 3_000,
          isProcessAlive: () => true,
        }),
        { code: 'LEASE_HELD' },
      );
      assert.equal(a.epoch, 1);
      await a.release();
      assert.equal(await readLease(store), undefined);
      // released by overwriting, not deleting: the archiver's IAM role has no delete permission
      assert.match((await store.get('locks/archiver.json')).toString(), /"releasedAt"/);
      const b = await Lease.acquire(store, { fencing: true, source: 's', host: 'h2', pid: 200 });
      assert.equal(b.epoch, 2, 'every holder has a new epoch');
      await b.release();
    });

    it(`${kind}: two archivers taking a free lease at the same moment: exactly one gets it`, async () => {
      const store = stores.find(([k]) => k === kind)![1]();
      const results = await Promise.allSettled(
        [1, 2, 3].map((pid) => Lease.acquire(store, { fencing: true, source: 's', host: `h${pid}`, pid })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)));
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'LEASE_HELD');
      }
      await (won[0] as PromiseFulfilledResult<Lease>).value.release();
    });
  }

  it('takes over at once when the holder on this host is dead (kill -9); from another host after a ttl unchanged on its own clock', async () => {
    const store = stores[0]![1]();
    await Lease.acquire(store, { fencing: true, source: 's', host: 'h1', pid: 100 }); // never released: "killed"
    const b = await Lease.acquire(store, {
      fencing: true,
      source: 's',
      host: 'h1',
      pid: 101,
      ttlMs: 300,
      isProcessAlive: (pid) => pid !== 100,
    });
    assert.equal((await readLease(store))?.owner, b.record.owner);
    // another host: b's record claims validity for hours by the wall clock; only its own
    // monotonic clock counts, and b does not renew
    const farFuture = Date.now() + 3_600_000;
    await store.put(
      'locks/archiver.json',
      Buffer.from(JSON.stringify({ ...b.record, expiresAt: new Date(farFuture).toISOString() })),
    );
    // c waits one ttl of its own before taking over, then must renew below: not 300 ms on a loaded machine
    const c = await Lease.acquire(store, { fencing: true, source: 's', host: 'h9', pid: 1, ttlMs: 2_000 });
    assert.equal(c.epoch, b.epoch + 1);
    // the old holder finds out when it renews or writes, and does not touch the new holder's lease on release
    await assert.rejects(b.renew(), { code: 'LEASE_HELD' });
    assert.throws(() => b.assertValid('store a segment'), { code: 'LEASE_HELD' });
    await b.release();
    assert.equal((await readLease(store))?.owner, c.record.owner);
    await c.renew();
    await c.release();
  });

  it('fences itself: a holder whose renewals failed (or that was paused) for a ttl writes nothing more', async () => {
    const store = stores[0]![1]();
    let mono = 0;
    const a = await Lease.acquire(store, {
      fencing: true,
      source: 's',
      host: 'h1',
      pid: 100,
      ttlMs: 1000,
      monotonicNow: () => mono,
    });
    mono = 900;
    a.assertValid('store a segment');
    await a.renew(); // confirmed at 900: valid until 1900
    mono = 1800;
    a.assertValid('store a segment');
    mono = 1901;
    assert.equal(a.valid, false);
    assert.throws(
      () => a.assertValid('store a segment'),
      (err: Error & { code?: string }) =>
        err.code === 'LEASE_HELD' && /longer than its ttl/.test(err.message),
    );
    const before = (await store.get('locks/archiver.json')).toString();
    await assert.rejects(a.renew(), { code: 'LEASE_HELD' });
    await a.release();
    assert.equal(
      (await store.get('locks/archiver.json')).toString(),
      before,
      'an expired holder writes nothing',
    );
  });
});
