/**
 * Event bodies no fixture holds (MySQL 8.3+ tagged GTIDs, HEARTBEAT_V2), built byte by byte from the
 * protocol documentation and decoded through the parser in stream mode.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinlogEventParser, EventType, type BinlogEvent } from '../../src/binlog/index.js';
import { PitrError } from '../../src/errors/index.js';
import { resealEvent } from '../support/binlog-fixtures.js';

/** MySQL serialization library unsigned varlen integer (values below 2^56 here). */
function varlen(v: number): Buffer {
  let n = 1;
  while (n < 8 && v >= 2 ** (7 * n)) n++;
  const out = Buffer.alloc(n);
  // bits: (n-1) ones, a zero, then the value
  let encoded = BigInt(v) * 2n ** BigInt(n) + (2n ** BigInt(n - 1) - 1n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(encoded & 0xffn);
    encoded >>= 8n;
  }
  return out;
}

const zigzag = (v: number): number => (v >= 0 ? v * 2 : -v * 2 - 1);

/** A whole event with a CRC32 trailer. */
function event(type: number, body: Buffer): Buffer {
  const raw = Buffer.alloc(19 + body.length + 4);
  raw.writeUInt32LE(1_700_000_000, 0);
  raw[4] = type;
  raw.writeUInt32LE(7, 5);
  raw.writeUInt32LE(raw.length, 9);
  body.copy(raw, 19);
  resealEvent(raw);
  return raw;
}

function decodeOne(raw: Buffer): BinlogEvent {
  const parser = new BinlogEventParser({ object: 'synthetic', mode: 'stream', checksumAlgorithm: 'CRC32' });
  const [e] = parser.push(raw);
  parser.end();
  return e!;
}

const SID = Buffer.from('3e11fa4771ca11e19e33c80aa9429562', 'hex');

describe('event bodies without a fixture', () => {
  it('GTID_TAGGED (type 42): serialized fields, tag lowercased, timestamps and length', () => {
    const fields = Buffer.concat([
      varlen(0),
      varlen(1), // gtid_flags
      varlen(1),
      Buffer.concat([...SID].map((b) => varlen(b))), // sid as 16 varlen bytes
      varlen(2),
      varlen(zigzag(42)), // gno
      varlen(3),
      varlen(5),
      Buffer.from('Alpha'), // tag
      varlen(4),
      varlen(zigzag(7)), // last_committed
      varlen(5),
      varlen(zigzag(8)), // sequence_number
      varlen(6),
      varlen(1_700_000_000_123_456), // immediate_commit_timestamp
      varlen(8),
      varlen(1234), // transaction_length
      varlen(9),
      varlen(80400), // immediate_server_version
    ]);
    // payload_size counts the format byte, itself, last_non_ignorable_field_id and the fields
    const lnif = varlen(9);
    let size = 1 + lnif.length + fields.length + 1;
    size = 1 + lnif.length + fields.length + varlen(size).length;
    const body = Buffer.concat([Buffer.from([0x02]), varlen(size), lnif, fields]);
    const d = decodeOne(event(EventType.GTID_TAGGED, body)).data;
    assert.deepEqual(d, {
      kind: 'mysql-gtid',
      hasGtid: true,
      flags: 1,
      uuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562',
      tag: 'alpha',
      gno: 42,
      lastCommitted: 7,
      sequenceNumber: 8,
      immediateCommitTimestamp: 1_700_000_000_123_456,
      originalCommitTimestamp: 1_700_000_000_123_456,
      transactionLength: 1234,
      immediateServerVersion: 80400,
      originalServerVersion: 80400,
    });
  });

  it('GTID_TAGGED with an unknown non-ignorable field is corrupt, not misread', () => {
    const fields = Buffer.concat([varlen(30), varlen(1)]);
    const lnif = varlen(40);
    const size = 1 + 1 + lnif.length + fields.length;
    const raw = event(
      EventType.GTID_TAGGED,
      Buffer.concat([Buffer.from([0x02]), varlen(size), lnif, fields]),
    );
    assert.throws(
      () => decodeOne(raw).data,
      (err: unknown) => err instanceof PitrError && err.code === 'CORRUPT_DATA',
    );
  });

  it('PREVIOUS_GTIDS in the tagged format (8.3+)', () => {
    const header = Buffer.alloc(8);
    header.writeBigUInt64LE((1n << 56n) | (2n << 8n) | 1n);
    const interval = (start: number, endExclusive: number): Buffer => {
      const b = Buffer.alloc(16);
      b.writeBigInt64LE(BigInt(start));
      b.writeBigInt64LE(BigInt(endExclusive), 8);
      return b;
    };
    const count = (n: number): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(n));
      return b;
    };
    const body = Buffer.concat([
      header,
      SID,
      varlen(0),
      count(2),
      interval(1, 6),
      interval(7, 8),
      SID,
      varlen(3),
      Buffer.from('abc'),
      count(1),
      interval(1, 4),
    ]);
    const d = decodeOne(event(EventType.PREVIOUS_GTIDS, body)).data;
    assert.ok(d?.kind === 'previous-gtids');
    assert.equal(d.gtids.toString(), '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7:abc:1-3');
  });

  it('HEARTBEAT_V2 (type 41): file name and 64-bit position fields; not part of the file', () => {
    const name = Buffer.from('binlog.000042');
    const pos = Buffer.alloc(9);
    pos[0] = 0xfe;
    pos.writeBigUInt64LE(5_000_000_000n, 1);
    const body = Buffer.concat([
      Buffer.from([1, name.length]),
      name,
      Buffer.from([2, pos.length]),
      pos,
      Buffer.from([0]),
    ]);
    const e = decodeOne(event(EventType.HEARTBEAT_V2, body));
    assert.equal(e.inFile, false);
    assert.deepEqual(e.data, { kind: 'heartbeat', file: 'binlog.000042', position: 5_000_000_000 });
  });

  it('MariaDB GTID (type 162) with a group commit id, and GTID_LIST', () => {
    const gtid = Buffer.alloc(8 + 4 + 1 + 8);
    gtid.writeBigUInt64LE(99n, 0);
    gtid.writeUInt32LE(3, 8);
    gtid[12] = 0x02 | 0x08; // GROUP_COMMIT_ID | ALLOW_PARALLEL
    gtid.writeBigUInt64LE(555n, 13);
    const d = decodeOne(event(EventType.MARIADB_GTID, gtid)).data;
    assert.ok(d?.kind === 'mariadb-gtid');
    assert.deepEqual(d.gtid, { domainId: 3, serverId: 7, seqNo: 99 });
    assert.equal(d.commitId, 555n);
    assert.deepEqual(d.flagNames, ['GROUP_COMMIT_ID', 'ALLOW_PARALLEL']);

    const list = Buffer.alloc(4 + 2 * 16);
    list.writeUInt32LE(2, 0);
    list.writeUInt32LE(0, 4);
    list.writeUInt32LE(1, 8);
    list.writeBigUInt64LE(10n, 12);
    list.writeUInt32LE(0, 20);
    list.writeUInt32LE(2, 24);
    list.writeBigUInt64LE(12n, 28);
    const l = decodeOne(event(EventType.MARIADB_GTID_LIST, list)).data;
    assert.ok(l?.kind === 'mariadb-gtid-list');
    assert.equal(l.gtids.length, 2);
    assert.equal(l.position.toString(), '0-2-12');
    // a count that does not fit the body is corrupt
    list.writeUInt32LE(3, 0);
    assert.throws(
      () => decodeOne(event(EventType.MARIADB_GTID_LIST, list)).data,
      (err: unknown) => err instanceof PitrError && err.code === 'CORRUPT_DATA',
    );
  });
});
