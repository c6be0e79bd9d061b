/**
 * Failover PITR with ONE archiver (issue 14): `archive --source db1,db2` runs the whole time while a
 * user-like workload (test/support/user-like-workload.ts: many column types, triggers, two GTID
 * domains, ROW and STATEMENT sessions) writes to the primary db1; db1 is killed (kill -9) and its
 * GTID replica db2 promoted; the archiver follows by itself and the workload goes on on db2.
 *
 * Two backups: one of db1 (placed by binlog coordinates), and one of db3, a replica of db2 (a
 * replica of a replica), whose dump holds db2's own coordinates in a file the archive never holds:
 * the planner places it by its GTID position on db1's timeline. From each, PITR to phase
 * boundaries before and after the failover gives exactly the CHECKSUM TABLE values recorded there.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { startArchiver, type ArchiverProcess } from '../support/archiver-process.js';
import { pitr } from '../support/pitr-cli.js';
import {
  failover,
  gtidBinlogPos,
  masterStatus,
  replicate,
  waitForGtid,
} from '../support/replication-topology.js';
import { dropUserDatabases } from '../support/table-checksums.js';
import {
  PHASES,
  createUserSchema,
  prepareSessions,
  runDdlBefore,
  runPhase,
  snapshotState,
  type WorkloadSessions,
} from '../support/user-like-workload.js';
import type { RestorePlan } from '../../src/restore/index.js';

type Checksums = Record<string, string>;

/** CHECKSUM TABLE of every table of the workload's databases (names that need quoting included). */
async function tableChecksums(server: MariadbServer): Promise<Checksums> {
  const c = await server.connect();
  try {
    return (await snapshotState(c)).checksums;
  } finally {
    await c.end();
  }
}

interface Boundary {
  /** The phase's marker GTID (domain 0). */
  gtid: string;
  sums: Checksums;
}

describe('failover PITR with one multi-host archiver (kill -9 of the primary, GTID replica promoted)', () => {
  let db1: MariadbServer;
  let db2: MariadbServer;
  let db3: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let archiver: ArchiverProcess;
  let primaryBackup: string;
  let chainedBackup: string;
  /** boundaries[n]: the end of phase n (0: the schema, before any phase); phases 1-2 on db1, 3-4 on db2. */
  const boundaries: Boundary[] = [];

  /** The workload's three sessions on `server`; `prepare` once the schema exists. */
  const sessions = async (server: MariadbServer, prepare: boolean): Promise<WorkloadSessions> => {
    const s = {
      row: await server.connect(),
      statement: await server.connect(),
      domain1: await server.connect(),
    };
    if (prepare) await prepareSessions(s);
    return s;
  };
  const end = (s: WorkloadSessions): Promise<unknown> =>
    Promise.all([s.row.end(), s.statement.end(), s.domain1.end()]);
  const backup = async (server: MariadbServer): Promise<string> => {
    const b = await pitr(['backup', 'create', '--source', server.url('admin'), '--repo', repo, '--json'], {
      MYSQL_PITR_SOURCE_PASSWORD: server.admin.password,
    });
    assert.equal(b.code, 0, b.stderr);
    return (JSON.parse(b.stdout) as { id: string }).id;
  };
  const durable = (timeline: string, at: { file: string; position: number }): Promise<void> =>
    archiver.waitFor(
      () =>
        archiver
          .stored()
          .some(
            (s) =>
              s.timeline === timeline && (s.file > at.file || (s.file === at.file && s.end >= at.position)),
          ),
      `timeline ${timeline} durable up to ${at.file}:${at.position}`,
      90_000,
    );

  before(async () => {
    [db1, db2, db3, target] = await Promise.all([
      startMariadb({ maxBinlogSize: '256K' }),
      startMariadb({ maxBinlogSize: '256K' }),
      startMariadb({ maxBinlogSize: '256K' }),
      startMariadb({ binlog: false }),
    ]);
    work = await mkdtemp(join(tmpdir(), 'pitr-one-archiver-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    await db2.query('SET GLOBAL read_only = 1');
    await replicate(db2, db1);
    await replicate(db3, db2); // a replica of the replica: it follows db2 through the failover

    archiver = startArchiver(
      [
        'archive',
        '--source',
        `mysql://repl@127.0.0.1:${db1.port},127.0.0.1:${db2.port}`,
        '--repo',
        repo,
        '--flush-interval',
        '100ms',
        '--segment-size',
        '64KiB',
        '--heartbeat-period',
        '1s',
      ],
      { ...process.env, MYSQL_PITR_SOURCE_PASSWORD: db1.repl.password },
    );

    let s = await sessions(db1, false);
    try {
      await createUserSchema(s.row);
      await prepareSessions(s);
      const [[g0]] = (await s.row.query('SELECT @@last_gtid AS g')) as unknown as [[{ g: string }]];
      boundaries.push({ gtid: g0.g, sums: await tableChecksums(db1) });
      primaryBackup = await backup(db1);
      for (let n = 1; n <= 2; n++) {
        await runDdlBefore(n, s);
        boundaries.push({ gtid: await runPhase(n, s), sums: await tableChecksums(db1) });
        if (n === 1) {
          // db3's backup holds db2's coordinates; db2 then rotates twice, so the fork lies two
          // files later and the archive of db2 (which starts at the file holding the fork) never
          // holds the backup's file: only its GTID position can place it
          await waitForGtid(db3, await gtidBinlogPos(db1));
          chainedBackup = await backup(db3);
          await db2.query('FLUSH BINARY LOGS');
          await db2.query('FLUSH BINARY LOGS');
        }
      }
    } finally {
      await end(s);
    }
    const fork = await masterStatus(db1);
    await durable('000001', fork);
    await waitForGtid(db2, fork.gtid);
    await waitForGtid(db3, fork.gtid);

    // failover: the primary is killed, the replica promoted; the archiver follows by itself
    await failover(db1, db2, { kill: true });
    s = await sessions(db2, true);
    try {
      for (let n = 3; n <= PHASES; n++) {
        await runDdlBefore(n, s);
        boundaries.push({ gtid: await runPhase(n, s), sums: await tableChecksums(db2) });
      }
    } finally {
      await end(s);
    }
    await archiver.waitFor(
      (e) => /starting timeline 000002/.test(e),
      'a new timeline on the new primary',
      90_000,
    );
    await durable('000002', await masterStatus(db2));
    const exit = await archiver.stop();
    assert.equal(exit.code, 0, archiver.stderr);
  });

  after(async () => {
    if (archiver) await archiver.stop();
    await Promise.all([db1?.stop(), db2?.stop(), db3?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('one archiver wrote both timelines, linked by a recorded fork; the phases differ', async () => {
    const list = JSON.parse((await pitr(['binlog', 'list', '--repo', repo, '--json'])).stdout) as {
      timelines: { id: string }[];
    };
    assert.deepEqual(
      list.timelines.map((t) => t.id),
      ['000001', '000002'],
    );
    const sums = boundaries.map((b) => JSON.stringify(b.sums));
    assert.equal(new Set(sums).size, PHASES + 1, 'every phase boundary is a different state');
    const v = await pitr(['verify', '--repo', repo, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  it('restore plan: the primary backup by coordinates, the replica-of-replica backup by GTID position', async () => {
    const plan = async (backupId: string): Promise<RestorePlan> => {
      const r = await pitr([
        'restore',
        'plan',
        '--repo',
        repo,
        '--to',
        'latest',
        '--backup',
        backupId,
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as RestorePlan;
    };
    const p = await plan(primaryBackup);
    assert.equal(p.placement.how, 'coordinates');
    assert.equal(p.placement.timeline, '000001');
    assert.equal(p.chain?.[0]?.how, 'recorded');
    const q = await plan(chainedBackup);
    assert.equal(q.placement.how, 'gtid');
    assert.equal(q.placement.timeline, '000001');
    assert.equal(q.backup.source.serverId, db2.serverId, "db3's dump holds db2's coordinates");
    assert.equal(q.chain?.length, 1);
    assert.deepEqual(q.chain![0]!.lost, []);
    const text = await pitr(['restore', 'plan', '--repo', repo, '--to', 'latest', '--backup', chainedBackup]);
    assert.match(text.stdout, /placed {4}by GTID position on timeline 000001 at \S+: GTID position /);
    assert.match(text.stdout, /are on no archived timeline/);
  });

  const cases: [string, () => string, number][] = [
    ['primary', () => primaryBackup, 1],
    ['primary', () => primaryBackup, 3],
    ['primary', () => primaryBackup, 4],
    ['replica-of-replica', () => chainedBackup, 2],
    ['replica-of-replica', () => chainedBackup, 3],
  ];
  for (const [name, id, phase] of cases) {
    it(`PITR from the ${name} backup to the end of phase ${phase} (${phase <= 2 ? 'before' : 'after'} the failover) is exact`, async () => {
      await dropUserDatabases(target);
      const r = await pitr(
        [
          'restore',
          'pitr',
          '--repo',
          repo,
          '--target',
          target.url('admin'),
          '--json',
          '--backup',
          id(),
          ...(phase === PHASES ? ['--to', 'latest'] : ['--to-gtid', boundaries[phase]!.gtid]),
        ],
        { MYSQL_PITR_TARGET_PASSWORD: target.admin.password },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await tableChecksums(target), boundaries[phase]!.sums);
    });
  }
});
