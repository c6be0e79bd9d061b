/**
 * Backups from a replica (issue 14): `backup create --source REPLICA` against a GTID replica while
 * the primary takes writes and the archiver streams the primary. The manifest records the
 * primary's binlog coordinates (`--dump-slave`) and the replica's gtid_slave_pos, and says it was
 * taken from the replica; PITR from that backup with the primary's archive to several points gives
 * exactly the checksums recorded at those points.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { cliCommand, PROJECT_ROOT, type CliResult } from '../support/run-cli.js';
import { SBIN_PATH_ENV, pitr } from '../support/pitr-cli.js';
import { replicate } from '../support/replication-topology.js';
import { dropUserDatabases, nextSecond, tableChecksums, type Checksums } from '../support/table-checksums.js';
import type { BackupManifest } from '../../src/catalog/index.js';
import type { RestorePlan } from '../../src/restore/index.js';

interface Snapshot {
  gtid: string;
  time: number;
  sums: Checksums;
}

describe('backup create --source REPLICA, restored with the primary archive', () => {
  let primary: MariadbServer;
  let replica: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let manifest: BackupManifest;
  let writtenDuringBackup = 0;
  const snaps: Snapshot[] = [];
  let latest: Snapshot;
  const pathEnv = SBIN_PATH_ENV;

  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => pitr(args, env);
  const restore = (args: string[]): Promise<CliResult> =>
    cli(['restore', 'pitr', '--repo', repo, '--target', target.url('admin'), '--json', ...args], {
      MYSQL_PITR_TARGET_PASSWORD: target.admin.password,
    });
  const snapshot = async (): Promise<Snapshot> => {
    const [r] = await primary.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p');
    return { gtid: r!.p, time: Date.now(), sums: await tableChecksums(primary) };
  };
  const writes = async (batch: number, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await primary.query('INSERT INTO app.orders (batch, amount) VALUES (?, ?)', [batch, batch * 1000 + i]);
    }
    await primary.query('UPDATE app.totals SET n = n + ? WHERE id = ?', [n, batch % 3]);
  };

  before(async () => {
    primary = await startMariadb({ maxBinlogSize: '64K' });
    replica = await startMariadb();
    target = await startMariadb({ binlog: false });
    work = await mkdtemp(join(tmpdir(), 'pitr-replica-backup-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    await replicate(replica, primary);
    await primary.query('CREATE DATABASE app');
    await primary.query('CREATE TABLE app.orders (id INT PRIMARY KEY AUTO_INCREMENT, batch INT, amount INT)');
    await primary.query('CREATE TABLE app.totals (id INT PRIMARY KEY, n INT)');
    await primary.query('INSERT INTO app.totals VALUES (0, 0), (1, 0), (2, 0)');
    await writes(0, 100);

    const { command, args } = cliCommand([
      'archive',
      '--source',
      primary.url('repl'),
      '--repo',
      repo,
      '--flush-interval',
      '100ms',
      '--segment-size',
      '64KiB',
    ]);
    const archiver = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...pathEnv, MYSQL_PITR_SOURCE_PASSWORD: primary.repl.password },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let archiverLog = '';
    archiver.stderr.on('data', (c: Buffer) => (archiverLog += c.toString()));
    const archiverExited = new Promise<void>((resolve) => archiver.on('close', () => resolve()));
    try {
      // the primary keeps writing while the replica is dumped
      let writing = true;
      const writer = (async () => {
        for (let b = 100; writing; b++) {
          await writes(b, 5);
          writtenDuringBackup += 5;
        }
      })();
      const b = await cli(['backup', 'create', '--source', replica.url('admin'), '--repo', repo, '--json'], {
        MYSQL_PITR_SOURCE_PASSWORD: replica.admin.password,
      });
      writing = false;
      await writer;
      assert.equal(b.code, 0, b.stderr);
      manifest = JSON.parse(b.stdout) as BackupManifest;

      for (let batch = 1; batch <= 3; batch++) {
        await nextSecond(snaps.at(-1)?.time ?? Date.now());
        await writes(batch, 50);
        if (batch === 2) await primary.query('FLUSH BINARY LOGS');
        snaps.push(await snapshot());
      }
      await nextSecond(snaps.at(-1)!.time);
      await writes(4, 10);
      latest = await snapshot();
    } finally {
      archiver.kill('SIGTERM');
      await archiverExited;
    }
    const caughtUp = await cli(
      [
        'archive',
        '--source',
        primary.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--flush-interval',
        '100ms',
      ],
      { MYSQL_PITR_SOURCE_PASSWORD: primary.repl.password },
    );
    assert.equal(caughtUp.code, 0, `${caughtUp.stderr}\n--- streaming archiver:\n${archiverLog}`);
  });

  after(async () => {
    await Promise.all([primary?.stop(), replica?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("the manifest names the replica it was taken from and holds the primary's coordinates", async () => {
    assert.ok(writtenDuringBackup > 0, 'the primary took writes during the backup');
    assert.equal(manifest.takenFrom?.role, 'replica');
    assert.equal(manifest.takenFrom?.serverId, replica.serverId);
    assert.equal(manifest.source.serverId, primary.serverId);
    assert.match(manifest.binlog.file, /^mysql-bin\.\d{6}$/);
    assert.match(manifest.gtidPosition ?? '', new RegExp(`^0-${primary.serverId}-\\d+$`));
    assert.ok(manifest.tool.args.includes('--dump-slave=2'), manifest.tool.args.join(' '));
    const r = await cli(['restore', 'plan', '--repo', repo, '--to', 'latest', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as RestorePlan;
    assert.equal(plan.backup.id, manifest.id);
    assert.equal(plan.timeline, '000001');
  });

  it('PITR from the replica backup to three points (time, GTID, latest) is exact', async () => {
    const cases: [string[], Checksums][] = [
      [['--to', new Date(snaps[0]!.time).toISOString()], snaps[0]!.sums],
      [['--to-gtid', snaps[1]!.gtid], snaps[1]!.sums],
      [['--to', 'latest'], latest.sums],
    ];
    for (const [args, sums] of cases) {
      await dropUserDatabases(target);
      const r = await restore([...args, '--backup', manifest.id]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await tableChecksums(target), sums, args.join(' '));
    }
  });
});
