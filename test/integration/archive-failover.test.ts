/**
 * The archiver follows the primary: `--source` names a primary and its GTID replica
 * (log_slave_updates). The primary is stopped and the replica promoted; the archiver moves to it by
 * itself, starts a new timeline whose record names the parent and the fork GTID position, begins at
 * the replica's file holding the fork (not at its oldest file), and archives every byte after it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTimelineRecord } from '../../src/catalog/index.js';
import { FsObjectStore } from '../../src/storage/index.js';
import type { MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli } from '../support/run-cli.js';
import { assertBinlogsIdentical, type BinaryLog } from '../support/binlog-compare.js';
import { startArchiver } from '../support/archiver-process.js';
import { startTcpFaultProxy, type TcpFaultProxy } from '../support/tcp-fault-proxy.js';
import {
  failover,
  masterStatus,
  promote,
  replicate,
  startPair,
  waitForGtid,
} from '../support/replication-topology.js';

describe('archiver follows the primary (failover to a GTID replica)', () => {
  let primary: MariadbServer;
  let replica: MariadbServer;
  let vipPrimary: MariadbServer;
  let vipReplica: MariadbServer;
  let vip: TcpFaultProxy;
  let swA: MariadbServer;
  let swB: MariadbServer;
  let work: string;

  before(async () => {
    [[primary, replica], [vipPrimary, vipReplica], [swA, swB]] = await Promise.all([
      startPair(),
      startPair(),
      startPair(),
    ]);
    vip = await startTcpFaultProxy(vipPrimary.port);
    work = await mkdtemp(join(tmpdir(), 'pitr-archive-failover-'));
  });

  after(async () => {
    await vip?.stop();
    await Promise.all([
      replica?.stop(),
      primary?.stop(),
      vipReplica?.stop(),
      vipPrimary?.stop(),
      swA?.stop(),
      swB?.stop(),
    ]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('continues on the promoted replica from the file holding the fork; the new timeline is byte-complete', async () => {
    const root = join(work, 'repo');
    const repo = `file://${root}`;
    const env = { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: primary.repl.password };
    const archiver = startArchiver(
      [
        'archive',
        '--source',
        `mysql://repl@127.0.0.1:${primary.port},127.0.0.1:${replica.port}`,
        '--repo',
        repo,
        '--flush-interval',
        '100ms',
        '--heartbeat-period',
        '1s',
      ],
      env,
    );
    const durableOn = (timeline: string, file: string, position: number) =>
      archiver.waitFor(
        () =>
          archiver
            .stored()
            .some(
              (s) => s.timeline === timeline && (s.file > file || (s.file === file && s.end >= position)),
            ),
        `timeline ${timeline} durable up to ${file}:${position}`,
        60_000,
      );
    let fork: { file: string; position: number; gtid: string };
    try {
      const p = await primary.connect();
      try {
        await runWorkload(p, { seed: 1, database: 'fo1', transactions: 200, bigTransactions: 0 });
        // the replica rotates its own binlog: the fork lies in its third file
        await replica.query(`SELECT MASTER_GTID_WAIT('${(await masterStatus(primary)).gtid}', 60)`);
        await replica.query('FLUSH BINARY LOGS');
        await replica.query('FLUSH BINARY LOGS');
        await runWorkload(p, { seed: 2, database: 'fo2', transactions: 200, bigTransactions: 0 });
      } finally {
        await p.end();
      }
      fork = await masterStatus(primary);
      await durableOn('000001', fork.file, fork.position);
      await replica.query(`SELECT MASTER_GTID_WAIT('${fork.gtid}', 60)`);
      assert.doesNotMatch(
        archiver.stderr,
        /starting timeline 000002/,
        'the replica is not streamed while it is one',
      );

      // failover: the primary goes away, the replica is promoted
      await failover(primary, replica);
      const r = await replica.connect();
      try {
        await runWorkload(r, {
          seed: 3,
          database: 'fo3',
          transactions: 200,
          bigTransactions: 0,
          flushBinaryLogsAt: [0.5],
        });
      } finally {
        await r.end();
      }
      const end = await masterStatus(replica);
      await archiver.waitFor(
        (s) => /starting timeline 000002/.test(s),
        'a new timeline on the new primary',
        60_000,
      );
      await durableOn('000002', end.file, end.position);
    } finally {
      const exit = await archiver.stop();
      assert.equal(exit.code, 0, archiver.stderr);
    }

    const store = new FsObjectStore({ root });
    const record = parseTimelineRecord(
      (await store.get('timelines/000002.json')).toString(),
      'timelines/000002.json',
    );
    const logs = await replica.query<BinaryLog[]>('SHOW BINARY LOGS');
    assert.equal(typeof record.parent === 'object' ? record.parent.timeline : record.parent, '000001');
    assert.equal(record.forkGtid, fork.gtid, 'the fork is the last GTID archived from the old primary');
    assert.equal(record.source.serverId, replica.serverId);
    assert.equal(record.firstFile, logs[2]!.Log_name, 'the new timeline starts at the file holding the fork');
    assert.notEqual(record.firstFile, logs[0]!.Log_name);
    assert.match(archiver.stderr, /streaming from mysql:\/\/repl@127\.0\.0\.1:\d+: it is the primary/);

    const dest = join(work, 'fetched-2');
    const f = await runCli(
      ['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo, '--timeline', '000002'],
      {
        env,
      },
    );
    assert.equal(f.code, 0, f.stderr);
    const files = await assertBinlogsIdentical(replica, dest, 2);
    assert.ok(files >= 2, `${files} files on the new timeline`);
    const list = JSON.parse((await runCli(['binlog', 'list', '--repo', repo, '--json'], { env })).stdout) as {
      timelines: { id: string; files: { holes: unknown[] }[]; gaps: unknown[] }[];
    };
    assert.deepEqual(
      list.timelines.map((t) => t.id),
      ['000001', '000002'],
    );
    for (const t of list.timelines)
      assert.ok(
        t.files.every((x) => x.holes.length === 0),
        `timeline ${t.id} has holes`,
      );
  });

  it('one address (a VIP) whose server changes: the same continuation by GTID', async () => {
    const root = join(work, 'repo-vip');
    const repo = `file://${root}`;
    const env = { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: vipPrimary.repl.password };
    const archiver = startArchiver(
      [
        'archive',
        '--source',
        `mysql://repl@${vip.host}:${vip.port}`,
        '--repo',
        repo,
        '--flush-interval',
        '100ms',
      ],
      env,
    );
    const durableOn = (timeline: string, file: string, position: number) =>
      archiver.waitFor(
        () =>
          archiver
            .stored()
            .some(
              (s) => s.timeline === timeline && (s.file > file || (s.file === file && s.end >= position)),
            ),
        `timeline ${timeline} durable up to ${file}:${position}`,
        60_000,
      );
    let fork: { file: string; position: number; gtid: string };
    try {
      const p = await vipPrimary.connect();
      try {
        await runWorkload(p, { seed: 11, database: 'vip1', transactions: 200, bigTransactions: 0 });
        await vipReplica.query(`SELECT MASTER_GTID_WAIT('${(await masterStatus(vipPrimary)).gtid}', 60)`);
        await vipReplica.query('FLUSH BINARY LOGS');
        await runWorkload(p, { seed: 12, database: 'vip2', transactions: 100, bigTransactions: 0 });
      } finally {
        await p.end();
      }
      fork = await masterStatus(vipPrimary);
      await durableOn('000001', fork.file, fork.position);
      await vipReplica.query(`SELECT MASTER_GTID_WAIT('${fork.gtid}', 60)`);
      await failover(vipPrimary, vipReplica);
      // the address moves to the promoted replica
      vip.retarget(vipReplica.port);
      vip.resetAll();
      const r = await vipReplica.connect();
      try {
        await runWorkload(r, { seed: 13, database: 'vip3', transactions: 200, bigTransactions: 0 });
      } finally {
        await r.end();
      }
      const end = await masterStatus(vipReplica);
      await durableOn('000002', end.file, end.position);
    } finally {
      const exit = await archiver.stop();
      assert.equal(exit.code, 0, archiver.stderr);
    }
    const store = new FsObjectStore({ root });
    const record = parseTimelineRecord(
      (await store.get('timelines/000002.json')).toString(),
      'timelines/000002.json',
    );
    const logs = await vipReplica.query<BinaryLog[]>('SHOW BINARY LOGS');
    assert.equal(record.forkGtid, fork.gtid);
    assert.equal(record.source.serverId, vipReplica.serverId);
    assert.equal(record.firstFile, logs[1]!.Log_name, 'the new timeline starts at the file holding the fork');
    const dest = join(work, 'fetched-vip');
    const f = await runCli(
      ['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo, '--timeline', '000002'],
      {
        env,
      },
    );
    assert.equal(f.code, 0, f.stderr);
    await assertBinlogsIdentical(vipReplica, dest, 1);
  });

  it('a planned switchover (the old primary stays up as a replica): the archiver moves to the new primary', async () => {
    const root = join(work, 'repo-switch');
    const repo = `file://${root}`;
    const env = { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: swA.repl.password };
    const archiver = startArchiver(
      [
        'archive',
        '--source',
        `mysql://repl@127.0.0.1:${swA.port},127.0.0.1:${swB.port}`,
        '--repo',
        repo,
        '--flush-interval',
        '100ms',
      ],
      env,
    );
    let fork: { gtid: string };
    try {
      const a = await swA.connect();
      try {
        await runWorkload(a, { seed: 21, database: 'sw1', transactions: 200, bigTransactions: 0 });
      } finally {
        await a.end();
      }
      const first = await masterStatus(swA);
      await archiver.waitForDurable(first.file, first.position);
      // switchover: A stops taking writes, B catches up and is promoted, A replicates from B
      await swA.query('SET GLOBAL read_only = 1');
      fork = await masterStatus(swA);
      await waitForGtid(swB, fork.gtid);
      await promote(swB);
      await replicate(swA, swB);
      const b = await swB.connect();
      try {
        await runWorkload(b, { seed: 22, database: 'sw2', transactions: 200, bigTransactions: 0 });
      } finally {
        await b.end();
      }
      const end = await masterStatus(swB);
      await archiver.waitFor((s) => /is no longer the primary/.test(s), 'the switch noticed', 60_000);
      await archiver.waitFor(
        () =>
          archiver
            .stored()
            .some((x) => x.timeline === '000002' && x.file === end.file && x.end >= end.position),
        'the new primary archived',
        60_000,
      );
    } finally {
      const exit = await archiver.stop();
      assert.equal(exit.code, 0, archiver.stderr);
    }
    const store = new FsObjectStore({ root });
    const record = parseTimelineRecord(
      (await store.get('timelines/000002.json')).toString(),
      'timelines/000002.json',
    );
    assert.equal(record.source.serverId, swB.serverId);
    assert.ok(record.forkGtid, 'the switch is recorded with its fork GTID position');
    const logs = await swB.query<BinaryLog[]>('SHOW BINARY LOGS');
    const from = logs.findIndex((l) => l.Log_name === record.firstFile);
    assert.ok(from >= 0, `${record.firstFile} is one of the new primary's files`);
    const dest = join(work, 'fetched-switch');
    const f = await runCli(
      ['binlog', 'fetch', '--all', '--dest', dest, '--repo', repo, '--timeline', '000002'],
      {
        env,
      },
    );
    assert.equal(f.code, 0, f.stderr);
    await assertBinlogsIdentical(swB, dest, from);
  });
});
