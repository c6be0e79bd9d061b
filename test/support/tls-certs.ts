/**
 * A private CA and server certificates for TLS tests, made with the openssl command line in a temp
 * directory:
 *
 * - `good`: for `localhost` and `127.0.0.1`, signed by the CA;
 * - `wrongHost`: for `db.example.invalid` only, signed by the CA;
 * - `otherCa`: for `localhost` and `127.0.0.1`, signed by another CA that nobody trusts;
 * - `expired`: for `localhost` and `127.0.0.1`, signed by the CA, valid only in 2020
 *   (`openssl ca -startdate/-enddate`: `-days` cannot go negative);
 * - `client`: a client certificate (CN `pitr-client`) signed by the CA.
 *
 * The server reads `serverCert`/`serverKey`; `useServerCert(name)` copies one of the pairs there, so
 * a running server switches to it with `FLUSH SSL` (MariaDB 10.4+), without a restart.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate and its key. */
export interface CertPair {
  cert: string;
  key: string;
}

/** The files made by makeTestCertificates. */
export interface TestCertificates {
  dir: string;
  /** PEM of the trusted CA. */
  ca: string;
  /** PEM of the CA that signed `otherCa`. */
  otherCaCert: string;
  good: CertPair;
  wrongHost: CertPair;
  otherCa: CertPair;
  expired: CertPair;
  client: CertPair;
  /** The paths a server is started with (ssl_cert, ssl_key); `good` at first. */
  serverCert: string;
  serverKey: string;
  /** Copies a pair over serverCert/serverKey (then run FLUSH SSL on the server). */
  useServerCert(pair: CertPair): void;
  /** Removes the directory. */
  remove(): void;
}

const LOCAL_SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1';

/** Makes the CA and the certificates. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'pitr-tls-certs-'));
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const makeCa = (name: string): void =>
    ssl(
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3',
      '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', `${name}-key.pem`, '-out', `${name}.pem`,
    ); // prettier-ignore
  const makeRequest = (name: string, cn: string): void =>
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}-key.pem`,
      '-out',
      `${name}.csr`,
    );
  const sign = (name: string, ca: string, san: string | undefined): CertPair => {
    writeFileSync(join(dir, `${name}.ext`), `${san ?? ''}\nbasicConstraints=CA:FALSE\n`);
    ssl(
      'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`,
      '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`,
    ); // prettier-ignore
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  };

  makeCa('ca');
  makeCa('other-ca');
  makeRequest('good', 'localhost');
  const good = sign('good', 'ca', LOCAL_SAN);
  makeRequest('wrong-host', 'db.example.invalid');
  const wrongHost = sign('wrong-host', 'ca', 'subjectAltName=DNS:db.example.invalid');
  makeRequest('other-ca-server', 'localhost');
  const otherCa = sign('other-ca-server', 'other-ca', LOCAL_SAN);
  makeRequest('client', 'pitr-client');
  const client = sign('client', 'ca', undefined);

  // expired: `openssl ca` is the one 3.0 command that takes explicit validity dates
  makeRequest('expired', 'localhost');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'certificate = $dir/ca.pem',
      'private_key = $dir/ca-key.pem',
      'default_md = sha256',
      'policy = any',
      'copy_extensions = none',
      'x509_extensions = server_ext',
      '[any]',
      'commonName = supplied',
      '[server_ext]',
      'basicConstraints = CA:FALSE',
      'subjectAltName = DNS:localhost,IP:127.0.0.1',
      '',
    ].join('\n'),
  );
  ssl(
    'ca', '-batch', '-config', 'ca.cnf', '-in', 'expired.csr', '-out', 'expired.pem',
    '-startdate', '20200101000000Z', '-enddate', '20200201000000Z',
  ); // prettier-ignore
  const expired = { cert: join(dir, 'expired.pem'), key: join(dir, 'expired-key.pem') };

  const serverCert = join(dir, 'server.pem');
  const serverKey = join(dir, 'server-key.pem');
  const useServerCert = (pair: CertPair): void => {
    copyFileSync(pair.cert, serverCert);
    copyFileSync(pair.key, serverKey);
  };
  useServerCert(good);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    otherCaCert: join(dir, 'other-ca.pem'),
    good,
    wrongHost,
    otherCa,
    expired,
    client,
    serverCert,
    serverKey,
    useServerCert,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The mariadbd options that serve `certs` (ssl_ca lets it check client certificates). */
export function serverTlsArgs(certs: TestCertificates): string[] {
  return [`--ssl-ca=${certs.ca}`, `--ssl-cert=${certs.serverCert}`, `--ssl-key=${certs.serverKey}`];
}
