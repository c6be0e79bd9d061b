/**
 * Diverged histories (issue 14): a primary and a GTID replica with log_slave_updates; replication is
 * cut (a partition) and the primary commits three more transactions that the replica never
 * receives; both are archived. The primary goes away and the replica is promoted (it flushes its
 * binary log, as orchestrators do) and writes on. `status`, `verify` and `binlog list` name the
 * three transactions of timeline 000001 that timeline 000002 lacks, by GTID range, as a warning:
 * verify still exits 0.
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
import { gtidBinlogPos, replicate, waitForGtid } from '../support/replication-topology.js';
import type { DivergedHistory } from '../../src/catalog/index.js';

describe('diverged history after a failover that lost transactions', () => {
  let primary: MariadbServer;
  let replica: MariadbServer;
  let work: string;
  let repo: string;
  let lostRange: string;
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => pitr(args, env);
  const archive = async (server: MariadbServer): Promise<void> => {
    await archiveUntilCaughtUp(server, repo);
  };
  const gtidPos = gtidBinlogPos;
  const insert = async (server: MariadbServer, n: number, batch: number): Promise<void> => {
    for (let i = 0; i < n; i++) await server.query('INSERT INTO app.t (batch) VALUES (?)', [batch]);
  };

  before(async () => {
    primary = await startMariadb({ maxBinlogSize: '64K' });
    replica = await startMariadb({ maxBinlogSize: '64K', extraArgs: ['--log-slave-updates'] });
    work = await mkdtemp(join(tmpdir(), 'pitr-diverged-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    await replicate(replica, primary);
    await primary.query('CREATE DATABASE app');
    await primary.query('CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, batch INT)');
    await insert(primary, 30, 0);
    await archive(primary);
    const b = await cli(['backup', 'create', '--source', primary.url('admin'), '--repo', repo, '--json'], {
      MYSQL_PITR_SOURCE_PASSWORD: primary.admin.password,
    });
    assert.equal(b.code, 0, b.stderr);
    await insert(primary, 10, 1);
    const reached = await gtidPos(primary);
    await waitForGtid(replica, reached);

    // a partition: the replica stops receiving; the primary commits three more
    await replica.query('STOP SLAVE');
    await insert(primary, 3, 2);
    const lost = await gtidPos(primary);
    const [d, s, n] = lost.split('-').map(Number) as [number, number, number];
    lostRange = `${d}-${s}-${n - 2}..${lost}`;
    await archive(primary);

    // failover: the primary goes away, the replica is promoted and writes
    await primary.stop({ keep: true });
    await replica.query('RESET SLAVE ALL');
    await replica.query('FLUSH BINARY LOGS');
    await insert(replica, 20, 3);
    await archive(replica);
  });

  after(async () => {
    await Promise.all([primary?.stop(), replica?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  const check = (diverged: DivergedHistory[]): void => {
    assert.equal(diverged.length, 1, JSON.stringify(diverged));
    const x = diverged[0]!;
    assert.equal(x.parent, '000001');
    assert.equal(x.timeline, '000002');
    assert.equal(x.transactions, 3);
    assert.equal(x.upperBound, false);
    assert.deepEqual(x.ranges, [lostRange]);
  };

  it('status names the lost transactions (JSON and text)', async () => {
    const j = await cli(['status', '--repo', repo, '--json']);
    check((JSON.parse(j.stdout) as { diverged: DivergedHistory[] }).diverged);
    const t = await cli(['status', '--repo', repo]);
    assert.ok(
      t.stdout.includes(
        `diverged: 3 transactions on timeline 000001 after the fork are not in timeline 000002 (lost in the ` +
          `failover, or errant on a returning old primary): ${lostRange}`,
      ),
      t.stdout,
    );
  });

  it('verify warns about them and still exits 0', async () => {
    const j = await cli(['verify', '--repo', repo, '--json']);
    assert.equal(j.code, 0, j.stdout + j.stderr);
    const report = JSON.parse(j.stdout) as { ok: boolean; diverged: DivergedHistory[] };
    assert.equal(report.ok, true);
    check(report.diverged);
    const t = await cli(['verify', '--repo', repo]);
    assert.equal(t.code, 0, t.stdout + t.stderr);
    assert.match(t.stdout, /^WARNING diverged: 3 transactions on timeline 000001 /m);
    assert.match(t.stdout, /verify: OK \(1 warning\)/);
  });

  it('binlog list names them (JSON and text); with --timeline there is no fork to compare', async () => {
    const j = await cli(['binlog', 'list', '--repo', repo, '--json']);
    assert.equal(j.code, 0, j.stderr);
    check((JSON.parse(j.stdout) as { diverged: DivergedHistory[] }).diverged);
    const t = await cli(['binlog', 'list', '--repo', repo]);
    assert.ok(t.stdout.includes(`not in timeline 000002`) && t.stdout.includes(lostRange), t.stdout);
    const one = await cli(['binlog', 'list', '--repo', repo, '--timeline', '000002', '--json']);
    assert.deepEqual((JSON.parse(one.stdout) as { diverged: DivergedHistory[] }).diverged, []);
  });
});
