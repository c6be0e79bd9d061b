import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';

import { isPitrError } from '../../src/errors/index.js';
import {
  ObjectNotFoundError,
  PreconditionFailedError,
  StorageError,
  compareObjectKeys,
  type ObjectInfo,
  type ObjectStore,
} from '../../src/storage/index.js';

/** What a contract run needs from the implementation under test. */
export interface ContractFixture {
  /** A new, empty store, isolated from every other store this fixture returned. */
  newStore(): Promise<ObjectStore>;
  /**
   * Bytes of put bodies the backend has received so far (across all stores of this fixture):
   * temporary files on disk, request bodies at the S3 endpoint. Used to show that a streamed put
   * does not read far ahead of what it has written (bounded memory).
   */
  bytesReceived(): Promise<number>;
  /** How far a streamed put may read ahead of `bytesReceived` (its buffers: parts in flight). */
  maxReadAheadBytes: number;
  /** Releases everything the fixture opened. */
  close(): Promise<void>;
}

const MIB = 1024 * 1024;

/**
 * Keys whose byte order differs from naive orders: case, "/" vs "-", "." and "0", UTF-8 vs UTF-16
 * above U+FFFF. No key is also a "directory" of another (`a` and `a/b`): see ObjectStore.
 */
const ORDER_KEYS = ['B', 'a-c', 'a.x', 'a/b', 'a/c/d', 'a0', 'ab', 'b.zst', 'é', '\uff01', '\u{1d11e}'];

async function collect(iter: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iter) out.push(info);
  return out;
}

async function keysOf(store: ObjectStore, prefix: string, startAfter?: string): Promise<string[]> {
  return (await collect(store.list(prefix, startAfter === undefined ? {} : { startAfter }))).map(
    (o) => o.key,
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Random bytes the pattern streams are cut from (incompressible; fresh each run). */
const BASE = randomBytes(2 * MIB);

/** Where chunk `i` of a pattern stream starts in BASE: varies per chunk, so reordered or repeated parts show. */
function chunkOffset(i: number): number {
  return (i * 104_729) % MIB;
}

/** A `size`-byte stream of `chunk`-byte pieces (chunk <= 1 MiB) cut from BASE, cheap to produce. */
function* patternChunks(size: number, chunk: number): Generator<Buffer> {
  for (let i = 0, left = size; left > 0; i++, left -= chunk) {
    const off = chunkOffset(i);
    yield BASE.subarray(off, off + Math.min(chunk, left));
  }
}

/** Bytes [start, end) of `patternChunks(size, chunk)`. */
function patternSlice(start: number, end: number, chunk: number): Buffer {
  const out: Buffer[] = [];
  for (let pos = start; pos < end;) {
    const i = Math.floor(pos / chunk);
    const within = pos - i * chunk;
    const n = Math.min(chunk - within, end - pos);
    out.push(BASE.subarray(chunkOffset(i) + within, chunkOffset(i) + within + n));
    pos += n;
  }
  return Buffer.concat(out);
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function assertCode(err: unknown, code: string, key?: string): true {
  assert.ok(isPitrError(err), `expected a PitrError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (key !== undefined)
    assert.ok(err instanceof StorageError && err.key === key, `error should name key ${key}`);
  return true;
}

const INVALID_KEYS = [
  '',
  '/abs',
  'trailing/',
  'a//b',
  './a',
  'a/./b',
  'a/../b',
  '..',
  'nul\u0000byte',
  'new\nline',
  'x'.repeat(1025),
  '.pitr-tmp-sneaky',
  'dir/.pitr-tmp-x',
];

/**
 * The ObjectStore contract (src/storage/object-store.ts), as one suite that every implementation
 * must pass. `open` is called once (before), each test asks the fixture for a fresh store.
 */
export function objectStoreContract(name: string, open: () => Promise<ContractFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fixture: ContractFixture;
    before(async () => {
      fixture = await open();
    });
    after(async () => {
      await fixture?.close();
    });

    it('puts a Buffer and gets it back whole; head and exists see it', async () => {
      const store = await fixture.newStore();
      const body = Buffer.from('hello, repository');
      const t0 = Date.now();
      assert.deepEqual(await store.put('dir/sub/obj.bin', body), {
        key: 'dir/sub/obj.bin',
        size: body.length,
      });
      assert.deepEqual(await store.get('dir/sub/obj.bin'), body);
      const info = await store.head('dir/sub/obj.bin');
      assert.equal(info.key, 'dir/sub/obj.bin');
      assert.equal(info.size, body.length);
      assert.ok(info.lastModified instanceof Date);
      // Second resolution on S3; allow clock slack of a few seconds either way.
      assert.ok(
        Math.abs(info.lastModified.getTime() - t0) < 10_000,
        `lastModified ${info.lastModified.toISOString()}`,
      );
      assert.equal(await store.exists('dir/sub/obj.bin'), true);
      assert.equal(await store.exists('dir/sub/other.bin'), false);
    });

    it('puts a Uint8Array view (with a byte offset), a Readable and an async iterable', async () => {
      const store = await fixture.newStore();
      const backing = new Uint8Array(Buffer.from('xxABCDEFyy'));
      const view = new Uint8Array(backing.buffer, 2, 6);
      assert.equal((await store.put('u8', view)).size, 6);
      assert.equal((await store.get('u8')).toString(), 'ABCDEF');

      const readable = Readable.from([Buffer.from('one,'), Buffer.from('two,'), Buffer.from('three')]);
      assert.equal((await store.put('readable', readable)).size, 13);
      assert.equal((await store.get('readable')).toString(), 'one,two,three');

      async function* gen(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array([1, 2, 3]);
        yield new Uint8Array(0);
        yield Buffer.from([4, 5]);
      }
      assert.equal((await store.put('iterable', gen())).size, 5);
      assert.deepEqual(await store.get('iterable'), Buffer.from([1, 2, 3, 4, 5]));
    });

    it('stores empty objects from a Buffer and from an empty stream', async () => {
      const store = await fixture.newStore();
      assert.equal((await store.put('empty-buf', Buffer.alloc(0))).size, 0);
      assert.equal((await store.put('empty-stream', Readable.from([]))).size, 0);
      for (const key of ['empty-buf', 'empty-stream']) {
        assert.equal((await store.get(key)).length, 0);
        assert.equal((await store.head(key)).size, 0);
        assert.equal((await readAll(await store.getStream(key))).length, 0);
      }
    });

    it('put replaces an existing object (longer and shorter)', async () => {
      const store = await fixture.newStore();
      await store.put('k', Buffer.from('first version'));
      await store.put('k', Buffer.from('second, longer version'));
      assert.equal((await store.get('k')).toString(), 'second, longer version');
      await store.put('k', Readable.from([Buffer.from('3rd')]));
      assert.equal((await store.get('k')).toString(), '3rd');
      assert.equal((await store.head('k')).size, 3);
      assert.deepEqual(await keysOf(store, ''), ['k']);
    });

    it('get and getStream honour byte ranges, clamped to the object, empty past the end', async () => {
      const store = await fixture.newStore();
      const body = Buffer.from('0123456789');
      await store.put('r', body);
      const cases: Array<[{ start: number; end?: number }, string]> = [
        [{ start: 0 }, '0123456789'],
        [{ start: 3 }, '3456789'],
        [{ start: 2, end: 5 }, '234'],
        [{ start: 9, end: 10 }, '9'],
        [{ start: 7, end: 1000 }, '789'],
        [{ start: 4, end: 4 }, ''],
        [{ start: 6, end: 2 }, ''],
        [{ start: 10 }, ''],
        [{ start: 25, end: 30 }, ''],
      ];
      for (const [range, want] of cases) {
        assert.equal((await store.get('r', range)).toString(), want, `get ${JSON.stringify(range)}`);
        assert.equal(
          (await readAll(await store.getStream('r', range))).toString(),
          want,
          `getStream ${JSON.stringify(range)}`,
        );
      }
      assert.equal((await readAll(await store.getStream('r'))).toString(), '0123456789');
      await assert.rejects(store.get('r', { start: -1 }), (err) => assertCode(err, 'USAGE'));
      await assert.rejects(store.getStream('r', { start: 0, end: 1.5 }), (err) => assertCode(err, 'USAGE'));
    });

    it('a missing object: get, getStream and head throw ObjectNotFoundError naming the key, exists is false', async () => {
      const store = await fixture.newStore();
      await store.put('present/child', Buffer.from('x'));
      // "present" is only a prefix of another key: not an object.
      for (const key of ['missing', 'present', 'present/child/deeper', 'present/other']) {
        for (const [op, call] of [
          ['get', () => store.get(key)],
          ['get range', () => store.get(key, { start: 5, end: 5 })],
          ['getStream', () => store.getStream(key)],
          ['head', () => store.head(key)],
        ] as const) {
          await assert.rejects(call(), (err) => {
            assert.ok(err instanceof ObjectNotFoundError, `${op} ${key}: ${String(err)}`);
            assertCode(err, 'OBJECT_NOT_FOUND', key);
            assert.match(
              err.message,
              new RegExp(`${key}.*not found in ${store.describe().replace(/[/.]/g, '\\$&')}`),
            );
            return true;
          });
        }
        assert.equal(await store.exists(key), false, `exists ${key}`);
      }
    });

    it('lists by plain string prefix in UTF-8 byte order, with keys relative to the store', async () => {
      const store = await fixture.newStore();
      for (const key of [...ORDER_KEYS].reverse()) await store.put(key, Buffer.from(key));
      const sorted = [...ORDER_KEYS].sort(compareObjectKeys);
      assert.deepEqual(sorted, ORDER_KEYS, 'the fixture list is itself in byte order');
      const all = await collect(store.list(''));
      assert.deepEqual(
        all.map((o) => o.key),
        ORDER_KEYS,
      );
      for (const info of all) {
        assert.equal(info.size, Buffer.byteLength(info.key));
        assert.ok(info.lastModified instanceof Date);
      }
      assert.deepEqual(await keysOf(store, 'a'), ['a-c', 'a.x', 'a/b', 'a/c/d', 'a0', 'ab']);
      assert.deepEqual(await keysOf(store, 'a/'), ['a/b', 'a/c/d']);
      assert.deepEqual(await keysOf(store, 'a/b'), ['a/b']);
      assert.deepEqual(await keysOf(store, 'a/c'), ['a/c/d']);
      assert.deepEqual(await keysOf(store, 'a/c/'), ['a/c/d']);
      assert.deepEqual(await keysOf(store, 'a/c/d'), ['a/c/d']);
      assert.deepEqual(await keysOf(store, 'b.'), ['b.zst']);
      assert.deepEqual(await keysOf(store, 'é'), ['é']);
    });

    it('keys with spaces, URL-special and non-ASCII characters round-trip through every method', async () => {
      const store = await fixture.newStore();
      const odd = [
        'sp ace/plus+pct%25',
        'q?x=1&y=2#frag',
        'quote\'"<tag>',
        'ünïcødé/日本語.zst',
        'tilde~star*(paren)',
      ];
      for (const key of odd) await store.put(key, Buffer.from(key));
      for (const key of odd) {
        assert.equal((await store.get(key)).toString(), key);
        assert.equal((await store.head(key)).size, Buffer.byteLength(key));
        assert.equal(
          (await readAll(await store.getStream(key, { start: 1 }))).toString(),
          Buffer.from(key).subarray(1).toString(),
        );
      }
      assert.deepEqual(await keysOf(store, ''), [...odd].sort(compareObjectKeys));
      assert.deepEqual(await keysOf(store, 'sp ace/'), ['sp ace/plus+pct%25']);
      await store.delete(odd);
      assert.deepEqual(await keysOf(store, ''), []);
    });

    it('listing a prefix that matches nothing yields nothing', async () => {
      const store = await fixture.newStore();
      assert.deepEqual(await keysOf(store, ''), []);
      await store.put('binlogs/mysql-bin.000001', Buffer.from('x'));
      assert.deepEqual(await keysOf(store, 'nothing/here/'), []);
      assert.deepEqual(await keysOf(store, 'binlogs/mysql-bin.0002'), []);
      assert.deepEqual(await keysOf(store, 'binlogs/mysql-bin.000001/'), []);
      assert.deepEqual(await keysOf(store, 'zzz'), []);
    });

    it('startAfter lists only keys strictly greater in byte order', async () => {
      const store = await fixture.newStore();
      for (const key of ORDER_KEYS) await store.put(key, Buffer.from('.'));
      const after = (k: string): string[] => ORDER_KEYS.filter((x) => compareObjectKeys(x, k) > 0);
      for (const startAfter of [
        'a',
        'a-c',
        'a/',
        'a/b',
        'a/c',
        'a/c/',
        'a/c/d',
        'a/a',
        'a0',
        '',
        'A',
        'é',
        '\u{1d11e}',
        'zzz',
      ]) {
        assert.deepEqual(
          await keysOf(store, '', startAfter),
          after(startAfter),
          `startAfter ${JSON.stringify(startAfter)}`,
        );
      }
      assert.deepEqual(await keysOf(store, 'a', 'a-c'), ['a.x', 'a/b', 'a/c/d', 'a0', 'ab']);
      assert.deepEqual(await keysOf(store, 'a/', 'a/b'), ['a/c/d']);
    });

    it('lists and deletes more than 1,000 keys (pagination and delete batches), missing keys included', async () => {
      const store = await fixture.newStore();
      const keys = Array.from({ length: 1234 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 64) {
        await Promise.all(keys.slice(i, i + 64).map((k) => store.put(k, Buffer.from(k))));
      }
      await store.put('other', Buffer.from('stays'));
      const listed = await keysOf(store, 'many/');
      assert.equal(listed.length, keys.length);
      assert.deepEqual(listed, keys);
      assert.deepEqual(await keysOf(store, 'many/', keys[999]), keys.slice(1000));

      const missing = ['many/99999', 'never/was/here'];
      await store.delete([...keys, ...missing]);
      assert.deepEqual(await keysOf(store, ''), ['other']);
      assert.equal(await store.exists(keys[0]!), false);
      await store.delete([]);
      await store.delete(['other', 'other']);
      assert.deepEqual(await keysOf(store, ''), []);
    });

    it('put-if-absent stores a new key and refuses an existing one, leaving it unchanged', async () => {
      const store = await fixture.newStore();
      assert.equal((await store.put('lease', Buffer.from('mine'), { ifAbsent: true })).size, 4);
      for (const body of [Buffer.from('theirs'), Readable.from([Buffer.from('theirs')])]) {
        await assert.rejects(store.put('lease', body, { ifAbsent: true }), (err) => {
          assert.ok(err instanceof PreconditionFailedError, String(err));
          assertCode(err, 'STORAGE_PRECONDITION_FAILED', 'lease');
          assert.match(err.message, /already exists/);
          return true;
        });
      }
      assert.equal((await store.get('lease')).toString(), 'mine');
      // A plain put still replaces.
      await store.put('lease', Buffer.from('replaced'));
      assert.equal((await store.get('lease')).toString(), 'replaced');
    });

    it('put-if-absent from concurrent writers: exactly one wins when the store says it is atomic', async (t) => {
      const store = await fixture.newStore();
      if (!store.supportsConditionalPut) {
        t.skip('store does not claim atomic put-if-absent');
        return;
      }
      const writers = Array.from({ length: 8 }, (_, i) => `writer-${i}`);
      const results = await Promise.allSettled(
        writers.map((w) => store.put('race', Buffer.from(w), { ifAbsent: true })),
      );
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [writers[i]] : []));
      assert.equal(won.length, 1, `winners: ${won.join(', ')}`);
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof PreconditionFailedError, String(r.reason));
      }
      assert.equal((await store.get('race')).toString(), won[0]);
    });

    it('rejects invalid keys and prefixes with USAGE before any I/O', async () => {
      const store = await fixture.newStore();
      for (const key of INVALID_KEYS) {
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['put', () => store.put(key, Buffer.from('x'))],
          ['get', () => store.get(key)],
          ['getStream', () => store.getStream(key)],
          ['head', () => store.head(key)],
          ['exists', () => store.exists(key)],
          ['delete', () => store.delete(['fine', key])],
        ];
        for (const [op, call] of calls) {
          await assert.rejects(call(), (err) => assertCode(err, 'USAGE'), `${op} ${JSON.stringify(key)}`);
        }
      }
      for (const prefix of ['/abs', 'a//', '../x', 'a/../', 'nul\u0000']) {
        await assert.rejects(
          collect(store.list(prefix)),
          (err) => assertCode(err, 'USAGE'),
          `list ${JSON.stringify(prefix)}`,
        );
      }
      assert.deepEqual(await keysOf(store, ''), []);
    });

    it('refuses a Readable that was already read from (a retry must open a fresh stream)', async () => {
      const store = await fixture.newStore();
      const used = Readable.from([Buffer.from('abc'), Buffer.from('def')]);
      used.read();
      await assert.rejects(store.put('used', used), (err) => assertCode(err, 'USAGE', 'used'));
      assert.equal(await store.exists('used'), false);
    });

    it('streams an object larger than one multipart part intact, reading ahead only a bounded amount', async () => {
      const store = await fixture.newStore();
      const size = 48 * MIB + 12_345;
      const hash = createHash('sha256');
      const received0 = await fixture.bytesReceived();
      let produced = 0;
      let maxLead = 0;
      let nextProbe = 0;
      async function* source(): AsyncGenerator<Buffer> {
        for (const chunk of patternChunks(size, 256 * 1024)) {
          if (produced >= nextProbe) {
            const lead = produced - ((await fixture.bytesReceived()) - received0);
            maxLead = Math.max(maxLead, lead);
            nextProbe += 2 * MIB;
          }
          hash.update(chunk);
          produced += chunk.length;
          yield chunk;
        }
      }
      assert.equal((await store.put('big/object.bin', source())).size, size);
      const want = hash.digest('hex');
      assert.ok(
        maxLead <= fixture.maxReadAheadBytes,
        `put read ${(maxLead / MIB).toFixed(1)} MiB ahead of what it wrote (bound ${fixture.maxReadAheadBytes / MIB} MiB)`,
      );
      assert.equal((await store.head('big/object.bin')).size, size);
      const got = createHash('sha256');
      let n = 0;
      for await (const chunk of await store.getStream('big/object.bin')) {
        got.update(chunk as Buffer);
        n += (chunk as Buffer).length;
      }
      assert.equal(n, size);
      assert.equal(got.digest('hex'), want);
      // Ranges that span part boundaries (5 MiB and 8 MiB are common part sizes) and the tail.
      for (const start of [5 * MIB - 100, 8 * MIB - 1, size - 77]) {
        const slice = await store.get('big/object.bin', { start, end: start + 200 });
        assert.equal(
          sha256(slice),
          sha256(patternSlice(start, Math.min(size, start + 200), 256 * 1024)),
          `range at ${start}`,
        );
      }
    });

    it('a stream that errors midway fails the put and stores nothing (and leaves an old object intact)', async () => {
      const store = await fixture.newStore();
      await store.put('victim', Buffer.from('old and intact'));
      for (const [key, failAt] of [
        ['fresh', 3 * MIB],
        ['victim', 3 * MIB],
        ['fresh-large', 13 * MIB],
      ] as const) {
        const boom = new Error(`source broke at ${failAt}`);
        async function* source(): AsyncGenerator<Buffer> {
          let sent = 0;
          for (const chunk of patternChunks(64 * MIB, MIB)) {
            if (sent >= failAt) throw boom;
            sent += chunk.length;
            yield chunk;
          }
        }
        await assert.rejects(store.put(key, source()), (err) => {
          // The caller's own error comes back (not a storage error: the store did nothing wrong).
          assert.equal(err, boom);
          return true;
        });
      }
      assert.equal(await store.exists('fresh'), false);
      assert.equal(await store.exists('fresh-large'), false);
      assert.equal((await store.get('victim')).toString(), 'old and intact');
      assert.deepEqual(await keysOf(store, ''), ['victim']);
    });

    it('a destroyed Readable fails the put and stores nothing', async () => {
      const store = await fixture.newStore();
      const stream = new Readable({ read() {} });
      stream.push(Buffer.alloc(1024, 1));
      setImmediate(() => stream.destroy(new Error('upstream connection reset')));
      await assert.rejects(store.put('half', stream), /upstream connection reset/);
      assert.equal(await store.exists('half'), false);
      assert.deepEqual(await keysOf(store, ''), []);
    });

    it('describe() names the store without secrets and never throws', async () => {
      const store = await fixture.newStore();
      const text = store.describe();
      assert.match(text, /^(file|s3):\/\//);
      assert.doesNotMatch(text, /secret|password/i);
    });
  });
}
