import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import {
  BINLOG_DUMP_NON_BLOCK,
  BINLOG_SEND_ANNOTATE_ROWS_EVENT,
  BINLOG_THROUGH_GTID,
  BINLOG_THROUGH_POSITION,
  MAX_DUMP_POSITION,
  decodeErrPacket,
  encodeBinlogDump,
  encodeBinlogDumpGtid,
  encodeRegisterReplica,
} from '../../src/mysql/index.js';
import { readRotateEvent } from '../../src/binlog/index.js';

describe('replication packets (client -> source payloads)', () => {
  it('COM_BINLOG_DUMP: command, 4-byte position, flags, server_id, file name to the end', () => {
    const p = encodeBinlogDump({
      file: 'mysql-bin.000042',
      position: 0xfffffff0,
      flags: BINLOG_DUMP_NON_BLOCK | BINLOG_SEND_ANNOTATE_ROWS_EVENT,
      serverId: 0x50495452,
    });
    assert.equal(
      p.toString('hex'),
      '12' + 'f0ffffff' + '0300' + '52544950' + Buffer.from('mysql-bin.000042').toString('hex'),
    );
  });

  it('COM_BINLOG_DUMP refuses positions its 4-byte field cannot hold (mysql2 truncates them silently)', () => {
    assert.throws(
      () => encodeBinlogDump({ file: 'f', position: MAX_DUMP_POSITION + 1, flags: 0, serverId: 1 }),
      RangeError,
    );
    assert.throws(() => encodeBinlogDump({ file: 'f', position: -1, flags: 0, serverId: 1 }), RangeError);
    assert.throws(() => encodeBinlogDump({ file: 'f', position: 4.5, flags: 0, serverId: 1 }), RangeError);
  });

  it('COM_BINLOG_DUMP_GTID: 8-byte position, and the GTID set only with BINLOG_THROUGH_GTID', () => {
    const plain = encodeBinlogDumpGtid({
      file: 'b.1',
      position: 2 ** 33 + 4,
      flags: BINLOG_THROUGH_POSITION,
      serverId: 7,
    });
    assert.equal(
      plain.toString('hex'),
      '1e' + '0200' + '07000000' + '03000000' + Buffer.from('b.1').toString('hex') + '0400000002000000',
    );
    const withSet = encodeBinlogDumpGtid({ file: '', position: 4, flags: BINLOG_THROUGH_GTID, serverId: 7 });
    // ... name length 0, position, data size 8, an empty encoded set (n_sids = 0)
    assert.equal(withSet.subarray(11).toString('hex'), '0400000000000000' + '08000000' + '0000000000000000');
  });

  it('COM_REGISTER_SLAVE: server_id, length-prefixed strings, port, rank and master id', () => {
    const p = encodeRegisterReplica({ serverId: 5, hostname: 'pitr', port: 3306 });
    assert.equal(
      p.toString('hex'),
      '15' + '05000000' + '04' + '70697472' + '00' + '00' + 'ea0c' + '00000000' + '00000000',
    );
    assert.throws(() => encodeRegisterReplica({ serverId: 1, hostname: 'x'.repeat(256) }), RangeError);
  });

  it('decodes an ERR packet with and without SQLSTATE', () => {
    const msg = 'Could not find first log file name in binary log index file';
    const withState = Buffer.concat([
      Buffer.from([0xff, 0xd4, 0x04]),
      Buffer.from('#HY000'),
      Buffer.from(msg),
    ]);
    const e = decodeErrPacket(withState);
    assert.deepEqual(
      { errno: e.errno, sqlState: e.sqlState, sqlMessage: e.sqlMessage },
      { errno: 1236, sqlState: 'HY000', sqlMessage: msg },
    );
    const bare = decodeErrPacket(Buffer.concat([Buffer.from([0xff, 0x15, 0x04]), Buffer.from('denied')]));
    assert.deepEqual(
      { errno: bare.errno, sqlState: bare.sqlState, sqlMessage: bare.sqlMessage },
      { errno: 1045, sqlState: '', sqlMessage: 'denied' },
    );
  });

  it('reads a ROTATE event with and without a CRC32 trailer', () => {
    const body = Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('mysql-bin.000002')]);
    const header = Buffer.alloc(19);
    header.writeUInt8(4, 4);
    const noCrc = Buffer.concat([header, body]);
    noCrc.writeUInt32LE(noCrc.length, 9);
    assert.deepEqual(readRotateEvent(noCrc), { position: 4, file: 'mysql-bin.000002' });
    const withCrc = Buffer.concat([header, body, Buffer.alloc(4)]);
    withCrc.writeUInt32LE(withCrc.length, 9);
    withCrc.writeUInt32LE(crc32(withCrc.subarray(0, withCrc.length - 4)), withCrc.length - 4);
    // the trailer is recognised by itself (the artificial ROTATE comes before any FDE)
    assert.deepEqual(readRotateEvent(withCrc), { position: 4, file: 'mysql-bin.000002' });
  });
});
