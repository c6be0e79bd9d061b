/**
 * One history across a failover (issue 14): a primary and a GTID replica with log_slave_updates;
 * the primary is archived and backed up; the primary is stopped and the replica promoted; the new
 * primary is archived into the same repository (`archive --until-caught-up`, which starts timeline
 * 000002 for another server; the archiver records the fork GTID when the new server's GTID state
 * holds the archived ones, and readers otherwise infer the link by GTID continuity).
 * PITR from the backup taken before the failover, to points before it, in the quiet between the
 * old primary's last commit and the new one's first, after it (--to-gtid) and to latest, gives
 * exactly the checksums recorded at those points. `restore plan` shows the chain.
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
import { failover, replicate, waitForGtid } from '../support/replication-topology.js';
import { dropUserDatabases, nextSecond, tableChecksums, type Checksums } from '../support/table-checksums.js';
import type { RestorePlan } from '../../src/restore/index.js';

interface Snapshot {
  name: string;
  gtid: string;
  time: number;
  sums: Checksums;
}

describe('restore across a failover (primary stopped, GTID replica promoted)', () => {
  let primary: MariadbServer;
  let replica: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let backupId: string;
  const snaps: Record<'before' | 'quiet' | 'after' | 'latest', Snapshot> = {} as never;
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => pitr(args, env);
  const restore = (args: string[]): Promise<CliResult> =>
    cli(['restore', 'pitr', '--repo', repo, '--target', target.url('admin'), '--json', ...args], {
      MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
    });
  const archive = async (server: MariadbServer): Promise<void> => {
    await archiveUntilCaughtUp(server, repo, { segmentSize: '64KiB' });
  };
  const snapshot = async (name: string, server: MariadbServer): Promise<Snapshot> => {
    const [r] = await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
    return { name, gtid: r!.p, time: Date.now(), sums: await tableChecksums(server) };
  };
  const writes = async (server: MariadbServer, batch: number, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await server.query('INSERT INTO app.orders (batch, amount) VALUES (?, ?)', [batch, batch * 100 + i]);
    }
    await server.query('UPDATE app.totals SET n = n + ? WHERE id = ?', [n, batch % 3]);
  };

  before(async () => {
    primary = await startMariadb({ maxBinlogSize: '64K' });
    replica = await startMariadb({ maxBinlogSize: '64K', extraArgs: ['--log-slave-updates'] });
    target = await startMariadb({ binlog: false });
    work = await mkdtemp(join(tmpdir(), 'pitr-failover-'));
    repo = pathToFileURL(join(work, 'repo')).href;

    await replicate(replica, primary);
    await primary.query('CREATE DATABASE app');
    await primary.query('CREATE TABLE app.orders (id INT PRIMARY KEY AUTO_INCREMENT, batch INT, amount INT)');
    await primary.query('CREATE TABLE app.totals (id INT PRIMARY KEY, n INT)');
    await primary.query('INSERT INTO app.totals VALUES (0, 0), (1, 0), (2, 0)');
    await writes(primary, 0, 200);
    await archive(primary);
    const b = await cli(['backup', 'create', '--source', primary.url('admin'), '--repo', repo, '--json'], {
      MYSQL_PITR_SOURCE_PASSWORD: primary.admin.password,
    });
    assert.equal(b.code, 0, b.stderr);
    backupId = (JSON.parse(b.stdout) as { id: string }).id;

    await nextSecond(Date.now());
    await writes(primary, 1, 150);
    snaps.before = await snapshot('before the failover', primary);
    await nextSecond(snaps.before.time);
    await writes(primary, 2, 150);
    const last = await snapshot('the old primary at the failover', primary);
    await waitForGtid(replica, last.gtid);
    await archive(primary);

    // failover: the primary goes away, the replica is promoted
    await failover(primary, replica, { keep: true });
    await nextSecond(last.time);
    snaps.quiet = { ...last, name: 'the quiet before the new primary writes', time: Date.now() };
    await nextSecond(snaps.quiet.time);
    await writes(replica, 3, 150);
    snaps.after = await snapshot('after the failover', replica);
    await nextSecond(snaps.after.time);
    await writes(replica, 4, 50);
    snaps.latest = await snapshot('latest', replica);
    await archive(replica);
  });

  after(async () => {
    await Promise.all([primary?.stop(), replica?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the archive holds two timelines; restore plan --to latest chains them from the pre-failover backup', async () => {
    const list = await cli(['binlog', 'list', '--repo', repo, '--json']);
    const { timelines } = JSON.parse(list.stdout) as { timelines: { id: string }[] };
    assert.deepEqual(
      timelines.map((t) => t.id),
      ['000001', '000002'],
    );
    const r = await cli(['restore', 'plan', '--repo', repo, '--to', 'latest', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as RestorePlan;
    assert.equal(plan.backup.id, backupId);
    assert.equal(plan.chain?.length, 1);
    assert.equal(plan.chain![0]!.parent, '000001');
    assert.equal(plan.chain![0]!.timeline, '000002');
    assert.deepEqual(plan.chain![0]!.lost, []);
    assert.equal(plan.chain![0]!.forkTransaction.gtid, snaps.quiet.gtid);
    assert.equal(plan.expectedGtidPosition, snaps.latest.gtid);
    const text = await cli(['restore', 'plan', '--repo', repo, '--to', 'latest']);
    assert.match(text.stdout, /timeline 000001 .*fork/);
    const states = Object.values(snaps).map((s) => JSON.stringify(s.sums));
    assert.equal(new Set(states).size, 4, 'the states before, at, after the failover and latest differ');
  });

  it('verify and status: one window from the pre-failover backup through timeline 000002, no break', async () => {
    const v = await cli(['verify', '--repo', repo, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const report = JSON.parse(v.stdout) as {
      windows: { timeline: string; through: string[]; backup: string; to: string }[];
      diverged: unknown[];
    };
    assert.deepEqual(report.diverged, [], 'a clean failover is not reported as diverged');
    const w = report.windows.find((x) => x.backup === backupId);
    assert.deepEqual(w?.through, ['000002'], JSON.stringify(report.windows));
    assert.ok(Date.parse(w!.to) >= Math.floor(snaps.latest.time / 1000) * 1000 - 1000, w!.to);
    const s = await cli(['status', '--repo', repo]);
    assert.equal(s.code, 0, s.stdout + s.stderr);
    assert.match(
      s.stdout,
      /timeline 000002 continues timeline 000001 \((recorded fork \S+|GTID continuity)\)/,
    );
    assert.match(s.stdout, /timeline 000001 then 000002: /);
  });

  for (const [name, args] of [
    [
      'before the failover (--to TIME on the old primary)',
      (s: typeof snaps) => ['--to', new Date(s.before.time).toISOString()],
    ],
    [
      'the quiet between the primaries (--to TIME)',
      (s: typeof snaps) => ['--to', new Date(s.quiet.time).toISOString()],
    ],
    ['after the failover (--to-gtid of the new primary)', (s: typeof snaps) => ['--to-gtid', s.after.gtid]],
    ['latest', () => ['--to', 'latest']],
  ] as const) {
    it(`PITR from the pre-failover backup to ${name} is exact`, async () => {
      const key = name.startsWith('before')
        ? 'before'
        : name.startsWith('the quiet')
          ? 'quiet'
          : name.startsWith('after')
            ? 'after'
            : 'latest';
      await dropUserDatabases(target);
      const r = await restore([...args(snaps), '--backup', backupId]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await tableChecksums(target), snaps[key].sums, `${name}: ${args(snaps).join(' ')}`);
    });
  }
});
