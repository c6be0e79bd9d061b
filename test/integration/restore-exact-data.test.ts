/**
 * Exact restore of a user-like database (issue 13's "Done when"), through the CLI as an operator
 * runs it: a schema with many column types, a table without a primary key, foreign keys, triggers,
 * views, routines and events with comments, a partitioned table and names that need quoting
 * (test/support/user-like-workload.ts); a backup; then phases of mixed ROW / STATEMENT DML (user
 * variables, a non-UTC time zone, temporary tables, a second GTID domain) with DDL between them,
 * and string values shaped to confuse a splitter of `mariadb-binlog` text. At every phase boundary
 * the test records the GTID, CHECKSUM TABLE of every table and the SHOW CREATE text of every schema
 * object. `restore pitr --to-gtid` to each boundary into one reused target must give exactly that
 * state (and gtid_slave_pos equal to the source's gtid_binlog_pos), with `--applier client` and
 * with the default applier. `restore apply` from one boundary to the next must set gtid_slave_pos
 * over both GTID domains.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Connection } from 'mysql2/promise';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import {
  PHASES,
  createUserSchema,
  prepareSessions,
  qi,
  runDdlBefore,
  runPhase,
  snapshotState,
  type SchemaState,
  type WorkloadSessions,
} from '../support/user-like-workload.js';

interface Boundary {
  /** The last GTID of the phase (the `--to-gtid` of its restore). */
  gtid: string;
  /** The source's @@gtid_binlog_pos there: every domain. */
  binlogPos: string;
  state: SchemaState;
}

/** A short description of where two states differ (the assertion shows the full objects). */
function differences(actual: SchemaState, expected: SchemaState): string[] {
  const out: string[] = [];
  for (const part of ['checksums', 'objects'] as const) {
    const keys = new Set([...Object.keys(actual[part]), ...Object.keys(expected[part])]);
    for (const k of [...keys].sort()) {
      if (actual[part][k] !== expected[part][k]) {
        out.push(
          `${part} ${k}: got ${actual[part][k] ?? '(missing)'}, expected ${expected[part][k] ?? '(missing)'}`,
        );
      }
    }
  }
  return out;
}

const positionSet = (p: string): string[] => p.split(',').filter(Boolean).sort();

describe('restore pitr gives back a user-like database exactly at every phase boundary', () => {
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  const boundaries: Boundary[] = [];
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 120_000 });
  const targetEnv = (): Record<string, string> => ({ MYSQL_PITR_TARGET_PASSWORD: target.admin.password });

  /** Drops every user database of the target (one server serves every restore of the file). */
  const emptyTarget = async (): Promise<void> => {
    const dbs = await target.query<{ n: string }[]>(
      "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
    );
    for (const { n } of dbs) await target.query(`DROP DATABASE ${qi(n)}`);
  };

  const targetState = async (): Promise<SchemaState> => {
    const c = await target.connect();
    try {
      return await snapshotState(c);
    } finally {
      await c.end();
    }
  };

  const gtidSlavePos = async (): Promise<string> =>
    (await target.query<{ p: string }[]>('SELECT @@gtid_slave_pos AS p'))[0]!.p;

  before(async () => {
    [source, target] = await Promise.all([
      startMariadb({ maxBinlogSize: '256K' }),
      startMariadb({ binlog: false }),
    ]);
    work = await mkdtemp(join(tmpdir(), 'pitr-exact-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    const s: WorkloadSessions = {
      row: await source.connect(),
      statement: await source.connect(),
      domain1: await source.connect(),
    };
    const observer: Connection = await source.connect();
    const record = async (gtid: string): Promise<void> => {
      const [[pos]] = (await observer.query('SELECT @@gtid_binlog_pos AS p')) as unknown as [[{ p: string }]];
      boundaries.push({ gtid, binlogPos: pos.p, state: await snapshotState(observer) });
    };
    try {
      await createUserSchema(s.row);
      await prepareSessions(s);
      const [[g0]] = (await s.row.query('SELECT @@last_gtid AS g')) as unknown as [[{ g: string }]];
      await record(g0.g);
      const backup = await cli(
        ['backup', 'create', '--source', source.url('admin'), '--repo', repo, '--json'],
        {
          MYSQL_PITR_SOURCE_PASSWORD: source.admin.password,
        },
      );
      assert.equal(backup.code, 0, backup.stderr);
      for (let n = 1; n <= PHASES; n++) {
        await runDdlBefore(n, s);
        const gtid = await runPhase(n, s);
        await record(gtid);
        if (n === 2) await s.row.query('FLUSH BINARY LOGS');
      }
    } finally {
      await Promise.all([s.row.end(), s.statement.end(), s.domain1.end(), observer.end()]);
    }
    const archived = await cli(
      [
        'archive',
        '--source',
        source.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--flush-interval',
        '200ms',
        '--segment-size',
        '64KiB',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: source.repl.password },
    );
    assert.equal(archived.code, 0, archived.stderr);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the phases differ from each other and the second GTID domain is in use', () => {
    assert.equal(boundaries.length, PHASES + 1);
    const sums = boundaries.map((b) => JSON.stringify(b.state.checksums));
    assert.equal(new Set(sums).size, sums.length);
    assert.match(boundaries.at(-1)!.binlogPos, /(^|,)1-\d+-\d+/);
    assert.doesNotMatch(boundaries[1]!.binlogPos, /(^|,)1-/);
    // the comments the client must keep (--comments) are in the source's definitions
    assert.match(
      boundaries[2]!.state.objects['trigger app.orders_bi']!,
      /this comment must survive the restore/,
    );
    assert.match(
      boundaries[2]!.state.objects['procedure app.raise tier']!,
      /a multi-line\\n +comment in the body/,
    );
  });

  for (const applier of ['client', 'default'] as const) {
    for (let p = 0; p <= PHASES; p++) {
      it(`--applier ${applier}: restore pitr --to-gtid the end of phase ${p} gives exactly the source's tables and schema objects`, async () => {
        const b = boundaries[p]!;
        await emptyTarget();
        const r = await cli(
          [
            'restore',
            'pitr',
            '--repo',
            repo,
            '--target',
            target.url('admin'),
            '--json',
            '--no-progress',
            '--to-gtid',
            b.gtid,
            ...(applier === 'client' ? ['--applier', 'client'] : []),
          ],
          targetEnv(),
        );
        assert.equal(r.code, 0, r.stderr);
        const got = await targetState();
        const diff = differences(got, b.state);
        assert.deepEqual(diff, [], `phase ${p} with --applier ${applier} differs:\n${diff.join('\n')}`);
        assert.deepEqual(positionSet(await gtidSlavePos()), positionSet(b.binlogPos));
      });
    }
  }

  it('restore apply sets gtid_slave_pos over every GTID domain; --from-gtid-of-target continues from two domains', async () => {
    await emptyTarget();
    const first = await cli(
      [
        'restore',
        'pitr',
        '--repo',
        repo,
        '--target',
        target.url('admin'),
        '--json',
        '--no-progress',
        '--to-gtid',
        boundaries[1]!.gtid,
      ],
      targetEnv(),
    );
    assert.equal(first.code, 0, first.stderr);
    const stop = (JSON.parse(first.stdout) as { report: { stop: { file: string; position: number } } }).report
      .stop;
    assert.deepEqual(positionSet(await gtidSlavePos()), positionSet(boundaries[1]!.binlogPos));
    const apply = (from: string[], to: Boundary): Promise<CliResult> =>
      cli(
        [
          'restore',
          'apply',
          '--repo',
          repo,
          '--target',
          target.url('admin'),
          '--json',
          '--no-progress',
          '--yes',
          ...from,
          '--to-gtid',
          to.gtid,
        ],
        targetEnv(),
      );
    // phase 1 -> 2: domain 1 appears; the last applied GTID is domain 0's marker
    const applied = await apply(['--from', `${stop.file}:${stop.position}`], boundaries[2]!);
    assert.equal(applied.code, 0, applied.stderr);
    let diff = differences(await targetState(), boundaries[2]!.state);
    assert.deepEqual(diff, [], diff.join('\n'));
    const expected = positionSet(boundaries[2]!.binlogPos);
    assert.equal(expected.length, 2);
    assert.deepEqual(positionSet(await gtidSlavePos()), expected);
    const report = (JSON.parse(applied.stdout) as { report: { server: { gtidSlavePos: string } } }).report;
    assert.deepEqual(positionSet(report.server.gtidSlavePos), expected);

    // phase 2 -> 3 from the target's own two-domain position
    const next = await apply(['--from-gtid-of-target'], boundaries[3]!);
    assert.equal(next.code, 0, next.stderr);
    diff = differences(await targetState(), boundaries[3]!.state);
    assert.deepEqual(diff, [], diff.join('\n'));
    assert.deepEqual(positionSet(await gtidSlavePos()), positionSet(boundaries[3]!.binlogPos));
  });
});
