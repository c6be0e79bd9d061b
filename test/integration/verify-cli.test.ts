/**
 * `mysql-pitr verify` end to end against the S3 emulator: a real MariaDB under load, real
 * `backup create` and `archive --until-caught-up` child processes, then damage injected into the
 * stored objects (a flipped byte in a segment, a segment deleted in the middle, a dump deleted
 * under its manifest), each named in the output with the DATA (5) or NOT_RECOVERABLE (6) exit code.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload } from '../support/workload.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';
import { openObjectStore, type ObjectStore } from '../../src/storage/index.js';
import type { BackupManifest } from '../../src/catalog/index.js';

interface Report {
  ok: boolean;
  problems: { kind: string; object?: string; file?: string; offset?: number; message: string }[];
  windows: { timeline: string; backup: string; from: string; to: string }[];
  segments: { checked: number; ok: number };
  backups: { id: string; ok: boolean }[];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('mysql-pitr verify (real CLI, real MariaDB, S3 emulator)', () => {
  let server: MariadbServer;
  let s3: S3Emulator;
  let store: ObjectStore;
  let repo: string;
  let s3Args: string[];
  let backup: BackupManifest;
  let segments: string[];
  const s3Env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const cli = (args: string[], password = ''): Promise<CliResult> =>
    runCli([...args, '--repo', repo, ...s3Args], {
      env: { ...s3Env, MYSQL_PITR_SOURCE_PASSWORD: password, PATH: `/usr/sbin:${process.env.PATH ?? ''}` },
    });
  const verify = async (): Promise<{ r: CliResult; report: Report }> => {
    const r = await cli(['verify', '--json']);
    return { r, report: JSON.parse(r.stdout) as Report };
  };

  before(async () => {
    s3 = await startS3Emulator();
    server = await startMariadb({ maxBinlogSize: '1M' });
    repo = `s3://${s3.bucket}/pitr/db1`;
    s3Args = ['--s3-endpoint', s3.endpoint, '--region', s3.region];
    store = openObjectStore(repo, { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials });
    const conn = await server.connect();
    try {
      await runWorkload(conn, {
        seed: 1,
        database: 'wa',
        transactions: 300,
        bigTransactions: 1,
        bigTransactionBytes: 500_000,
      });
      const b = await cli(
        ['backup', 'create', '--source', server.url(server.admin.user)],
        server.admin.password,
      );
      assert.equal(b.code, 0, b.stderr);
      // commit times have whole seconds: let the next commits fall after the backup's finishedAt
      await new Promise((r) => setTimeout(r, 1500));
      await runWorkload(conn, {
        seed: 2,
        database: 'wb',
        transactions: 600,
        bigTransactions: 1,
        bigTransactionBytes: 800_000,
        flushBinaryLogsAt: [0.5],
      });
    } finally {
      await conn.end();
    }
    const a = await cli(
      ['archive', '--source', server.url('repl'), '--until-caught-up', '--segment-size', '128KiB'],
      server.repl.password,
    );
    assert.equal(a.code, 0, a.stderr);
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    const manifestKey = keys.find((k) => k.endsWith('/manifest.json'))!;
    backup = JSON.parse((await store.get(manifestKey)).toString('utf8')) as BackupManifest;
    segments = keys.filter((k) => k.startsWith('binlogs/') && k.endsWith('.zst'));
    assert.ok(segments.length >= 6, `segments: ${segments.length}`);
  });

  after(async () => {
    await Promise.all([server?.stop(), s3?.stop()]);
  });

  /** A segment of the archive after the backup's binlog file, not the first nor the last. */
  const middleSegment = (): string => {
    const seq = (k: string): number => Number(k.split('/')[2]!.split('.').pop());
    const after = segments.filter((k) => seq(k) > Number(backup.binlog.file.split('.').pop()));
    assert.ok(after.length >= 3, `segments after the backup: ${after.length}`);
    return after[Math.floor(after.length / 2)]!;
  };

  it('a sound repository verifies (exit 0) and prints the restorable window', async () => {
    const text = await cli(['verify']);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(
      text.stdout,
      /timeline 000001: any second from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(from backup /,
    );
    assert.match(text.stdout, /verify: OK/);
    const { report } = await verify();
    assert.equal(report.segments.checked, segments.length);
    assert.equal(report.segments.ok, segments.length);
    assert.deepEqual(
      report.backups.map((b) => [b.id, b.ok]),
      [[backup.id, true]],
    );
    assert.equal(report.windows.length, 1);
    assert.equal(report.windows[0]!.backup, backup.id);
    assert.ok(Date.parse(report.windows[0]!.to) > Date.parse(report.windows[0]!.from));
  });

  it('an empty repository (a wrong --repo?) is not OK: exit 6, no backup', async () => {
    const r = await runCli(['verify', '--repo', `s3://${s3.bucket}/nothing/here`, ...s3Args], { env: s3Env });
    assert.equal(r.code, 6, r.stdout + r.stderr);
    assert.match(r.stdout, /PROBLEM no-backup: s3:\/\/pitr-test\/nothing\/here holds no complete backup/);
  });

  it('a flipped byte in a stored segment: exit 5, the segment named', async () => {
    const key = middleSegment();
    const original = await store.get(key);
    const bad = Buffer.from(original);
    bad[bad.length - 20] = bad[bad.length - 20]! ^ 0xff;
    await store.put(key, bad);
    try {
      const { r, report } = await verify();
      assert.equal(r.code, 5, r.stdout + r.stderr);
      const p = report.problems.find((x) => x.kind === 'segment-corrupt');
      assert.equal(p?.object, key);
      assert.ok(
        report.problems.some((x) => x.kind === 'backup-chain-broken'),
        'the backup cannot cross it',
      );
      const text = await cli(['verify']);
      assert.equal(text.code, 5);
      assert.match(text.stdout, new RegExp(`PROBLEM segment-corrupt: segment ${escape(key)}`));
    } finally {
      await store.put(key, original);
    }
    assert.equal((await verify()).r.code, 0, 'repaired');
  });

  it('a segment missing in the middle: exit 6, the missing object, file and offset named', async () => {
    const key = middleSegment();
    const original = await store.get(key);
    await store.delete([key]);
    try {
      const { r, report } = await verify();
      assert.equal(r.code, 6, r.stdout + r.stderr);
      const p = report.problems.find((x) => x.kind === 'segment-missing' || x.kind === 'file-missing');
      assert.ok(p, JSON.stringify(report.problems));
      assert.equal(p.object, key);
      const [, , file, start] = key.split('/');
      assert.equal(p.file, file);
      assert.equal(p.offset, Number(start!.slice(0, 20)));
      const text = await cli(['verify']);
      assert.match(text.stdout, new RegExp(escape(key)));
    } finally {
      await store.put(key, original);
    }
  });

  it('a backup dump deleted under its manifest: exit 5, the object named, no window from it', async () => {
    // a split backup (the default) has parts: one of them goes missing
    const dataKey = (backup.dump ?? backup.parts![backup.parts!.length - 1]!).key;
    const original = await store.get(dataKey);
    await store.delete([dataKey]);
    try {
      const { r, report } = await verify();
      assert.equal(r.code, 5, r.stdout + r.stderr);
      const p = report.problems.find((x) => x.kind === 'backup-object-missing');
      assert.equal(p?.object, dataKey);
      assert.deepEqual(report.windows, []);
      const text = await cli(['verify']);
      assert.match(
        text.stdout,
        new RegExp(`PROBLEM backup-object-missing: backup ${backup.id}: .*${escape(dataKey)}`),
      );
      assert.match(text.stdout, /restorable windows: none/);
    } finally {
      await store.put(dataKey, original);
    }
    assert.equal((await verify()).r.code, 0);
  });
});
