/**
 * No rewrites: the archiver takes the timeline ids in use from every prefix that holds them
 * (binlogs/, timelines/, gaps/), so a lost timeline record never makes it reuse an id and write
 * into that timeline's keys; and segment keys are stored with put-if-absent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timelineIdsUnder } from '../../src/archiver/read-repository-state.js';
import { FsObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli } from '../support/run-cli.js';
import { assertBinlogsIdentical } from '../support/binlog-compare.js';

async function snapshot(store: ObjectStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const o of store.list('')) {
    out.set(
      o.key,
      createHash('sha256')
        .update(await store.get(o.key))
        .digest('hex'),
    );
  }
  return out;
}

describe('archiver timeline ids and no rewrites', () => {
  let server: MariadbServer;
  let work: string;

  before(async () => {
    server = await startMariadb({ maxBinlogSize: '1M' });
    work = await mkdtemp(join(tmpdir(), 'pitr-archive-tlids-'));
  });

  after(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a deleted timeline record and a changed source: a new timeline id, no existing object rewritten', async () => {
    const root = join(work, 'repo');
    const repo = `file://${root}`;
    const store = new FsObjectStore({ root });
    const env = { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: server.repl.password };
    const archive = (): ReturnType<typeof runCli> =>
      runCli(['archive', '--source', server.url('repl'), '--repo', repo, '--until-caught-up'], { env });
    const conn = await server.connect();
    try {
      await runWorkload(conn, { seed: 1, database: 'tl1', transactions: 300, bigTransactions: 0 });
      const first = await archive();
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /on timeline 000001/);

      // the record of timeline 000001 is lost; the source's history is reset (the same file names
      // again, with other bytes: exactly the keys of timeline 000001 if its id were reused)
      await store.delete(['timelines/000001.json']);
      const before = await snapshot(store);
      await conn.query('RESET MASTER');
      await runWorkload(conn, { seed: 2, database: 'tl2', transactions: 300, bigTransactions: 0 });

      assert.deepEqual(await timelineIdsUnder(store, 'binlogs/'), ['000001']);
      const second = await archive();
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /on timeline 000002/);
      assert.match(second.stderr, /timeline 000001 has no record/);

      const now = await snapshot(store);
      for (const [key, hash] of before) {
        if (key.startsWith('locks/')) continue; // the lease, not archive data
        assert.equal(now.get(key), hash, `${key} was rewritten or removed`);
      }
      assert.ok([...now.keys()].some((k) => k.startsWith('binlogs/000002/')));
      assert.deepEqual(await timelineIdsUnder(store, 'binlogs/'), ['000001', '000002']);

      const dest = join(work, 'fetched');
      const f = await runCli(
        ['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo, '--timeline', '000002'],
        {
          env,
        },
      );
      assert.equal(f.code, 0, f.stderr);
      await assertBinlogsIdentical(server, dest);
    } finally {
      await conn.end();
    }
  });
});
