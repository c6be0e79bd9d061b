import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BinlogUnavailableError,
  MysqlConnectionError,
  MysqlPrerequisiteError,
  MysqlServerError,
  checkSourcePrerequisites,
  grantsHaveReplicationSlave,
  toMysqlError,
  type SourceFacts,
} from '../../src/mysql/index.js';
import { exitCodeFor } from '../../src/errors/index.js';

const serverError = (errno: number, sqlMessage: string, sqlState = 'HY000') =>
  Object.assign(new Error(sqlMessage), { errno, sqlState, sqlMessage });
const ctx = {
  attempted: 'stream mysql-bin.000009 @ 4 from mysql://repl@db1:3306',
  target: 'db1:3306',
  user: 'repl',
};

describe('toMysqlError: typed errors with advice', () => {
  it('1236 with a file becomes BinlogUnavailableError telling the file was purged', () => {
    const err = toMysqlError(
      serverError(1236, 'Could not find first log file name in binary log index file'),
      {
        ...ctx,
        file: 'mysql-bin.000009',
        position: 4,
      },
    );
    assert.ok(err instanceof BinlogUnavailableError);
    assert.equal(err.code, 'MYSQL_SERVER_ERROR');
    assert.match(err.message, /no longer has mysql-bin\.000009/);
    assert.equal(exitCodeFor(err.code), 3);
  });

  it('1045 before login says check the password; after login it says grant the privilege', () => {
    const denied = serverError(
      1045,
      "Access denied for user 'repl'@'10.0.0.1' (using password: YES)",
      '28000',
    );
    const login = toMysqlError(denied, ctx);
    assert.ok(login instanceof MysqlServerError);
    assert.match(login.message, /Check the user name and password/);
    const later = toMysqlError(denied, { ...ctx, authenticated: true });
    assert.match(later.message, /GRANT REPLICATION SLAVE, BINLOG MONITOR ON \*\.\* TO 'repl'@'%'/);
  });

  it('names the server_id clash for MariaDB 4052 and for MySQL 1236', () => {
    const maria = toMysqlError(
      serverError(4052, 'A slave with the same server_uuid/server_id is already connected'),
      ctx,
    );
    assert.match(maria.message, /unique server_id/);
    const mysql = toMysqlError(
      serverError(
        1236,
        'A slave with the same server_uuid/server_id as this slave has connected to the master',
      ),
      { ...ctx, file: 'mysql-bin.000009' },
    );
    assert.match(mysql.message, /unique server_id/);
    assert.ok(mysql instanceof MysqlServerError && !(mysql instanceof BinlogUnavailableError));
  });

  it('network failures become MysqlConnectionError with the code and advice', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = toMysqlError(refused, ctx);
    assert.ok(err instanceof MysqlConnectionError);
    assert.equal(err.reason, 'ECONNREFUSED');
    assert.match(err.message, /Nothing accepts connections there/);
    const lost = toMysqlError(
      Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' }),
      ctx,
    );
    assert.match(lost.message, /same server_id/);
  });

  it('passes a PitrError through unchanged', () => {
    const original = new MysqlPrerequisiteError('log_bin', 'OFF', 'x');
    assert.equal(toMysqlError(original, ctx), original);
  });
});

function facts(over: Partial<SourceFacts> = {}): SourceFacts {
  return {
    flavor: 'mariadb',
    version: '10.11.19-MariaDB',
    versionNumber: { major: 10, minor: 11, patch: 19 },
    logBin: true,
    binlogFormat: 'ROW',
    binlogChecksum: 'CRC32',
    serverId: 1,
    logBinBasename: '/var/lib/mysql/mysql-bin',
    gtidDomainId: 0,
    binaryLogs: [{ name: 'mysql-bin.000001', size: 100 }],
    current: { file: 'mysql-bin.000001', position: 100 },
    hasReplicationSlave: true,
    grants: ['GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`%`'],
    ...over,
  };
}

describe('checkSourcePrerequisites', () => {
  const failsOn = (f: SourceFacts, prerequisite: string, text: RegExp, opts = {}) =>
    assert.throws(
      () => checkSourcePrerequisites(f, opts),
      (err: unknown) =>
        err instanceof MysqlPrerequisiteError && err.prerequisite === prerequisite && text.test(err.message),
    );

  it('accepts a healthy source without warnings', () => {
    assert.deepEqual(checkSourcePrerequisites(facts()).warnings, []);
  });
  it('refuses log_bin off, server_id 0, a missing REPLICATION SLAVE, an unknown checksum', () => {
    failsOn(
      facts({ logBin: false }),
      'log_bin',
      /Set log_bin=mysql-bin and server_id in my\.cnf \[mariadbd\]/,
    );
    failsOn(facts({ serverId: 0 }), 'server_id', /non-zero/);
    failsOn(
      facts({ hasReplicationSlave: false }),
      'replication_slave_privilege',
      /GRANT REPLICATION SLAVE, BINLOG MONITOR/,
    );
    failsOn(facts({ binlogChecksum: 'SHA1' }), 'binlog_checksum', /use CRC32 or NONE/);
  });
  it('warns about STATEMENT format, NONE checksum and an unlistable binlog; refuses STATEMENT on request', () => {
    const w = checkSourcePrerequisites(
      facts({ binlogFormat: 'STATEMENT', binlogChecksum: 'NONE', binaryLogs: undefined }),
    );
    assert.equal(w.warnings.length, 3);
    failsOn(facts({ binlogFormat: 'MIXED' }), 'binlog_format', /binlog_format=ROW/, {
      requireRowFormat: true,
    });
  });
  it('reads REPLICATION SLAVE from SHOW GRANTS lines, unknowable through roles', () => {
    assert.equal(grantsHaveReplicationSlave(['GRANT ALL PRIVILEGES ON *.* TO `a`@`%`']), true);
    assert.equal(grantsHaveReplicationSlave(['GRANT SELECT ON *.* TO `a`@`%`']), false);
    assert.equal(grantsHaveReplicationSlave(['GRANT REPLICATION SLAVE ON `db`.* TO `a`@`%`']), false);
    assert.equal(
      grantsHaveReplicationSlave(['GRANT USAGE ON *.* TO `a`@`%`', 'GRANT `r` TO `a`@`%`']),
      undefined,
    );
  });
});
