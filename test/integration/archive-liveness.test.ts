/**
 * Liveness: a network path that stops forwarding without closing the connection (the TCP proxy in
 * test/support stalls it). The archiver must notice the missing heartbeats, drop the connection,
 * reconnect, and lose nothing; an idle source (heartbeats only) must not be taken for a dead one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli } from '../support/run-cli.js';
import { assertBinlogsIdentical } from '../support/binlog-compare.js';
import { startTcpFaultProxy, type TcpFaultProxy } from '../support/tcp-fault-proxy.js';
import { startArchiver } from '../support/archiver-process.js';

const DEAD = /no event and no heartbeat for (\d+) ms/;

async function masterStatus(server: MariadbServer): Promise<{ file: string; position: number }> {
  const [row] = await server.query<{ File: string; Position: string | number }[]>('SHOW MASTER STATUS');
  return { file: row!.File, position: Number(row!.Position) };
}

describe('archiver liveness (silent network)', () => {
  let server: MariadbServer;
  let proxy: TcpFaultProxy;
  let work: string;

  before(async () => {
    server = await startMariadb({ maxBinlogSize: '1M' });
    proxy = await startTcpFaultProxy(server.port);
    work = await mkdtemp(join(tmpdir(), 'pitr-archive-liveness-'));
  });

  after(async () => {
    await proxy?.stop();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('reconnects after a stalled connection within twice the heartbeat period, and loses nothing', async (t) => {
    const repo = `file://${join(work, 'repo')}`;
    const env = { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: server.repl.password };
    const archiver = startArchiver(
      [
        'archive',
        '--source',
        `mysql://repl@${proxy.host}:${proxy.port}`,
        '--repo',
        repo,
        '--flush-interval',
        '100ms',
        '--heartbeat-period',
        '1s',
      ],
      env,
    );
    const conn = await server.connect();
    try {
      await runWorkload(conn, { seed: 1, database: 'live1', transactions: 300, bigTransactions: 0 });
      const first = await masterStatus(server);
      await archiver.waitForDurable(first.file, first.position);

      // idle for three heartbeat periods: heartbeats keep the connection alive
      await sleep(3000);
      assert.doesNotMatch(archiver.stderr, DEAD, 'an idle source with heartbeats is not a dead connection');
      const streamsBefore = archiver.stderr.split('"streaming binlogs"').length - 1;

      // the path stops forwarding; writes go on at the source meanwhile
      const stalled = proxy.stallOpenConnections();
      assert.ok(stalled >= 1, 'the binlog dump connection was stalled');
      const stalledAt = Date.now();
      await runWorkload(conn, {
        seed: 2,
        database: 'live2',
        transactions: 300,
        bigTransactions: 1,
        bigTransactionBytes: 300 * 1024,
        flushBinaryLogsAt: [0.5],
      });
      // without the watchdog nothing would happen for hours (TCP keepalive); 20 s is a safety bound
      await archiver.waitFor((s) => DEAD.test(s), 'a dead-connection log line', 20_000);
      await archiver.waitFor(
        (s) => s.split('"streaming binlogs"').length - 1 > streamsBefore,
        'a new binlog stream after the dead connection',
        20_000,
      );
      const silence = Number(DEAD.exec(archiver.stderr)![1]);
      t.diagnostic(
        `declared dead after ${silence} ms of silence; streaming again ${Date.now() - stalledAt} ms after the stall`,
      );
      assert.ok(silence >= 2000, `the connection was given twice the heartbeat period (${silence} ms)`);
      assert.match(archiver.stderr, /reconnecting/);

      const last = await masterStatus(server);
      await archiver.waitForDurable(last.file, last.position);
    } finally {
      await conn.end();
      const exit = await archiver.stop();
      assert.equal(exit.code, 0, archiver.stderr);
    }
    assert.doesNotMatch(archiver.stderr, /"level":"error"/);
    const dest = join(work, 'fetched');
    const fetched = await runCli(['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo], { env });
    assert.equal(fetched.code, 0, fetched.stderr);
    const files = await assertBinlogsIdentical(server, dest);
    assert.ok(files >= 2, `${files} files`);
  });
});
