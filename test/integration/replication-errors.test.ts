/**
 * The replication client's failures against real servers: each gives its typed error, carrying the
 * server's errno/sqlState/message where there is one, and a message that says what to do next.
 * Two servers for the whole file: one with the binary log on, one with it off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { freePort } from '../support/free-port.js';
import {
  BinlogUnavailableError,
  MysqlConnectionError,
  MysqlPrerequisiteError,
  MysqlServerError,
  checkSourcePrerequisites,
  connectMysql,
  openBinlogStream,
  readSourceFacts,
  type BinlogDumpOptions,
} from '../../src/mysql/index.js';

const NOREPL = { user: 'norepl', password: 'norepl-pw' };
const TLSREPL = { user: 'tlsrepl', password: 'tlsrepl-pw' };

/** A throwaway CA and a server certificate for 127.0.0.1, made with openssl. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=pitr-test-ca',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
  run(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server-key.pem',
    '-out',
    'server.csr',
  );
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > ext.cnf'], { cwd: dir });
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.pem',
  );
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') };
}

describe('replication client: errors from real servers', () => {
  let source: MariadbServer;
  let noBinlog: MariadbServer;
  let firstLog: string;
  let certDir: string;
  let caPem: string;

  const opts = (s: MariadbServer, o: Partial<BinlogDumpOptions> = {}): BinlogDumpOptions => ({
    host: s.host,
    port: s.port,
    user: s.repl.user,
    password: s.repl.password,
    file: firstLog,
    nonBlocking: true,
    serverId: 951,
    ...o,
  });

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'pitr-tls-'));
    const certs = makeCertificates(certDir);
    caPem = readFileSync(certs.ca, 'utf8');
    [source, noBinlog] = await Promise.all([
      startMariadb({
        extraArgs: [`--ssl-ca=${certs.ca}`, `--ssl-cert=${certs.cert}`, `--ssl-key=${certs.key}`],
      }),
      startMariadb({ binlog: false }),
    ]);
    const admin = await source.connect();
    try {
      // the accounts stay out of the binlog (one connection: sql_log_bin is per session)
      await admin.query('SET SESSION sql_log_bin = 0');
      await admin.query(`CREATE USER '${NOREPL.user}'@'%' IDENTIFIED BY '${NOREPL.password}'`);
      await admin.query(`GRANT SELECT ON *.* TO '${NOREPL.user}'@'%'`);
      await admin.query(`CREATE USER '${TLSREPL.user}'@'%' IDENTIFIED BY '${TLSREPL.password}' REQUIRE SSL`);
      await admin.query(`GRANT REPLICATION SLAVE ON *.* TO '${TLSREPL.user}'@'%'`);
      await admin.query('SET SESSION sql_log_bin = 1');
      await admin.query('CREATE DATABASE e');
      await admin.query('CREATE TABLE e.t (id INT PRIMARY KEY) ENGINE=InnoDB');
      await admin.query('INSERT INTO e.t VALUES (1), (2), (3)');
    } finally {
      await admin.end();
    }
    const logs = await source.query<{ Log_name: string }[]>('SHOW BINARY LOGS');
    firstLog = logs[0]!.Log_name;
  });

  after(async () => {
    await Promise.all([source?.stop(), noBinlog?.stop()]);
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('reads the source facts a healthy source must have, and they pass the prerequisites', async () => {
    const conn = await connectMysql(opts(source));
    try {
      const facts = await readSourceFacts(conn, source.url('repl'));
      assert.equal(facts.flavor, 'mariadb');
      assert.equal(facts.logBin, true);
      assert.equal(facts.binlogFormat, 'ROW');
      assert.equal(facts.binlogChecksum, 'CRC32');
      assert.equal(facts.serverId, source.serverId);
      assert.equal(facts.gtidDomainId, 0);
      assert.equal(facts.hasReplicationSlave, true);
      assert.equal(facts.binaryLogs?.[0]?.name, firstLog);
      assert.equal(facts.current?.file, facts.binaryLogs?.at(-1)?.name);
      assert.ok(facts.versionNumber.major >= 10);
      assert.deepEqual(checkSourcePrerequisites(facts).warnings, []);
    } finally {
      await conn.end();
    }
  });

  it('streams over TLS (verified against the CA) for an account that requires it; refused without TLS', async () => {
    const stream = await openBinlogStream(
      opts(source, { ...TLSREPL, ssl: { ca: caPem, rejectUnauthorized: true } }),
    );
    let events = 0;
    for await (const item of stream) if (item.kind === 'event') events++;
    // FDE, GTID_LIST, BINLOG_CHECKPOINT, then 3 transactions of at least 2 events each
    assert.ok(events >= 9, `streamed ${events} events over TLS`);
    await assert.rejects(openBinlogStream(opts(source, TLSREPL)), (err: unknown) => {
      assert.ok(err instanceof MysqlServerError, String(err));
      assert.equal(err.errno, 1045);
      return true;
    });
    // a CA that did not sign the server certificate: the handshake fails, nothing is sent
    const otherDir = mkdtempSync(join(tmpdir(), 'pitr-tls-other-'));
    try {
      const other = readFileSync(makeCertificates(otherDir).ca, 'utf8');
      await assert.rejects(
        openBinlogStream(opts(source, { ...TLSREPL, ssl: { ca: other, rejectUnauthorized: true } })),
        (err: unknown) =>
          err instanceof MysqlConnectionError &&
          err.reason === 'HANDSHAKE_SSL_ERROR' &&
          /self-signed certificate/.test(err.message) &&
          /check the CA, the certificate/.test(err.message),
      );
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('wrong password: MysqlServerError 1045 (28000) telling to check the credentials', async () => {
    await assert.rejects(openBinlogStream(opts(source, { password: 'wrong' })), (err: unknown) => {
      assert.ok(err instanceof MysqlServerError, String(err));
      assert.equal(err.code, 'MYSQL_SERVER_ERROR');
      assert.equal(err.errno, 1045);
      assert.equal(err.sqlState, '28000');
      assert.match(err.sqlMessage, /Access denied for user 'repl'/);
      assert.match(err.message, /connect to mysql:\/\/repl@127\.0\.0\.1:\d+ failed: server error 1045/);
      assert.match(err.message, /Check the user name and password/);
      assert.doesNotMatch(err.message, /wrong/); // never the password
      return true;
    });
  });

  it('unreachable port: MysqlConnectionError ECONNREFUSED naming host:port and what to check', async () => {
    const port = await freePort();
    await assert.rejects(openBinlogStream(opts(source, { port })), (err: unknown) => {
      assert.ok(err instanceof MysqlConnectionError, String(err));
      assert.equal(err.code, 'MYSQL_CONNECTION');
      assert.equal(err.reason, 'ECONNREFUSED');
      assert.equal(err.target, `127.0.0.1:${port}`);
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(err.message, /check the host and port, that the server runs/);
      return true;
    });
  });

  it('a binlog file that does not exist: BinlogUnavailableError 1236 saying it was purged or never existed', async () => {
    await assert.rejects(openBinlogStream(opts(source, { file: 'mysql-bin.999999' })), (err: unknown) => {
      assert.ok(err instanceof BinlogUnavailableError, String(err));
      assert.equal(err.errno, 1236);
      assert.equal(err.sqlState, 'HY000');
      assert.match(err.sqlMessage, /Could not find first log file/i);
      assert.equal(err.file, 'mysql-bin.999999');
      assert.equal(err.position, 4);
      assert.match(err.message, /no longer has mysql-bin\.999999/);
      assert.match(err.message, /SHOW BINARY LOGS/);
      return true;
    });
  });

  it('a position inside an event: BinlogUnavailableError saying to resume from a recorded position', async () => {
    // the source announces the file (artificial ROTATE, FDE) before it finds the position is bad
    const stream = await openBinlogStream(opts(source, { position: 10 }));
    const kinds: string[] = [];
    const drain = async (): Promise<void> => {
      for await (const item of stream) kinds.push(item.kind);
    };
    await assert.rejects(drain(), (err: unknown) => {
      assert.ok(err instanceof BinlogUnavailableError, String(err));
      assert.equal(err.errno, 1236);
      assert.equal(err.position, 10);
      assert.match(err.message, /Position 10 is not the start of an event/);
      return true;
    });
    assert.deepEqual(kinds, ['rotate-artificial', 'format-description-resend']);
  });

  it('a user without REPLICATION SLAVE: MysqlServerError with the GRANT to run', async () => {
    await assert.rejects(openBinlogStream(opts(source, NOREPL)), (err: unknown) => {
      assert.ok(err instanceof MysqlServerError, String(err));
      // MariaDB answers COM_REGISTER_SLAVE with 1045 (MySQL: 1227 ER_SPECIFIC_ACCESS_DENIED_ERROR)
      assert.equal(err.errno, 1045);
      assert.equal(err.sqlState, '28000');
      assert.match(err.message, /login worked but the account lacks a privilege/);
      assert.match(err.message, /GRANT REPLICATION SLAVE, BINLOG MONITOR ON \*\.\* TO 'norepl'@'%'/);
      assert.doesNotMatch(err.message, /Check the user name and password/);
      return true;
    });
    // the prerequisite check says the same before any dump is tried
    const conn = await connectMysql(opts(source, NOREPL));
    try {
      const facts = await readSourceFacts(conn);
      assert.equal(facts.hasReplicationSlave, false);
      assert.equal(facts.binaryLogs, undefined); // no BINLOG MONITOR either
      assert.throws(
        () => checkSourcePrerequisites(facts),
        (err: unknown) =>
          err instanceof MysqlPrerequisiteError &&
          err.prerequisite === 'replication_slave_privilege' &&
          /GRANT REPLICATION SLAVE/.test(err.message),
      );
    } finally {
      await conn.end();
    }
  });

  it('a source with log_bin off: MysqlPrerequisiteError log_bin saying how to turn it on', async () => {
    await assert.rejects(openBinlogStream(opts(noBinlog)), (err: unknown) => {
      assert.ok(err instanceof MysqlPrerequisiteError, String(err));
      assert.equal(err.code, 'MYSQL_PREREQUISITE');
      assert.equal(err.prerequisite, 'log_bin');
      assert.match(err.message, /binary log off \(log_bin=OFF\)/);
      assert.match(err.message, /Set log_bin=mysql-bin/);
      return true;
    });
    const conn = await connectMysql(opts(noBinlog));
    try {
      const facts = await readSourceFacts(conn);
      assert.equal(facts.logBin, false);
      assert.throws(
        () => checkSourcePrerequisites(facts),
        (err: unknown) => err instanceof MysqlPrerequisiteError && err.prerequisite === 'log_bin',
      );
    } finally {
      await conn.end();
    }
  });

  it("a replica server_id equal to the source's: MysqlPrerequisiteError server_id", async () => {
    await assert.rejects(openBinlogStream(opts(source, { serverId: source.serverId })), (err: unknown) => {
      assert.ok(err instanceof MysqlPrerequisiteError, String(err));
      assert.equal(err.prerequisite, 'server_id');
      assert.match(err.message, /choose another \(unique\) server_id/);
      return true;
    });
  });

  it('a second dump with the same server_id: the first one ends with the server error and advice', async () => {
    // MariaDB stops the older dump with ER_SLAVE_SAME_ID (MySQL drops its connection instead)
    const first = await openBinlogStream(opts(source, { nonBlocking: false, serverId: 977 }));
    // settles with the error (or undefined) as soon as it happens: no unhandled rejection meanwhile
    const firstOutcome = (async (): Promise<void> => {
      for await (const _ of first) {
        // wait for events until the source stops this dump
      }
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    const second = await openBinlogStream(opts(source, { nonBlocking: false, serverId: 977 }));
    try {
      const err = await firstOutcome;
      assert.ok(err instanceof MysqlServerError, String(err));
      assert.equal(err.errno, 4052); // ER_SLAVE_SAME_ID
      assert.match(err.sqlMessage, /same server_uuid\/server_id/);
      assert.match(err.message, /give each one a unique server_id/);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
