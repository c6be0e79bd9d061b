import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  atLeastTlsMode,
  clientEnvironment,
  loadTlsSettings,
  mysql2SslOptions,
  tlsCertificateProblem,
  tlsClientArgs,
  type TlsSettings,
} from '../../src/mysql/index.js';
import { replicaSourceSql, replicaTlsOptions } from '../../src/restore/index.js';

const paths = { caFile: '/etc/pitr/ca.pem', certFile: '/etc/pitr/c.pem', keyFile: '/etc/pitr/k.pem' };
const settings = (mode: TlsSettings['mode'], files = true): TlsSettings => ({
  mode,
  ...(files ? paths : {}),
});

describe('loadTlsSettings', () => {
  it('reads the files once and accepts the mysql client spellings of the modes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitr-tls-unit-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
      const s = loadTlsSettings({ mode: 'VERIFY_IDENTITY', caFile: join(dir, 'ca.pem') });
      assert.equal(s.mode, 'verify-identity');
      assert.equal(s.ca?.toString(), 'CA PEM');
      assert.ok(Object.isFrozen(s));
      const remote = loadTlsSettings({ mode: 'verify-ca', caFile: '/nowhere/ca.pem', readFiles: false });
      assert.equal(remote.ca, undefined, 'a file another host reads is not opened here');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown mode, a lone certificate or key, files with disabled, an unreadable file', () => {
    const refused = (input: Parameters<typeof loadTlsSettings>[0], re: RegExp): void =>
      assert.throws(
        () => loadTlsSettings(input),
        (e: unknown) => (e as { code?: string }).code === 'CONFIG_INVALID' && re.test((e as Error).message),
      );
    refused({ mode: 'verify-full' }, /--tls-mode verify-full is not one of disabled, preferred/);
    refused({ mode: 'required', certFile: '/c' }, /--tls-cert and --tls-key go together/);
    refused(
      { mode: 'required', keyFile: '/k', flagPrefix: 'primary-tls' },
      /--primary-tls-cert and --primary-tls-key/,
    );
    refused({ mode: 'disabled', caFile: '/ca' }, /disabled contradicts/);
    refused({ mode: 'verify-ca', caFile: '/nowhere/ca.pem' }, /--tls-ca \/nowhere\/ca\.pem cannot be read/);
  });

  it('?ssl=true raises preferred to required and never lowers a mode', () => {
    assert.equal(atLeastTlsMode(settings('preferred'), 'required').mode, 'required');
    assert.equal(atLeastTlsMode(settings('verify-identity'), 'required').mode, 'verify-identity');
  });
});

describe('mysql2SslOptions', () => {
  const s = (mode: TlsSettings['mode']): TlsSettings => ({
    mode,
    ca: Buffer.from('ca'),
    cert: Buffer.from('c'),
    key: Buffer.from('k'),
  });
  it('checks the chain from verify-ca on and the host name only with verify-identity', () => {
    assert.equal(mysql2SslOptions(undefined), undefined);
    assert.equal(mysql2SslOptions(s('disabled')), undefined);
    for (const mode of ['preferred', 'required'] as const) {
      const o = mysql2SslOptions(s(mode))!;
      assert.equal(o.rejectUnauthorized, false, mode);
      assert.equal(o.verifyIdentity, false, mode);
      assert.equal(o.ca, undefined, `${mode}: no CA, no check`);
      assert.equal(o.cert?.toString(), 'c', `${mode}: the client certificate is still sent`);
    }
    const ca = mysql2SslOptions(s('verify-ca'))!;
    assert.equal(ca.rejectUnauthorized, true);
    assert.equal(ca.verifyIdentity, false);
    assert.equal(ca.ca?.toString(), 'ca');
    const id = mysql2SslOptions(s('verify-identity'))!;
    assert.equal(id.rejectUnauthorized, true);
    assert.equal(id.verifyIdentity, true);
  });
});

describe('tlsClientArgs', () => {
  it('MariaDB tools: --ssl, --ssl-ca and --ssl-verify-server-cert by mode', () => {
    assert.deepEqual(tlsClientArgs(settings('disabled', false), 'mariadb'), ['--skip-ssl']);
    assert.deepEqual(tlsClientArgs(settings('preferred'), 'mariadb'), [
      '--ssl-cert=/etc/pitr/c.pem',
      '--ssl-key=/etc/pitr/k.pem',
      '--skip-ssl-verify-server-cert',
    ]);
    assert.deepEqual(tlsClientArgs(settings('required', false), 'mariadb'), [
      '--ssl',
      '--skip-ssl-verify-server-cert',
    ]);
    assert.deepEqual(tlsClientArgs(settings('verify-ca', false), 'mariadb'), ['--ssl']);
    assert.deepEqual(tlsClientArgs(settings('verify-identity'), 'mariadb'), [
      '--ssl',
      '--ssl-ca=/etc/pitr/ca.pem',
      '--ssl-cert=/etc/pitr/c.pem',
      '--ssl-key=/etc/pitr/k.pem',
      '--ssl-verify-server-cert',
    ]);
  });

  it('MySQL tools: --ssl-mode and the files; nothing over a socket or without settings', () => {
    assert.deepEqual(tlsClientArgs(settings('verify-identity'), 'mysql'), [
      '--ssl-mode=VERIFY_IDENTITY',
      '--ssl-ca=/etc/pitr/ca.pem',
      '--ssl-cert=/etc/pitr/c.pem',
      '--ssl-key=/etc/pitr/k.pem',
    ]);
    assert.deepEqual(tlsClientArgs(settings('verify-ca', false), 'mysql'), ['--ssl-mode=VERIFY_CA']);
    assert.deepEqual(tlsClientArgs(settings('verify-identity'), 'mariadb', true), []);
    assert.deepEqual(tlsClientArgs(undefined, 'mysql'), []);
  });
});

describe('replica TLS (MASTER_SSL*, SOURCE_SSL*)', () => {
  it('maps each mode; preferred leaves the server default', () => {
    assert.deepEqual(replicaTlsOptions('mariadb', settings('preferred')), []);
    assert.deepEqual(replicaTlsOptions('mariadb', settings('disabled', false)), ['MASTER_SSL=0']);
    assert.deepEqual(replicaTlsOptions('mariadb', settings('required', false)), [
      'MASTER_SSL=1',
      'MASTER_SSL_VERIFY_SERVER_CERT=0',
    ]);
    assert.deepEqual(replicaTlsOptions('mysql', settings('verify-identity')), [
      'SOURCE_SSL=1',
      "SOURCE_SSL_CA='/etc/pitr/ca.pem'",
      "SOURCE_SSL_CERT='/etc/pitr/c.pem'",
      "SOURCE_SSL_KEY='/etc/pitr/k.pem'",
      'SOURCE_SSL_VERIFY_SERVER_CERT=1',
    ]);
  });

  it('goes into CHANGE MASTER TO, quoted', () => {
    const sql = replicaSourceSql({
      flavor: 'mariadb',
      host: 'db1',
      port: 3306,
      user: 'repl',
      start: { kind: 'gtid', gtid: '0-1-5' },
      tls: { mode: 'verify-ca', caFile: "/etc/it's.pem" },
    });
    assert.ok(
      sql.includes(
        "CHANGE MASTER TO MASTER_HOST='db1', MASTER_PORT=3306, MASTER_USER='repl', MASTER_SSL=1, " +
          "MASTER_SSL_CA='/etc/it''s.pem', MASTER_SSL_VERIFY_SERVER_CERT=0, MASTER_USE_GTID=slave_pos",
      ),
      sql.join('\n'),
    );
  });
});

describe('tlsCertificateProblem', () => {
  it("names the problem from Node's TLS errors, also after mysql2 replaced the code", () => {
    const e = (message: string, code = 'HANDSHAKE_SSL_ERROR'): Error =>
      Object.assign(new Error(message), { code });
    assert.equal(tlsCertificateProblem(e('certificate has expired')), 'expired');
    assert.equal(tlsCertificateProblem(e('self-signed certificate in certificate chain')), 'unknown-ca');
    assert.equal(tlsCertificateProblem(e('unable to verify the first certificate')), 'unknown-ca');
    assert.equal(
      tlsCertificateProblem(
        e("Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: "),
      ),
      'host-mismatch',
    );
    assert.equal(tlsCertificateProblem(e('read ECONNRESET', 'ECONNRESET')), undefined);
    assert.equal(tlsCertificateProblem('not an error'), undefined);
  });
});

describe('clientEnvironment', () => {
  it('keeps what a client needs and drops mysql-pitr settings and credentials', () => {
    assert.deepEqual(
      clientEnvironment({
        PATH: '/usr/bin',
        HOME: '/root',
        LANG: 'C.UTF-8',
        ARGV_LOG: '/tmp/x',
        MYSQL_PITR_SOURCE_PASSWORD: 'a',
        MYSQL_PITR_REPO: 's3://b/p',
        MYSQL_PWD: 'b',
        AWS_ACCESS_KEY_ID: 'c',
        AWS_SECRET_ACCESS_KEY: 'd',
        AWS_SESSION_TOKEN: 'e',
        GITHUB_TOKEN: 'f',
        UNSET: undefined,
      }),
      { PATH: '/usr/bin', HOME: '/root', LANG: 'C.UTF-8', ARGV_LOG: '/tmp/x' },
    );
  });
});
