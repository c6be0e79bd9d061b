/**
 * Storage faults: the archiver (archiveBinlogs, in process) over a real filesystem store that fails
 * a share of uploads, then all of them for a while, against a real MariaDB under load. Nothing is
 * lost: afterwards the archive rebuilds every binlog byte for byte.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { archiveBinlogs } from '../../src/archiver/index.js';
import { fetchArchivedBinlogs, readArchiveStatus } from '../../src/maintenance/index.js';
import {
  FsObjectStore,
  StorageError,
  type ByteRange,
  type ListOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutBody,
  type PutOptions,
  type PutResult,
} from '../../src/storage/index.js';
import { LOG_EVENT_BINLOG_IN_USE_F, OFFSET_FLAGS } from '../../src/binlog/event-header.js';

/** A real store whose segment uploads fail on demand, as S3 does with 503s. */
class FailingStore implements ObjectStore {
  failShare = 0;
  down = false;
  failures = 0;
  puts = 0;
  constructor(private readonly inner: ObjectStore) {}
  get supportsConditionalPut(): boolean {
    return this.inner.supportsConditionalPut;
  }
  async put(key: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
    if (key.startsWith('binlogs/')) {
      this.puts += 1;
      if (this.down || Math.random() < this.failShare) {
        this.failures += 1;
        throw new StorageError('STORAGE_UNAVAILABLE', `injected failure for ${key}`, {
          store: this.describe(),
          key,
        });
      }
    }
    return await this.inner.put(key, body, opts);
  }
  get(key: string, range?: ByteRange): Promise<Buffer> {
    return this.inner.get(key, range);
  }
  getStream(key: string, range?: ByteRange): Promise<Readable> {
    return this.inner.getStream(key, range);
  }
  head(key: string): Promise<ObjectInfo> {
    return this.inner.head(key);
  }
  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }
  list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix, opts);
  }
  delete(keys: readonly string[]): Promise<void> {
    return this.inner.delete(keys);
  }
  describe(): string {
    return `failing(${this.inner.describe()})`;
  }
}

interface BinaryLog {
  Log_name: string;
}

describe('archiver under storage faults', () => {
  let server: MariadbServer;
  let work: string;

  before(async () => {
    server = await startMariadb({ maxBinlogSize: '1M' });
    work = await mkdtemp(join(tmpdir(), 'pitr-archive-faults-'));
  });

  after(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('loses nothing when 30% of uploads fail, then when storage is down for 3 s under load', async () => {
    const store = new FailingStore(new FsObjectStore({ root: join(work, 'repo') }));
    store.failShare = 0.3;
    const controller = new AbortController();
    const metrics: string[] = [];
    const archiving = archiveBinlogs({
      source: {
        host: server.host,
        port: server.port,
        user: server.repl.user,
        password: server.repl.password,
      },
      sourceAddress: server.url('repl'),
      store,
      flushIntervalMs: 50,
      segmentSize: 64 * 1024,
      storageRetryDelayMs: { initial: 20, max: 200 },
      signal: controller.signal,
      metrics: (l) => metrics.push(l),
    });
    const conn = await server.connect();
    try {
      await runWorkload(conn, {
        seed: 1,
        database: 'f1',
        transactions: 800,
        bigTransactions: 1,
        bigTransactionBytes: 300 * 1024,
        flushBinaryLogsAt: [0.5],
      });
      store.failShare = 0;
      store.down = true;
      const outage = runWorkload(conn, {
        seed: 2,
        database: 'f2',
        transactions: 600,
        bigTransactions: 1,
        bigTransactionBytes: 2 * 1024 * 1024,
      });
      await sleep(3000);
      store.down = false;
      await outage;
    } finally {
      await conn.end();
    }
    // wait until everything the source has is durable
    const [master] = await server.query<{ File: string; Position: string }[]>('SHOW MASTER STATUS');
    let durable = '';
    for (let i = 0; i < 200; i++) {
      const s = await readArchiveStatus(store);
      durable = `${s.lastDurable?.file}:${s.lastDurable?.position}`;
      if (durable === `${master!.File}:${master!.Position}`) break;
      await sleep(100);
    }
    controller.abort();
    const result = await archiving;
    assert.equal(result.stopped, true);
    assert.equal(durable, `${master!.File}:${master!.Position}`);
    assert.ok(metrics.length > 20, `${metrics.length} segments stored`);
    assert.ok(store.failures > 10, `only ${store.failures} injected failures of ${store.puts} puts`);

    const dest = join(work, 'fetched');
    const fetched = await fetchArchivedBinlogs({ store, dest });
    const logs = await server.query<BinaryLog[]>('SHOW BINARY LOGS');
    assert.deepEqual(
      fetched.map((f) => f.file),
      logs.map((l) => l.Log_name),
    );
    for (const [i, log] of logs.entries()) {
      const source = await readFile(join(server.binlogDir, log.Log_name));
      const copy = await readFile(join(dest, log.Log_name));
      if (i === logs.length - 1) {
        // the active file: the source's in-use bit is clear in the copy
        source.writeUInt8(source.readUInt8(4 + OFFSET_FLAGS) & ~LOG_EVENT_BINLOG_IN_USE_F, 4 + OFFSET_FLAGS);
      }
      assert.ok(copy.equals(source), `${log.Log_name} differs`);
    }
    assert.deepEqual(
      (await readdir(dest)).filter((f) => f.endsWith('.partial')),
      [],
    );
  });
});
