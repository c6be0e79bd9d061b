import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DumpCoordinatesScanner, type DumpCoordinates } from '../../src/backup/dump-coordinates-scanner.js';

// The shape mariadb-dump 10.11 prints with --master-data=2 --gtid (coordinates at the top, the
// GTID position near the end), with table data that mentions the same words inside strings.
const MARIADB_DUMP = [
  '/*M!999999\\- enable the sandbox mode */ ',
  '-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)',
  '--',
  '/*!40101 SET NAMES utf8mb4 */;',
  '-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;',
  '',
  '-- A corresponding to the above master-data CHANGE-MASTER settings to the slave gtid state is printed later in the file.',
  '',
  "-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000042', MASTER_LOG_POS=1015;",
  '',
  'CREATE TABLE `t` (`id` int, `v` text);',
  "INSERT INTO `t` VALUES (1,'\\n-- CHANGE MASTER TO MASTER_LOG_FILE=\\'evil.000001\\', MASTER_LOG_POS=4;'),(2,'x');",
  "INSERT INTO `t` VALUES (3,'" + 'y'.repeat(300) + "');",
  "-- SET GLOBAL gtid_slave_pos='0-1-17,5-2-3';",
  '/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;',
  '',
  '-- Dump completed on 2026-11-25 19:29:05',
  '',
].join('\n');

// MySQL 8.0.26+ mysqldump with --source-data=2 and GTIDs: GTID_PURGED spans lines.
const MYSQL_DUMP = [
  '-- MySQL dump 10.13  Distrib 8.0.45, for Linux (x86_64)',
  'SET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN;',
  'SET @@SESSION.SQL_LOG_BIN= 0;',
  '',
  '--',
  '-- GTID state at the beginning of the backup ',
  '--',
  '',
  "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,",
  "a1b2c3d4-0000-11e1-9e33-c80aa9429562:1-77';",
  '',
  '--',
  '-- Position to start replication or point-in-time recovery from',
  '--',
  '',
  "-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000002', SOURCE_LOG_POS=157;",
  "INSERT INTO `t` VALUES (1,'a');",
  '-- Dump completed on 2026-11-25 19:29:05',
].join('\n'); // no trailing newline: the last line still counts

function scan(text: string, splits: number[]): DumpCoordinates {
  const bytes = Buffer.from(text, 'utf8');
  const s = new DumpCoordinatesScanner();
  let from = 0;
  for (const at of splits) {
    s.push(bytes.subarray(from, at));
    from = at;
  }
  s.push(bytes.subarray(from));
  return s.end();
}

const MARIADB_EXPECTED: DumpCoordinates = {
  binlogFile: 'mysql-bin.000042',
  binlogPosition: 1015,
  mariadbGtidPos: '0-1-17,5-2-3',
  completed: true,
};
const MYSQL_EXPECTED: DumpCoordinates = {
  binlogFile: 'binlog.000002',
  binlogPosition: 157,
  mysqlGtidPurged: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,a1b2c3d4-0000-11e1-9e33-c80aa9429562:1-77',
  completed: true,
};

describe('DumpCoordinatesScanner', () => {
  it('reads MariaDB coordinates, GTID position and the trailer in one chunk', () => {
    assert.deepEqual(scan(MARIADB_DUMP, []), MARIADB_EXPECTED);
  });

  it('reads MariaDB coordinates with the text split at every offset', () => {
    const n = Buffer.byteLength(MARIADB_DUMP);
    for (let at = 0; at <= n; at++)
      assert.deepEqual(scan(MARIADB_DUMP, [at]), MARIADB_EXPECTED, `split at ${at}`);
  });

  it('reads MariaDB coordinates fed one byte at a time', () => {
    const n = Buffer.byteLength(MARIADB_DUMP);
    assert.deepEqual(
      scan(
        MARIADB_DUMP,
        Array.from({ length: n }, (_, i) => i),
      ),
      MARIADB_EXPECTED,
    );
  });

  it('reads MySQL 8 coordinates and a multi-line GTID_PURGED at every split offset', () => {
    const n = Buffer.byteLength(MYSQL_DUMP);
    for (let at = 0; at <= n; at++)
      assert.deepEqual(scan(MYSQL_DUMP, [at]), MYSQL_EXPECTED, `split at ${at}`);
    assert.deepEqual(
      scan(
        MYSQL_DUMP,
        Array.from({ length: n }, (_, i) => i),
      ),
      MYSQL_EXPECTED,
    );
  });

  it('reads the pre-8.0.23 MySQL form (-- CHANGE MASTER TO) and an uncommented CHANGE MASTER (--master-data=1)', () => {
    const old =
      "-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=4;\n-- Dump completed\n";
    assert.deepEqual(scan(old, [10]), { binlogFile: 'mysql-bin.000003', binlogPosition: 4, completed: true });
    const one = "CHANGE MASTER TO MASTER_LOG_FILE='m.000009', MASTER_LOG_POS=99;\n";
    assert.deepEqual(scan(one, []), { binlogFile: 'm.000009', binlogPosition: 99, completed: false });
  });

  it('reports a truncated dump: no trailer, and no GTID position when the end is missing', () => {
    const cut = MARIADB_DUMP.slice(0, MARIADB_DUMP.indexOf('INSERT INTO `t` VALUES (3'));
    assert.deepEqual(scan(cut, [7]), {
      binlogFile: 'mysql-bin.000042',
      binlogPosition: 1015,
      completed: false,
    });
  });

  it('ignores coordinates-looking text that does not start a line, and keeps the first CHANGE MASTER', () => {
    const text =
      "INSERT INTO t VALUES ('-- Dump completed'),('-- CHANGE MASTER TO MASTER_LOG_FILE=''x.1'', MASTER_LOG_POS=5;');\n" +
      "-- CHANGE MASTER TO MASTER_LOG_FILE='a.000001', MASTER_LOG_POS=10;\n" +
      "-- CHANGE MASTER TO MASTER_LOG_FILE='b.000001', MASTER_LOG_POS=20;\n";
    assert.deepEqual(scan(text, [3, 90]), { binlogFile: 'a.000001', binlogPosition: 10, completed: false });
  });

  it('skips very long data lines without buffering them', () => {
    const big = 'INSERT INTO t VALUES ' + '(1),'.repeat(2_000_000) + '(2);\n';
    const s = new DumpCoordinatesScanner();
    s.push(Buffer.from(big));
    s.push(
      Buffer.from(
        "-- CHANGE MASTER TO MASTER_LOG_FILE='z.000001', MASTER_LOG_POS=7;\n-- Dump completed on x\n",
      ),
    );
    assert.deepEqual(s.end(), { binlogFile: 'z.000001', binlogPosition: 7, completed: true });
  });
});

describe('DumpCoordinatesScanner: a dump taken on a MariaDB replica (--dump-slave=2 --gtid)', () => {
  it("reads the primary's coordinates from `CHANGE MASTER '' TO` and the replica's gtid_slave_pos", () => {
    // as mariadb-dump 10.11 prints them (captured from a test replica)
    const dump = [
      '-- Use only the MASTER_USE_GTID=slave_pos or MASTER_LOG_FILE/MASTER_LOG_POS in the statements below.',
      "-- CHANGE MASTER '' TO MASTER_USE_GTID=slave_pos;",
      "-- CHANGE MASTER '' TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=790;",
      'INSERT INTO t VALUES (1);',
      '-- GTID position to start replication:',
      "-- SET GLOBAL gtid_slave_pos='0-2871301-3';",
      '-- Dump completed on 2026-12-05  5:57:01',
      '',
    ].join('\n');
    for (let cut = 0; cut <= dump.length; cut += 7) {
      const s = new DumpCoordinatesScanner();
      s.push(Buffer.from(dump.slice(0, cut)));
      s.push(Buffer.from(dump.slice(cut)));
      assert.deepEqual(s.end(), {
        binlogFile: 'mysql-bin.000001',
        binlogPosition: 790,
        mariadbGtidPos: '0-2871301-3',
        completed: true,
      });
    }
  });
});
