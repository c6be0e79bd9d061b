/**
 * `restore pitr --tables` refuses, through the CLI, the flags of a whole restore that a table restore
 * would ignore (the applier, GTID and external program choices): USAGE (exit 2) naming the flag and
 * why, before it reads the repository or connects anywhere. The same settings from the environment
 * are shared with whole restores and not refused, and --load-threads (which a table restore uses)
 * is accepted.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../../src/errors/index.js';
import { runCli } from '../support/run-cli.js';

describe('restore pitr --tables: flags a table restore does not use are refused', () => {
  let dir: string;
  let base: string[];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-tables-flags-'));
    // an empty repository and a target nothing listens on: a refused flag must stop before both
    base = [
      'restore',
      'pitr',
      '--repo',
      pathToFileURL(join(dir, 'repo')).href,
      '--target',
      'mysql://root@127.0.0.1:1',
      '--to',
      'latest',
      '--tables',
      'shop.orders',
    ];
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [flags: string[], flag: string, why: RegExp][] = [
    [['--applier', 'client'], 'applier', /applies the listed tables' rows events itself/],
    [['--skip-gtids'], 'skip-gtids', /never sets GTIDs on the target/],
    [['--client-program', '/usr/bin/mysql'], 'client-program', /not through the SQL client/],
    [['--binlog-program', 'mysqlbinlog'], 'binlog-program', /does not run mariadb-binlog/],
    [['--no-defer-keys'], 'no-defer-keys', /creates each table with its keys, as the dump has them/],
  ];
  for (const [flags, flag, why] of cases) {
    it(`--${flag}: USAGE naming the flag and why, nothing read`, async () => {
      const r = await runCli([...base, ...flags]);
      assert.equal(r.code, ExitCode.USAGE, r.stderr);
      assert.match(r.stderr, new RegExp(`--${flag} does not go with --tables: `));
      assert.match(r.stderr, why);
      assert.match(r.stderr, new RegExp(`Drop --${flag}, or restore the whole backup without --tables`));
      assert.match(r.stderr, /Usage: mysql-pitr restore pitr /);
      assert.doesNotMatch(r.stderr, /repository|backup.*found|ECONNREFUSED/i);
    });
  }

  it('without them (and with --load-threads, or the applier from the environment) it goes on to the repository (empty here)', async () => {
    for (const [extra, env] of [
      [['--load-threads', '4'], {}],
      [[], { MYSQL_PITR_APPLIER: 'client' }],
    ] as const) {
      const r = await runCli([...base, ...extra], { env });
      // the empty repository is what stops it: no archived binlogs, no point in time
      assert.equal(r.code, ExitCode.NOT_RECOVERABLE, r.stderr);
      assert.match(r.stderr, /the repository holds no archived binlogs/);
      assert.doesNotMatch(r.stderr, /does not go with --tables/);
    }
  });
});
