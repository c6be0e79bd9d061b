/**
 * Fencing: archiver A is frozen (SIGSTOP) past its lease while the source goes on writing;
 * archiver B takes the lease over (judging the expiry on its own clock) and archives. When A
 * resumes (SIGCONT) with unflushed events in its socket, it must not change the repository: no
 * object written after the takeover is A's. Then B's archive is byte-complete. file:// and S3.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSegmentHeader } from '../../src/catalog/index.js';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli } from '../support/run-cli.js';
import { assertBinlogsIdentical } from '../support/binlog-compare.js';
import { startArchiver } from '../support/archiver-process.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';

async function masterStatus(server: MariadbServer): Promise<{ file: string; position: number }> {
  const [row] = await server.query<{ File: string; Position: string | number }[]>('SHOW MASTER STATUS');
  return { file: row!.File, position: Number(row!.Position) };
}

/** Every object of the repository and the SHA-256 of its content. */
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

describe('archiver fencing (SIGSTOP past the lease, takeover, SIGCONT)', () => {
  let server: MariadbServer;
  let s3: S3Emulator;
  let work: string;
  let round = 0;

  before(async () => {
    server = await startMariadb({ maxBinlogSize: '1M' });
    s3 = await startS3Emulator();
    work = await mkdtemp(join(tmpdir(), 'pitr-archive-fencing-'));
  });

  after(async () => {
    await s3?.stop();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const kind of ['file', 's3'] as const) {
    it(`${kind}: the paused holder cannot change the repository after the takeover`, async () => {
      round += 1;
      const repo =
        kind === 'file' ? `file://${join(work, `repo${round}`)}` : `s3://${s3.bucket}/fencing${round}`;
      const s3Args = kind === 's3' ? ['--s3-endpoint', s3.endpoint, '--region', s3.region] : [];
      const store =
        kind === 'file'
          ? openObjectStore(repo)
          : openObjectStore(repo, { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials });
      const env = {
        ...process.env,
        MYSQL_PITR_SOURCE_PASSWORD: server.repl.password,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      };
      const args = [
        'archive',
        '--source',
        server.url('repl'),
        '--repo',
        repo,
        ...s3Args,
        '--flush-interval',
        '100ms',
        '--lease-ttl',
        '3s',
        '--heartbeat-period',
        '1s',
      ];
      const conn = await server.connect();
      const a = startArchiver(args, env);
      let b: ReturnType<typeof startArchiver> | undefined;
      try {
        await runWorkload(conn, {
          seed: round * 10 + 1,
          database: `fa${round}`,
          transactions: 200,
          bigTransactions: 0,
        });
        const first = await masterStatus(server);
        await a.waitForDurable(first.file, first.position);

        a.child.kill('SIGSTOP');
        // the source goes on: A's socket holds events it has not flushed when it resumes
        await runWorkload(conn, {
          seed: round * 10 + 2,
          database: `fb${round}`,
          transactions: 200,
          bigTransactions: 0,
        });
        b = startArchiver(args, env);
        await b.waitFor((s) => s.includes('taking over a stale archiver lease'), 'a takeover by B', 30_000);
        const second = await masterStatus(server);
        await b.waitForDurable(second.file, second.position);
        const epochB = JSON.parse((await store.get('locks/archiver.json')).toString()) as {
          epoch: number;
          owner: string;
        };
        const taken = await snapshot(store);

        a.child.kill('SIGCONT');
        const exitA = await Promise.race([a.exited, sleep(30_000).then(() => undefined)]);
        assert.ok(exitA, `A did not stop after it resumed:\n${a.stderr}`);
        assert.equal(exitA.code, 7, `A exits LOCKED (lease lost):\n${a.stderr}`);
        assert.match(a.stderr, /lease/);

        await runWorkload(conn, {
          seed: round * 10 + 3,
          database: `fc${round}`,
          transactions: 200,
          bigTransactions: 0,
        });
        await conn.query('FLUSH BINARY LOGS');
        await conn.query(`CREATE TABLE fc${round}.after_flush (id INT PRIMARY KEY)`);
        const third = await masterStatus(server);
        await b.waitForDurable(third.file, third.position);
        const exitB = await b.stop();
        assert.equal(exitB.code, 0, b.stderr);

        // every object created or changed since the takeover is B's
        const now = await snapshot(store);
        for (const [key, hash] of now) {
          if (taken.get(key) === hash) continue;
          if (key === 'locks/archiver.json') {
            const rec = JSON.parse((await store.get(key)).toString()) as { owner: string };
            assert.equal(rec.owner, epochB.owner, 'the lease record is B’s');
          } else if (key.endsWith('/index.json')) {
            // a closed file's index: written by B (A is fenced), readable, listing only existing objects
            assert.ok(!taken.has(key), `${key} existed at the takeover and was replaced`);
          } else if (key.startsWith('binlogs/')) {
            const { header } = await readSegmentHeader(store, key);
            assert.equal(header.leaseEpoch, epochB.epoch, `${key} was written under B's epoch`);
            assert.ok(!taken.has(key), `${key} existed at the takeover and was replaced`);
          } else {
            assert.fail(`${key} was created or changed after the takeover, and not by B`);
          }
        }
        for (const key of taken.keys()) assert.ok(now.has(key), `${key} disappeared`);
      } finally {
        if (a.child.exitCode === null && a.child.signalCode === null) {
          a.child.kill('SIGCONT');
          a.child.kill('SIGKILL');
        }
        await b?.stop();
        await conn.end();
      }
      const dest = join(work, `fetched${round}`);
      const fetched = await runCli(['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo, ...s3Args], {
        env,
      });
      assert.equal(fetched.code, 0, fetched.stderr);
      await assertBinlogsIdentical(server, dest);
      const list = JSON.parse(
        (await runCli(['binlog', 'list', '--repo', repo, ...s3Args, '--json'], { env })).stdout,
      ) as { timelines: { files: { holes: unknown[]; overlaps?: unknown[] }[] }[] };
      assert.equal(list.timelines.length, 1);
      assert.ok(list.timelines[0]!.files.every((f) => f.holes.length === 0));
    });
  }
});
