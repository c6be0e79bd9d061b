/**
 * TLS end to end through the CLI, with a private CA made by the harness (test/support/tls-certs.ts)
 * and MariaDB servers serving its certificates. Every account used requires TLS (REQUIRE SSL), so a
 * command that fell back to plain TCP would fail.
 *
 * - the good certificate (localhost, 127.0.0.1) works with --tls-mode verify-identity for `archive`,
 *   `backup create` (mariadb-dump), `restore pitr` (mariadb-binlog, the batch applier and the
 *   mariadb client) and `restore replica`, whose replica connects to the primary with
 *   MASTER_SSL_VERIFY_SERVER_CERT=1;
 * - a certificate for another host name, one from another CA, and an expired one each make every
 *   command exit 3 at once with a message naming the problem (the archiver does not retry);
 * - verify-ca accepts the certificate for another host name (it checks only the CA), and
 *   preferred (the default) connects to all of them without checking;
 * - the child processes (`mariadb-dump`, `mariadb`, `mariadb-binlog`) get no password in their
 *   environment (a PATH shim records it).
 *
 * The servers are shared: a bad certificate is put in place with FLUSH SSL, not a restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli, type CliResult } from '../support/run-cli.js';
import {
  makeTestCertificates,
  serverTlsArgs,
  type CertPair,
  type TestCertificates,
} from '../support/tls-certs.js';

const TLS_USER = { user: 'tlsuser', password: 'tls-secret-pw-7f3a' };
/** An account that needs a client certificate signed by the CA (REQUIRE X509). */
const X509_USER = { user: 'x509user', password: 'tls-secret-pw-7f3a' };

async function createTlsUser(server: MariadbServer): Promise<void> {
  const c = await server.connect();
  try {
    await c.query('SET SESSION sql_log_bin = 0');
    await c.query(`CREATE USER ?@'%' IDENTIFIED BY ? REQUIRE SSL`, [TLS_USER.user, TLS_USER.password]);
    await c.query(`GRANT ALL PRIVILEGES ON *.* TO ?@'%' WITH GRANT OPTION`, [TLS_USER.user]);
  } finally {
    await c.end();
  }
}

describe('TLS to every server (private CA)', () => {
  let certs: TestCertificates;
  let source: MariadbServer;
  let target: MariadbServer;
  let work: string;
  let repo: string;
  let shimDir: string;
  let envDir: string;
  const pathEnv = (): { PATH: string } => ({ PATH: `${shimDir}:/usr/sbin:${process.env.PATH ?? ''}` });
  const verify = (): string[] => ['--tls-mode', 'verify-identity', '--tls-ca', certs.ca];
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(args, {
      env: {
        ...pathEnv(),
        MYSQL_PITR_SOURCE_PASSWORD: TLS_USER.password,
        MYSQL_PITR_TARGET_PASSWORD: TLS_USER.password,
        MYSQL_PITR_PRIMARY_PASSWORD: TLS_USER.password,
        AWS_SECRET_ACCESS_KEY: 'aws-secret-for-test',
        MYSQL_PWD: 'mysql-pwd-for-test',
        ...env,
      },
      timeoutMs: 120_000,
    });
  const archive = (tls: string[]): Promise<CliResult> =>
    cli(['archive', '--source', source.url(TLS_USER.user), '--repo', repo, '--until-caught-up', ...tls]);
  const backup = (tls: string[]): Promise<CliResult> =>
    cli(['backup', 'create', '--source', source.url(TLS_USER.user), '--repo', repo, ...tls]);
  const restorePitr = (tls: string[]): Promise<CliResult> =>
    cli([
      'restore', 'pitr', '--repo', repo, '--target', target.url(TLS_USER.user), '--to', 'latest',
      '--force', '--yes', '--no-progress', '--applier', 'client', ...tls,
    ]); // prettier-ignore
  const restoreReplica = (tls: string[], extra: string[] = []): Promise<CliResult> =>
    cli([
      'restore', 'replica', '--repo', repo, '--target', target.url(TLS_USER.user),
      '--primary', source.url(TLS_USER.user), '--force', '--yes', '--no-progress', ...tls, ...extra,
    ]); // prettier-ignore
  const serve = async (server: MariadbServer, pair: CertPair): Promise<void> => {
    certs.useServerCert(pair);
    await server.query('FLUSH SSL');
  };

  before(async () => {
    certs = makeTestCertificates();
    [source, target] = await Promise.all([
      startMariadb({ extraArgs: serverTlsArgs(certs) }),
      startMariadb({ binlog: false, extraArgs: serverTlsArgs(certs) }),
    ]);
    await Promise.all([createTlsUser(source), createTlsUser(target)]);
    const c = await source.connect();
    try {
      await c.query('SET SESSION sql_log_bin = 0');
      await c.query(`CREATE USER ?@'%' IDENTIFIED BY ? REQUIRE X509`, [X509_USER.user, X509_USER.password]);
      await c.query(`GRANT ALL PRIVILEGES ON *.* TO ?@'%'`, [X509_USER.user]);
    } finally {
      await c.end();
    }
    work = await mkdtemp(join(tmpdir(), 'pitr-tls-'));
    repo = pathToFileURL(join(work, 'repo')).href;
    // PATH shims: record the environment of every client process, then run the real program
    shimDir = join(work, 'bin');
    envDir = join(work, 'env');
    mkdirSync(shimDir);
    mkdirSync(envDir);
    for (const p of ['mariadb', 'mariadb-dump', 'mariadb-binlog']) {
      const shim = join(shimDir, p);
      writeFileSync(shim, `#!/bin/sh\nenv > "${envDir}/${p}.$$"\nexec /usr/bin/${p} "$@"\n`);
      chmodSync(shim, 0o755);
    }
    await source.query('CREATE DATABASE shop');
    await source.query('CREATE TABLE shop.orders (id INT PRIMARY KEY, note VARCHAR(40))');
    for (let i = 1; i <= 20; i++) await source.query('INSERT INTO shop.orders VALUES (?, ?)', [i, `o${i}`]);
  });

  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
    certs?.remove();
  });

  it('the good certificate works with verify-identity: archive, backup create, restore pitr, restore replica', async () => {
    const b = await backup(verify());
    assert.equal(b.code, 0, b.stderr);
    for (let i = 21; i <= 30; i++) await source.query('INSERT INTO shop.orders VALUES (?, ?)', [i, `o${i}`]);
    const a = await archive(verify());
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /archived up to mysql-bin\.\d+:\d+/);

    const r = await restorePitr(verify());
    assert.equal(r.code, 0, r.stderr);
    const [n] = await target.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM shop.orders');
    assert.equal(Number(n!.n), 30, 'the backup and the archived binlogs were applied over TLS');

    const rr = await restoreReplica(verify(), [
      '--primary-tls-mode',
      'verify-identity',
      '--primary-tls-ca',
      certs.ca,
    ]);
    assert.equal(rr.code, 0, rr.stderr);
    const [st] = await target.query<Record<string, unknown>[]>('SHOW SLAVE STATUS');
    assert.equal(st?.['Slave_IO_Running'], 'Yes');
    assert.equal(st?.['Master_SSL_Allowed'], 'Yes');
    assert.equal(st?.['Master_SSL_CA_File'], certs.ca);
    assert.equal(st?.['Master_SSL_Verify_Server_Cert'], 'Yes');
    await source.query('INSERT INTO shop.orders VALUES (31, ?)', ['after']);
    let rows = 0;
    for (let i = 0; i < 100 && rows !== 31; i++) {
      await sleep(200);
      rows = Number((await target.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM shop.orders'))[0]!.n);
    }
    assert.equal(rows, 31, 'the replica follows the primary over verified TLS');
    await target.query('STOP SLAVE');
    await target.query('RESET SLAVE ALL');
  });

  it('child processes get no password in their environment', () => {
    const files = readdirSync(envDir);
    for (const p of ['mariadb', 'mariadb-dump', 'mariadb-binlog'])
      assert.ok(
        files.some((f) => f.startsWith(`${p}.`)),
        `${p} ran through the shim (files: ${files.join(' ')})`,
      );
    for (const f of files) {
      const env = readFileSync(join(envDir, f), 'utf8');
      assert.ok(!env.includes(TLS_USER.password), `${f}: the password is not in the environment`);
      assert.doesNotMatch(
        env,
        /PASSWORD|MYSQL_PWD|MYSQL_PITR_|AWS_SECRET|for-test/,
        `${f}: no credential variable`,
      );
      assert.match(env, /^PATH=/m, `${f}: PATH is kept`);
    }
  });

  const bad: [string, () => CertPair, RegExp][] = [
    ['a certificate for another host name', () => certs.wrongHost, /issued for another host name/],
    [
      'a certificate from another CA',
      () => certs.otherCa,
      /not signed by a trusted CA: give the CA .* --tls-ca/,
    ],
    ['an expired certificate', () => certs.expired, /certificate has expired: renew it/],
  ];
  for (const [what, pair, message] of bad) {
    it(`${what}: every command exits 3 at once, naming the problem`, async () => {
      await serve(source, pair());
      await serve(target, pair());
      try {
        // the four commands at once: each fails at its first connection, before touching anything
        const names = ['archive', 'backup create', 'restore pitr', 'restore replica'];
        const results = await Promise.all([
          archive(verify()),
          backup(verify()),
          restorePitr(verify()),
          restoreReplica(verify()),
        ]);
        results.forEach((r, i) => {
          const name = names[i]!;
          assert.equal(r.code, 3, `${name}: ${r.stderr}`);
          assert.match(r.stderr, /TLS certificate rejected/, name);
          assert.match(r.stderr, message, name);
          assert.doesNotMatch(r.stderr, /reconnecting/, `${name}: not retried`);
        });
      } finally {
        await serve(source, certs.good);
        await serve(target, certs.good);
      }
    });
  }

  it('verify-ca accepts a certificate for another host name; preferred (the default) checks nothing; a client certificate is sent', async () => {
    await serve(source, certs.wrongHost);
    try {
      const x509 = (tls: string[]): Promise<CliResult> =>
        cli(['backup', 'create', '--source', source.url(X509_USER.user), '--repo', repo, ...tls]);
      const verifyCa = ['--tls-mode', 'verify-ca', '--tls-ca', certs.ca];
      const [b, other, a, withCert, withoutCert] = await Promise.all([
        backup(verifyCa),
        backup(['--tls-mode', 'verify-ca', '--tls-ca', certs.otherCaCert]),
        archive([]),
        x509([...verifyCa, '--tls-cert', certs.client.cert, '--tls-key', certs.client.key]),
        x509(verifyCa),
      ]);
      // the client certificate reaches both mysql2 and mariadb-dump
      assert.equal(withCert.code, 0, `REQUIRE X509 with --tls-cert/--tls-key: ${withCert.stderr}`);
      assert.equal(withoutCert.code, 3, withoutCert.stderr);
      assert.match(withoutCert.stderr, /Access denied for user 'x509user'/);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(other.code, 3, other.stderr);
      assert.match(other.stderr, /not signed by a trusted CA/);
      assert.equal(a.code, 0, `preferred over an unchecked certificate, with REQUIRE SSL: ${a.stderr}`);
    } finally {
      await serve(source, certs.good);
    }
  });

  it('a bad TLS mode is a usage error naming the option (the other checks: test/unit/tls-settings.test.ts)', async () => {
    const r = await backup(['--tls-mode', 'verify-full']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--tls-mode/);
  });
});
