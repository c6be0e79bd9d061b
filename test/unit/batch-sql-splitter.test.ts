/**
 * BatchSqlSplitter over real mariadb-binlog 10.11 output (abridged from a test server's binlog):
 * statements, positions and transaction starts, the same whatever the chunking (every split
 * point, and byte by byte).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BatchSqlSplitter, type BinlogSqlItem } from '../../src/restore/apply/batch-sql-splitter.js';

const OUTPUT = Buffer.concat([
  Buffer.from(
    [
      '/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/;',
      '/*!40019 SET @@session.max_delayed_threads=0*/;',
      'DELIMITER /*!*/;',
      '# at 4',
      '#261125 22:04:57 server id 629201  end_log_pos 256 CRC32 0x7bf8e54e \tStart: binlog v 4, server v 10.11.19-MariaDB-0+deb12u1-log created 261125 22:04:57 at startup',
      'ROLLBACK/*!*/;',
      "BINLOG '",
      'mSUmaQ/RmAkA/AAAAAABAAABAAQAMTAuMTEuMTktTWFyaWFEQi0wK2RlYjEydTEtbG9nAAAAAAAA',
      "'/*!*/;",
      '# at 328',
      '#261125 22:04:57 server id 629201  end_log_pos 370 CRC32 0xa487edaa \tGTID 0-629201-1 ddl',
      '/*M!100001 SET @@session.gtid_seq_no=1*//*!*/;',
      '# at 370',
      '#261125 22:04:57 server id 629201  end_log_pos 451 CRC32 0xfcfdb2e2 \tQuery\tthread_id=6\texec_time=0\terror_code=0\txid=0',
      'SET TIMESTAMP=1795644297/*!*/;',
      '/*!\\C utf8mb4 *//*!*/;',
      'CREATE TABLE d.t (id INT PRIMARY KEY, -- a comment',
      '  v VARCHAR(200))',
      '/*!*/;',
      '# at 633',
      '#261125 22:04:57 server id 629201  end_log_pos 675 CRC32 0xfe334962 \tGTID 0-629201-3 trans',
      '/*M!100001 SET @@session.gtid_seq_no=3*//*!*/;',
      'START TRANSACTION',
      '/*!*/;',
      '# at 675',
      '# at 730',
      '#261125 22:04:57 server id 629201  end_log_pos 730 CRC32 0xefc7494b \tAnnotate_rows:',
      "#Q> INSERT INTO d.t (v) VALUES ('a')",
      '',
      "BINLOG '",
      'mSUmaRPRmAkALAAAAAYDAAAAABUAAAAAAAEAAWQAAXQAAgMPAiADAQIDAAB4dYEU',
      'mSUmaRfRmAkAKAAAAC4DAAAAABUAAAAAAAEAAgL8AQAAAAFhUVBA4Q==',
      "'/*!*/;",
      '# Number of rows: 1',
      '# at 1398',
      "INSERT INTO d.t VALUES (2, '",
    ].join('\n'),
  ),
  Buffer.from([0xff, 0x00, 0xfe, 0x0a, 0x27, 0x27]),
  Buffer.from(
    [
      "')",
      '/*!*/;',
      '# at 814',
      '#261125 22:04:57 server id 629201  end_log_pos 845 CRC32 0xb20f7329 \tXid = 11',
      'COMMIT/*!*/;',
      'DELIMITER ;',
      '# End of log file',
      'ROLLBACK /* added by mysqlbinlog */;',
      '/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=0*/;',
      '',
    ].join('\n'),
  ),
]);

const stmt = (s: string | Buffer): BinlogSqlItem => ({
  kind: 'statement',
  sql: typeof s === 'string' ? Buffer.from(s) : s,
});
const at = (position: number): BinlogSqlItem => ({ kind: 'position', position });

const EXPECTED: BinlogSqlItem[] = [
  stmt('/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/'),
  stmt('/*!40019 SET @@session.max_delayed_threads=0*/'),
  at(4),
  stmt('ROLLBACK'),
  stmt("BINLOG '\nmSUmaQ/RmAkA/AAAAAABAAABAAQAMTAuMTEuMTktTWFyaWFEQi0wK2RlYjEydTEtbG9nAAAAAAAA\n'"),
  at(328),
  { kind: 'transaction', gtid: '0-629201-1', position: 328 },
  stmt('/*M!100001 SET @@session.gtid_seq_no=1*/'),
  at(370),
  stmt('SET TIMESTAMP=1795644297'),
  stmt('SET NAMES utf8mb4'),
  stmt('CREATE TABLE d.t (id INT PRIMARY KEY, -- a comment\n  v VARCHAR(200))'),
  at(633),
  { kind: 'transaction', gtid: '0-629201-3', position: 633 },
  stmt('/*M!100001 SET @@session.gtid_seq_no=3*/'),
  stmt('START TRANSACTION'),
  at(675),
  at(730),
  stmt(
    "BINLOG '\nmSUmaRPRmAkALAAAAAYDAAAAABUAAAAAAAEAAWQAAXQAAgMPAiADAQIDAAB4dYEU\nmSUmaRfRmAkAKAAAAC4DAAAAABUAAAAAAAEAAgL8AQAAAAFhUVBA4Q==\n'",
  ),
  at(1398),
  stmt(
    Buffer.concat([
      Buffer.from("INSERT INTO d.t VALUES (2, '"),
      Buffer.from([0xff, 0x00, 0xfe, 0x0a, 0x27, 0x27]),
      Buffer.from("')"),
    ]),
  ),
  at(814),
  stmt('COMMIT'),
  stmt('ROLLBACK /* added by mysqlbinlog */'),
  stmt('/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=0*/'),
];

function split(chunks: Buffer[]): { items: BinlogSqlItem[]; rest: string | undefined } {
  const s = new BatchSqlSplitter();
  const items = chunks.flatMap((c) => s.push(c));
  return { items, rest: s.end() };
}

describe('BatchSqlSplitter', () => {
  it('splits mariadb-binlog output into statements, positions and transaction starts', () => {
    const { items, rest } = split([OUTPUT]);
    assert.deepEqual(items, EXPECTED);
    assert.equal(rest, undefined);
  });

  it('gives the same items for every split point', () => {
    for (let i = 1; i < OUTPUT.length; i++) {
      const { items, rest } = split([OUTPUT.subarray(0, i), OUTPUT.subarray(i)]);
      assert.deepEqual(items, EXPECTED, `split at ${i}`);
      assert.equal(rest, undefined);
    }
  });

  it('gives the same items fed byte by byte', () => {
    const chunks = [...OUTPUT].map((b) => Buffer.from([b]));
    assert.deepEqual(split(chunks).items, EXPECTED);
  });

  it('reports output that ends inside a statement', () => {
    const cut = OUTPUT.indexOf("BINLOG '\nmSUmaRP");
    const { rest } = split([OUTPUT.subarray(0, cut + 20)]);
    assert.match(rest ?? '', /^BINLOG '/);
  });

  it('a MySQL GTID_NEXT starts a transaction; AUTOMATIC and ANONYMOUS do not', () => {
    const text = Buffer.from(
      [
        'DELIMITER /*!*/;',
        '# at 235',
        "SET @@SESSION.GTID_NEXT= '3e11fa47-71ca-11e1-9e33-c80aa9429562:42'/*!*/;",
        'BEGIN',
        '/*!*/;',
        '# at 300',
        "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'/*!*/;",
        "SET @@SESSION.GTID_NEXT= 'AUTOMATIC' /* added by mysqlbinlog */ /*!*/;",
        '',
      ].join('\n'),
    );
    const kinds = split([text]).items.map((i) => (i.kind === 'statement' ? i.sql.toString() : i));
    assert.deepEqual(kinds, [
      at(235),
      { kind: 'transaction', gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:42', position: 235 },
      "SET @@SESSION.GTID_NEXT= '3e11fa47-71ca-11e1-9e33-c80aa9429562:42'",
      'BEGIN',
      at(300),
      "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'",
      "SET @@SESSION.GTID_NEXT= 'AUTOMATIC' /* added by mysqlbinlog */",
    ]);
  });
});
