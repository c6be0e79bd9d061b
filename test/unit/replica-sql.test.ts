import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CorruptDataError } from '../../src/errors/index.js';
import { GtidError } from '../../src/gtid/index.js';
import {
  parseReplicaStatus,
  replicaHealth,
  replicaSetDelaySql,
  replicaSourceSql,
  sqlString,
  type ReplicaSourceOptions,
} from '../../src/restore/index.js';

const base = { host: 'db1.internal', port: 3306, user: 'repl', password: 's3cret' };

describe('replicaSourceSql', () => {
  it('MariaDB with a GTID position: gtid_slave_pos then MASTER_USE_GTID=slave_pos', () => {
    assert.deepEqual(
      replicaSourceSql({ ...base, flavor: 'mariadb', start: { kind: 'gtid', gtid: '0-1-42, 1-2-7' } }),
      [
        'STOP SLAVE',
        'RESET SLAVE ALL',
        "SET GLOBAL gtid_slave_pos = '0-1-42,1-2-7'",
        "CHANGE MASTER TO MASTER_HOST='db1.internal', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='s3cret', MASTER_USE_GTID=slave_pos",
        'START SLAVE',
      ],
    );
  });

  it('MariaDB without a GTID: file and position, GTID off, and MASTER_DELAY', () => {
    assert.deepEqual(
      replicaSourceSql({
        ...base,
        flavor: 'mariadb',
        start: { kind: 'position', file: 'mysql-bin.000007', position: 1234 },
        delaySeconds: 3600,
      }),
      [
        'STOP SLAVE',
        'RESET SLAVE ALL',
        "CHANGE MASTER TO MASTER_HOST='db1.internal', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='s3cret', " +
          "MASTER_LOG_FILE='mysql-bin.000007', MASTER_LOG_POS=1234, MASTER_USE_GTID=no, MASTER_DELAY=3600",
        'START SLAVE',
      ],
    );
  });

  it('MySQL with a GTID set: RESET MASTER, GTID_PURGED, SOURCE_AUTO_POSITION=1 (8.0.23+ syntax)', () => {
    const gtid = '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42';
    assert.deepEqual(
      replicaSourceSql({ ...base, flavor: 'mysql', start: { kind: 'gtid', gtid }, delaySeconds: 60 }),
      [
        'STOP REPLICA',
        'RESET REPLICA ALL',
        'RESET MASTER',
        `SET GLOBAL GTID_PURGED = '${gtid}'`,
        "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db1.internal', SOURCE_PORT=3306, SOURCE_USER='repl', SOURCE_PASSWORD='s3cret', " +
          'SOURCE_AUTO_POSITION=1, SOURCE_DELAY=60',
        'START REPLICA',
      ],
    );
  });

  it('MySQL without a GTID: SOURCE_LOG_FILE / SOURCE_LOG_POS, auto position off', () => {
    const sql = replicaSourceSql({
      ...base,
      flavor: 'mysql',
      start: { kind: 'position', file: 'binlog.000003', position: 157 },
    });
    assert.equal(sql.length, 4);
    assert.match(sql[2]!, /SOURCE_LOG_FILE='binlog\.000003', SOURCE_LOG_POS=157, SOURCE_AUTO_POSITION=0$/);
    assert.ok(!sql.some((s) => s.includes('RESET MASTER')), 'no RESET MASTER without a GTID set');
  });

  it('quotes a password with quotes and backslashes, and redacts it on request', () => {
    const pw = `it's a \\"trap\\' ; DROP TABLE x; --`;
    const opts: ReplicaSourceOptions = {
      ...base,
      password: pw,
      flavor: 'mariadb',
      start: { kind: 'gtid', gtid: '0-1-1' },
    };
    const change = replicaSourceSql(opts)[3]!;
    assert.ok(change.includes(`MASTER_PASSWORD='it''s a \\\\"trap\\\\'' ; DROP TABLE x; --'`), change);
    const redacted = replicaSourceSql({ ...opts, redactPassword: true })[3]!;
    assert.ok(redacted.includes("MASTER_PASSWORD='***'"));
    assert.ok(!redacted.includes('trap'));
    const noPw = replicaSourceSql({ ...opts, password: undefined })[3]!;
    assert.ok(!noPw.includes('MASTER_PASSWORD'));
  });

  it('sqlString escapes every character that could end or bend the literal', () => {
    assert.equal(sqlString("a'b"), "'a''b'");
    assert.equal(sqlString('a\\b'), "'a\\\\b'");
    assert.equal(sqlString('a\nb\r\0\x1a'), "'a\\nb\\r\\0\\Z'");
  });

  it('refuses bad delays, GTIDs, coordinates and ports before anything runs', () => {
    const g = { kind: 'gtid', gtid: '0-1-1' } as const;
    for (const d of [-1, 1.5, 2 ** 31, Number.NaN]) {
      assert.throws(() => replicaSourceSql({ ...base, flavor: 'mariadb', start: g, delaySeconds: d }), {
        code: 'USAGE',
      });
    }
    assert.throws(
      () => replicaSourceSql({ ...base, flavor: 'mariadb', start: { kind: 'gtid', gtid: "0-1-1'; DROP" } }),
      (err: unknown) =>
        err instanceof GtidError &&
        err.code === 'GTID_INVALID' &&
        /manifest may be damaged/.test(err.message),
    );
    assert.throws(
      () => replicaSourceSql({ ...base, flavor: 'mysql', start: { kind: 'gtid', gtid: "uuid:1'--" } }),
      (err: unknown) =>
        err instanceof GtidError &&
        err.code === 'GTID_INVALID' &&
        /manifest may be damaged/.test(err.message),
    );
    assert.throws(
      () =>
        replicaSourceSql({
          ...base,
          flavor: 'mariadb',
          start: { kind: 'position', file: "x'y", position: 4 },
        }),
      (err: unknown) =>
        err instanceof CorruptDataError &&
        err.code === 'CORRUPT_DATA' &&
        /use another backup/.test(err.message),
    );
    assert.throws(
      () =>
        replicaSourceSql({
          ...base,
          flavor: 'mariadb',
          start: { kind: 'position', file: 'm.000001', position: 2 },
        }),
      (err: unknown) =>
        err instanceof CorruptDataError &&
        err.code === 'CORRUPT_DATA' &&
        /use another backup/.test(err.message),
    );
    assert.throws(() => replicaSourceSql({ ...base, port: 0, flavor: 'mariadb', start: g }), {
      code: 'USAGE',
    });
  });
});

describe('replicaSetDelaySql', () => {
  it('MySQL stops only the SQL thread; MariaDB (which refuses CHANGE MASTER with the IO thread running) both', () => {
    assert.deepEqual(replicaSetDelaySql('mariadb', 30), [
      'STOP SLAVE',
      'CHANGE MASTER TO MASTER_DELAY=30',
      'START SLAVE',
    ]);
    assert.deepEqual(replicaSetDelaySql('mysql', 0), [
      'STOP REPLICA SQL_THREAD',
      'CHANGE REPLICATION SOURCE TO SOURCE_DELAY=0',
      'START REPLICA SQL_THREAD',
    ]);
    assert.throws(() => replicaSetDelaySql('mariadb', -5), { code: 'USAGE' });
  });
});

describe('parseReplicaStatus / replicaHealth', () => {
  const row = (over: Record<string, unknown>): Record<string, unknown> => ({
    Slave_IO_Running: 'Yes',
    Slave_SQL_Running: 'Yes',
    Seconds_Behind_Master: 0,
    SQL_Delay: 4,
    Last_IO_Errno: 0,
    Last_IO_Error: '',
    Last_SQL_Errno: 0,
    Last_SQL_Error: '',
    ...over,
  });

  it('reads both vocabularies', () => {
    const m = parseReplicaStatus(row({}))!;
    assert.equal(m.sqlDelay, 4);
    assert.equal(m.secondsBehindSource, 0);
    const my = parseReplicaStatus({
      Replica_IO_Running: 'Yes',
      Replica_SQL_Running: 'No',
      Seconds_Behind_Source: null,
      SQL_Delay: 60,
      Last_IO_Errno: 0,
      Last_SQL_Errno: 0,
    })!;
    assert.equal(my.ioRunning, 'Yes');
    assert.equal(my.sqlRunning, 'No');
    assert.equal(my.secondsBehindSource, null);
    assert.equal(parseReplicaStatus(undefined), undefined);
  });

  it('judges running, starting, 1236 and other failures', () => {
    assert.deepEqual(replicaHealth(parseReplicaStatus(row({}))), { state: 'running' });
    assert.deepEqual(replicaHealth(undefined), { state: 'starting' });
    assert.deepEqual(replicaHealth(parseReplicaStatus(row({ Slave_IO_Running: 'Connecting' }))), {
      state: 'starting',
    });
    const purged = replicaHealth(
      parseReplicaStatus(
        row({ Slave_IO_Running: 'No', Last_IO_Errno: 1236, Last_IO_Error: 'Could not find GTID state' }),
      ),
    );
    assert.equal(purged.state, 'source-binlogs-missing');
    assert.equal(
      replicaHealth(parseReplicaStatus(row({ Slave_IO_Running: 'No', Last_IO_Errno: 1045 }))).state,
      'io-failed',
    );
    assert.equal(
      replicaHealth(parseReplicaStatus(row({ Slave_SQL_Running: 'No', Last_SQL_Errno: 1062 }))).state,
      'sql-failed',
    );
  });
});
