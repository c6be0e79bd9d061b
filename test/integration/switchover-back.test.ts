/**
 * A switchover and back (issue 14): primary A with GTID replica B (log_slave_updates on both). A is
 * archived and backed up; a planned switchover makes B the primary (A replicates from it), B is
 * archived; a switchover back makes A the primary again, A is archived. The archive is a chain of
 * three timelines (A, B, A), nothing is reported as diverged, verify exits 0, and PITR from the
 * backup taken on A before both switches, to a point on B and to latest on A after the switch back,
 * gives exactly the checksums recorded at those points.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import type { CliResult } from '../support/run-cli.js';
import { archiveUntilCaughtUp, pitr } from '../support/pitr-cli.js';
import { gtidBinlogPos, promote, replicate, waitForGtid } from '../support/replication-topology.js';
import { dropUserDatabases, tableChecksums, type Checksums } from '../support/table-checksums.js';
import type { DivergedHistory } from '../../src/catalog/index.js';
import type { RestorePlan } from '../../src/restore/index.js';

describe('switchover A -> B and back to A', () => {
  let a: MariadbServer;
  let b: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let backupId: string;
  const snaps: Record<'onB' | 'latest', { gtid: string; sums: Checksums }> = {} as never;
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => pitr(args, env);
  const archive = async (server: MariadbServer): Promise<void> => {
    await archiveUntilCaughtUp(server, repo);
  };
  const gtidPos = gtidBinlogPos;
  /** A planned switchover: the old primary goes read-only, the new one catches up and takes over. */
  const switchover = async (from: MariadbServer, to: MariadbServer): Promise<void> => {
    await from.query('SET GLOBAL read_only = 1');
    await waitForGtid(to, await gtidPos(from));
    await promote(to);
    await replicate(from, to);
  };
  const writes = async (server: MariadbServer, batch: number, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await server.query('INSERT INTO app.orders (batch, amount) VALUES (?, ?)', [batch, batch * 100 + i]);
    }
    await server.query('UPDATE app.totals SET n = n + ? WHERE id = ?', [n, batch % 3]);
  };
  const snapshot = async (server: MariadbServer): Promise<{ gtid: string; sums: Checksums }> => ({
    gtid: await gtidPos(server),
    sums: await tableChecksums(server),
  });

  before(async () => {
    [a, b, target] = await Promise.all([
      startMariadb({ extraArgs: ['--log-slave-updates'] }),
      startMariadb({ extraArgs: ['--log-slave-updates'] }),
      startMariadb({ binlog: false }),
    ]);
    work = await mkdtemp(join(tmpdir(), 'pitr-switchback-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    await replicate(b, a);
    await a.query('CREATE DATABASE app');
    await a.query('CREATE TABLE app.orders (id INT PRIMARY KEY AUTO_INCREMENT, batch INT, amount INT)');
    await a.query('CREATE TABLE app.totals (id INT PRIMARY KEY, n INT)');
    await a.query('INSERT INTO app.totals VALUES (0, 0), (1, 0), (2, 0)');
    await writes(a, 0, 50);
    await archive(a);
    const bk = await cli(['backup', 'create', '--source', a.url('admin'), '--repo', repo, '--json'], {
      MYSQL_PITR_SOURCE_PASSWORD: a.admin.password,
    });
    assert.equal(bk.code, 0, bk.stderr);
    backupId = (JSON.parse(bk.stdout) as { id: string }).id;
    await writes(a, 1, 40);
    await archive(a);

    await switchover(a, b);
    await writes(b, 2, 40);
    snaps.onB = await snapshot(b);
    await writes(b, 3, 20);
    await archive(b);

    await switchover(b, a);
    await writes(a, 4, 40);
    snaps.latest = await snapshot(a);
    await archive(a);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the archive is a chain of three timelines (A, B, A); nothing diverged; verify exits 0', async () => {
    const list = await cli(['binlog', 'list', '--repo', repo, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const l = JSON.parse(list.stdout) as {
      timelines: { id: string; record?: { source: { serverId: number } } }[];
      diverged: DivergedHistory[];
    };
    assert.deepEqual(
      l.timelines.map((t) => [t.id, t.record?.source.serverId]),
      [
        ['000001', a.serverId],
        ['000002', b.serverId],
        ['000003', a.serverId],
      ],
    );
    assert.deepEqual(l.diverged, []);
    const plan = await cli(['restore', 'plan', '--repo', repo, '--to', 'latest', '--json']);
    assert.equal(plan.code, 0, plan.stderr);
    const p = JSON.parse(plan.stdout) as RestorePlan;
    assert.equal(p.backup.id, backupId);
    assert.deepEqual(
      p.chain?.map((c) => [c.parent, c.timeline]),
      [
        ['000001', '000002'],
        ['000002', '000003'],
      ],
    );
    assert.equal(p.expectedGtidPosition, snaps.latest.gtid);
    const v = await cli(['verify', '--repo', repo, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.deepEqual((JSON.parse(v.stdout) as { diverged: DivergedHistory[] }).diverged, []);
  });

  for (const key of ['onB', 'latest'] as const) {
    it(`PITR from the backup on A to ${key === 'onB' ? 'a point on B (--to-gtid)' : 'latest after the switch back'} is exact`, async () => {
      await dropUserDatabases(target);
      const args = key === 'onB' ? ['--to-gtid', snaps.onB.gtid] : ['--to', 'latest'];
      const r = await cli(
        [
          'restore',
          'pitr',
          '--repo',
          repo,
          '--target',
          target.url('admin'),
          '--json',
          '--backup',
          backupId,
          ...args,
        ],
        { MYSQL_PITR_TARGET_PASSWORD: target.admin.password },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await tableChecksums(target), snaps[key].sums);
    });
  }
});
