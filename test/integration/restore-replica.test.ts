/**
 * `restore replica` and `replica set-delay` end to end against real MariaDB, through the CLI:
 * a primary with data, `backup create`, writes after the backup; a replica rebuilt from the backup
 * catches up and then follows new writes; a delayed replica holds writes back until its delay has
 * passed; `replica set-delay` changes SQL_Delay; a primary that purged the binlogs the backup needs
 * makes the command fail with the 1236 advice; a non-empty target, and a run off a terminal
 * without --yes, are refused and change nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import type { ReplicaStatus, RestoreReplicaReport } from '../../src/restore/index.js';
import type { BackupManifest } from '../../src/catalog/index.js';

/** Polls `check` until it returns true, at most `ms`; returns whether it did. */
async function eventually(check: () => Promise<boolean>, ms = 30_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(200);
  }
  return check();
}

async function hasRow(server: MariadbServer, id: number): Promise<boolean> {
  const r = await server.query<{ n: number }[]>(
    "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'events'",
  );
  if (Number(r[0]!.n) === 0) return false;
  const rows = await server.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.events WHERE id = ?', [id]);
  return Number(rows[0]!.n) === 1;
}

async function slaveStatus(server: MariadbServer): Promise<Record<string, unknown> | undefined> {
  const rows = await server.query<Record<string, unknown>[]>('SHOW SLAVE STATUS');
  return rows[0];
}

describe('restore replica / replica set-delay against MariaDB', () => {
  let primary: MariadbServer;
  let replica: MariadbServer;
  let delayed: MariadbServer;
  let spare: MariadbServer;
  let work: string;
  let repo: string;
  let backupId: string;
  let positionBackupId: string;
  let nextId = 1000;
  const pathEnv = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, { env: { ...pathEnv, ...env }, timeoutMs: 120_000 });
  /** A replication user whose password would break naively quoted SQL. */
  const nasty = { user: 'repl2', password: `it's \\' a "trap\\` };
  const restoreReplica = (
    target: MariadbServer,
    args: string[],
    repl: { user: string; password: string } = primary.repl,
  ): Promise<CliResult> =>
    cli(
      [
        'restore',
        'replica',
        '--repo',
        repo,
        '--target',
        target.url('admin'),
        '--primary',
        primary.url(repl.user),
        ...args,
      ],
      { MYSQL_PITR_TARGET_PASSWORD: target.admin.password, MYSQL_PITR_PRIMARY_PASSWORD: repl.password },
    );
  const write = async (): Promise<number> => {
    const id = nextId++;
    await primary.query('INSERT INTO app.events (id, note) VALUES (?, ?)', [id, `event ${id}`]);
    return id;
  };

  before(async () => {
    [primary, replica, delayed, spare] = await Promise.all([
      startMariadb(),
      startMariadb({ binlog: false }),
      startMariadb({ binlog: false }),
      startMariadb({ binlog: false }),
    ]);
    work = await mkdtemp(join(tmpdir(), 'pitr-replica-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    const admin = await primary.connect();
    try {
      await admin.query('SET SESSION sql_log_bin = 0');
      await admin.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [nasty.user, nasty.password]);
      await admin.query(`GRANT REPLICATION SLAVE ON *.* TO ?@'%'`, [nasty.user]);
    } finally {
      await admin.end();
    }
    await primary.query('CREATE DATABASE app');
    await primary.query('CREATE TABLE app.events (id INT PRIMARY KEY, note VARCHAR(64))');
    for (let i = 1; i <= 50; i++)
      await primary.query('INSERT INTO app.events VALUES (?, ?)', [i, `before ${i}`]);
    const backup = await cli(
      ['backup', 'create', '--source', primary.url('admin'), '--repo', repo, '--json'],
      {
        MYSQL_PITR_SOURCE_PASSWORD: primary.admin.password,
      },
    );
    assert.equal(backup.code, 0, backup.stderr);
    backupId = (JSON.parse(backup.stdout) as { id: string }).id;
    // written after the backup: only replication can bring these
    for (let i = 101; i <= 110; i++)
      await primary.query('INSERT INTO app.events VALUES (?, ?)', [i, `after ${i}`]);
  });

  after(async () => {
    await Promise.all([primary?.stop(), replica?.stop(), delayed?.stop(), spare?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('rebuilds a replica that catches up from the backup position and follows new writes', async () => {
    // the replication password holds quotes and backslashes: it must reach the primary intact
    const r = await restoreReplica(replica, ['--yes', '--json'], nasty);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RestoreReplicaReport;
    assert.equal(report.backup, backupId);
    assert.equal(report.start.kind, 'gtid');
    assert.equal(report.status.ioRunning, 'Yes');
    assert.equal(report.status.sqlRunning, 'Yes');
    assert.equal(report.status.sqlDelay, 0);
    assert.ok(report.statements.some((s) => s.includes('MASTER_USE_GTID=slave_pos')));
    assert.ok(
      !r.stdout.includes(nasty.password) && !r.stderr.includes(nasty.password),
      'password not printed',
    );
    assert.ok(report.statements.some((s) => s.includes("MASTER_USER='repl2', MASTER_PASSWORD='***'")));

    assert.ok(
      await eventually(() => hasRow(replica, 110)),
      'rows written after the backup reach the replica',
    );
    const [c] = await replica.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.events');
    assert.equal(Number(c!.n), 60);
    const id = await write();
    assert.ok(await eventually(() => hasRow(replica, id)), 'a new primary write reaches the replica');
    const st = await slaveStatus(replica);
    assert.equal(st?.['Slave_IO_Running'], 'Yes');
    assert.equal(st?.['Slave_SQL_Running'], 'Yes');
    assert.equal(st?.['Using_Gtid'], 'Slave_Pos');
  });

  it('refuses a target that already holds user databases and leaves it unchanged', async () => {
    const [before] = await replica.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.events');
    const r = await restoreReplica(replica, ['--yes']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /already holds user databases \(app\); nothing was changed/);
    assert.match(r.stderr, /--force/);
    const [afterCount] = await replica.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.events');
    assert.equal(Number(afterCount!.n), Number(before!.n));
    const st = await slaveStatus(replica);
    assert.equal(st?.['Slave_IO_Running'], 'Yes', 'replication was not touched');
  });

  it('builds a delayed replica: a write is held back, then applied once the delay has passed', async () => {
    const r = await restoreReplica(delayed, ['--yes', '--delay', '4']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /SQL_Delay 4/);
    assert.match(r.stdout, /Seconds_Behind_Master /);
    const st = await slaveStatus(delayed);
    assert.equal(Number(st?.['SQL_Delay']), 4);

    const id = await write();
    assert.equal(await hasRow(delayed, id), false, 'not applied right after the primary committed it');
    assert.ok(await eventually(() => hasRow(delayed, id)), 'applied after the delay');
    assert.ok(await hasRow(delayed, 110), 'rows written after the backup are there too');
  });

  it('replica set-delay changes SQL_Delay', async () => {
    const env = { MYSQL_PITR_TARGET_PASSWORD: delayed.admin.password };
    const r = await cli(['replica', 'set-delay', '--target', delayed.url('admin'), '--delay', '0'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^SQL_Delay 0$/m);
    let st = await slaveStatus(delayed);
    assert.equal(Number(st?.['SQL_Delay']), 0);
    assert.equal(st?.['Slave_SQL_Running'], 'Yes');

    const j = await cli(
      ['replica', 'set-delay', '--target', delayed.url('admin'), '--delay', '30', '--json'],
      env,
    );
    assert.equal(j.code, 0, j.stderr);
    assert.equal((JSON.parse(j.stdout) as ReplicaStatus).sqlDelay, 30);
    st = await slaveStatus(delayed);
    assert.equal(Number(st?.['SQL_Delay']), 30);

    const bad = await cli(['replica', 'set-delay', '--target', spare.url('admin'), '--delay', '5'], {
      MYSQL_PITR_TARGET_PASSWORD: spare.admin.password,
    });
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /is not a replica/);
  });

  it('off a terminal without --yes it refuses and changes nothing', async () => {
    const r = await restoreReplica(spare, []);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /pass --yes/);
    const dbs = await spare.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'app'",
    );
    assert.equal(Number(dbs[0]!.n), 0);
    assert.equal(await slaveStatus(spare), undefined);
  });

  it('without a GTID position in the manifest it attaches by binlog file and position', async () => {
    const b = await cli(['backup', 'create', '--source', primary.url('admin'), '--repo', repo, '--json'], {
      MYSQL_PITR_SOURCE_PASSWORD: primary.admin.password,
    });
    assert.equal(b.code, 0, b.stderr);
    positionBackupId = (JSON.parse(b.stdout) as { id: string }).id;
    // as a backup of a server without GTIDs would record it
    const manifestPath = join(work, 'repo', 'backups', positionBackupId, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BackupManifest;
    manifest.gtidPosition = null;
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    const id = await write();

    const r = await restoreReplica(spare, ['--yes', '--json', '--backup', positionBackupId]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RestoreReplicaReport;
    assert.deepEqual(report.start, {
      kind: 'position',
      file: manifest.binlog.file,
      position: manifest.binlog.position,
    });
    assert.ok(report.statements.some((s) => s.includes(`MASTER_LOG_FILE='${manifest.binlog.file}'`)));
    assert.ok(await eventually(() => hasRow(spare, id)), 'a write after the backup arrives');
    const st = await slaveStatus(spare);
    assert.equal(st?.['Using_Gtid'], 'No');
    assert.equal(st?.['Slave_SQL_Running'], 'Yes');
  });

  it('fails with exit 6 and clear advice when the primary purged the binlogs the backup needs', async () => {
    await write();
    await primary.query('FLUSH BINARY LOGS');
    const [cur] = await primary.query<{ File: string }[]>('SHOW MASTER STATUS');
    // MariaDB keeps a binlog until InnoDB has checkpointed past it, so the first PURGE right
    // after a rotation may leave it: retry until only the current file is left.
    const purged = await eventually(async () => {
      await primary.query(`PURGE BINARY LOGS TO '${cur!.File}'`);
      const logs = await primary.query<{ Log_name: string }[]>('SHOW BINARY LOGS');
      return logs.length === 1 && logs[0]!.Log_name === cur!.File;
    });
    assert.ok(purged, 'the primary purged its older binlogs');
    await write();
    // by file and position (the backup's file is gone), then by GTID (older than the oldest binlog);
    // --force: the spare holds the previous attempt
    for (const backup of [positionBackupId, backupId]) {
      const r = await restoreReplica(spare, ['--yes', '--force', '--backup', backup]);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /no longer has the binlogs this replica needs \(error 1236/);
      assert.match(r.stderr, /backup create/);
      assert.match(r.stderr, /restore pitr/);
      const st = await slaveStatus(spare);
      assert.equal(Number(st?.['Last_IO_Errno']), 1236);
      assert.equal(st?.['Using_Gtid'], backup === backupId ? 'Slave_Pos' : 'No');
    }
  });
});
