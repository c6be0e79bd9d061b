import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decompress } from 'zstd-napi';
import {
  BinlogEventParser,
  crc32,
  EventType,
  LOG_EVENT_ARTIFICIAL_F,
  LOG_EVENT_BINLOG_IN_USE_F,
  TransactionTracker,
  transactionPayloadEvents,
  type BinlogEvent,
  type BinlogTransaction,
} from '../../src/binlog/index.js';
import { MysqlGtidSet } from '../../src/gtid/index.js';
import { PitrError } from '../../src/errors/index.js';
import { FIXTURES, readFixture, resealEvent } from '../support/binlog-fixtures.js';

const decompressPayload = (b: Buffer): Buffer => decompress(b);

interface Parsed {
  events: BinlogEvent[];
  transactions: BinlogTransaction[];
  parser: BinlogEventParser;
  tracker: TransactionTracker;
}

/** Parses `chunks` as one file, decoding every body and tracking transactions. */
function parseChunks(name: string, chunks: Buffer[], track = true): Parsed {
  const parser = new BinlogEventParser({ object: name, decompress: decompressPayload });
  const tracker = new TransactionTracker(name);
  const events: BinlogEvent[] = [];
  const transactions: BinlogTransaction[] = [];
  for (const c of chunks) {
    for (const e of parser.push(c)) {
      events.push(e);
      if (!track) continue;
      void e.data;
      const t = tracker.add(e);
      if (t) transactions.push(t);
    }
  }
  parser.end();
  return { events, transactions, parser, tracker };
}

/** A compact, comparable fingerprint of a parse. */
function fingerprint(p: Parsed): string {
  return JSON.stringify({
    events: p.events.map((e) => `${e.offset}:${e.endOffset}:${e.typeCode}:${crc32(e.raw)}`).join(','),
    trx: p.transactions,
  });
}

const SAKILA = 'mysql-bin.sakila.gz';

describe('BinlogEventParser on the real MySQL fixtures', () => {
  for (const fx of FIXTURES) {
    it(`${fx.file}: event count, types, transactions, checksums`, () => {
      const buf = readFixture(fx.file);
      const p = parseChunks(fx.file, [buf]);
      assert.equal(p.events.length, fx.events);
      const types: Record<string, number> = {};
      for (const e of p.events) types[e.typeName] = (types[e.typeName] ?? 0) + 1;
      assert.deepEqual(types, fx.types);
      assert.equal(p.parser.formatDescription?.serverVersion, fx.serverVersion);
      assert.equal(p.parser.checksumAlgorithm, fx.checksum);
      assert.equal(p.transactions.length, fx.transactions);
      assert.equal(p.tracker.completed, fx.transactions);
      if (fx.gtids)
        assert.deepEqual(
          p.transactions.map((t) => t.gtid),
          fx.gtids,
        );
      assert.equal(p.tracker.open?.startOffset, fx.openAt);
      // Offsets are contiguous from 4 to the file size, counted by the parser.
      let expected = 4;
      for (const e of p.events) {
        assert.equal(e.offset, expected);
        assert.equal(e.endOffset, e.offset + e.size);
        expected = e.endOffset;
      }
      assert.equal(expected, buf.length);
      assert.equal(p.parser.offset, buf.length);
      // Transactions tile the transactional part: each starts where it says and ends on an event end.
      const ends = new Set(p.events.map((e) => e.endOffset));
      const starts = new Set(p.events.map((e) => e.offset));
      for (const t of p.transactions) {
        assert.ok(starts.has(t.startOffset) && ends.has(t.endOffset) && t.endOffset > t.startOffset);
        assert.ok(t.commitTimestamp > 1_000_000_000 * 1_000_000, 'commit time after 2001');
      }
    });
  }

  it('mysql-8.0.45-gtid: GTID event fields, PREVIOUS_GTIDS, transaction_length', () => {
    const first = parseChunks('g1', [readFixture('mysql-8.0.45-gtid.000001')]);
    const gtidEvents = first.events.filter((e) => e.typeCode === EventType.GTID);
    const d = gtidEvents.map((e) => e.data);
    assert.deepEqual(
      d.map(
        (x) => x?.kind === 'mysql-gtid' && [x.gno, x.lastCommitted, x.sequenceNumber, x.transactionLength],
      ),
      [
        [1, 0, 1, 208],
        [2, 1, 2, 277],
        [3, 2, 3, 277],
        [4, 3, 4, 553],
      ],
    );
    for (const [i, t] of first.transactions.entries()) {
      const g = d[i];
      assert.ok(g?.kind === 'mysql-gtid');
      assert.equal(t.endOffset - t.startOffset, g.transactionLength);
      assert.equal(t.commitTimestamp, g.immediateCommitTimestamp);
      assert.equal(g.immediateServerVersion, 80045);
    }
    assert.deepEqual(
      first.transactions.map((t) => t.end),
      ['statement', 'xid', 'xid', 'xid'],
    );
    assert.deepEqual(first.transactions[1]!.tables, ['test.t1']);
    const ddl = first.events.find((e) => e.typeCode === EventType.QUERY)!.data;
    assert.ok(ddl?.kind === 'query');
    assert.equal(ddl.schema, 'test');
    assert.match(ddl.statement, /^CREATE TABLE t1/);
    const rotate = first.events.at(-1)!.data;
    assert.deepEqual(rotate, { kind: 'rotate', position: 4, nextFile: 'binlog.000002' });

    const second = parseChunks('g2', [readFixture('mysql-8.0.45-gtid.000002')]);
    const prev = second.events.find((e) => e.typeCode === EventType.PREVIOUS_GTIDS)!.data;
    assert.ok(prev?.kind === 'previous-gtids');
    assert.equal(prev.gtids.toString(), '396e294c-1ca4-11f1-9ae7-00155da79c6b:1-4');
    // the union of the file's GTIDs and its PREVIOUS_GTIDS is the next state
    let state = prev.gtids;
    for (const t of second.transactions) state = state.union(MysqlGtidSet.parse(t.gtid!));
    assert.equal(state.toString(), '396e294c-1ca4-11f1-9ae7-00155da79c6b:1-6');
  });

  it('mysql-bin.compressed: TRANSACTION_PAYLOAD ends the transaction and expands to its events', () => {
    const p = parseChunks('c', [readFixture('mysql-bin.compressed')]);
    const payload = p.events.find((e) => e.typeCode === EventType.TRANSACTION_PAYLOAD)!;
    const inner = transactionPayloadEvents(payload);
    assert.deepEqual(
      inner.map((e) => e.typeName),
      ['QUERY', 'TABLE_MAP', 'UPDATE_ROWS_V2', 'XID'],
    );
    const tm = inner[1]!.data;
    assert.ok(tm?.kind === 'table-map');
    assert.equal(`${tm.database}.${tm.table}`, 'demo.movies');
    assert.equal(p.transactions[0]!.end, 'payload');
    assert.equal(p.transactions[0]!.startOffset, 157);
    assert.equal(p.transactions[0]!.endOffset, 724);

    const noDecompressor = new BinlogEventParser({ object: 'c' });
    const events = noDecompressor.push(readFixture('mysql-bin.compressed'));
    const pe = events.find((e) => e.typeCode === EventType.TRANSACTION_PAYLOAD)!;
    assert.throws(
      () => transactionPayloadEvents(pe),
      (err: unknown) => err instanceof PitrError && err.code === 'BINLOG_FORMAT',
    );
  });

  it('the same events come out when every input is split in two at every byte offset', () => {
    for (const fx of FIXTURES) {
      const buf = readFixture(fx.file);
      const reference = fingerprint(parseChunks(fx.file, [buf]));
      const stride = fx.file === SAKILA ? 4099 : 1;
      const points = new Set<number>();
      for (let i = 0; i <= buf.length; i += stride) points.add(i);
      if (fx.file === SAKILA) for (let i = 0; i < 40; i++) points.add(i); // the magic and the FDE
      const bare = fingerprint(parseChunks(fx.file, [buf], false));
      for (const i of points) {
        // Transactions too at every 13th split (the tracker sees events, not chunks).
        const track = i % 13 === 0;
        const got = fingerprint(parseChunks(fx.file, [buf.subarray(0, i), buf.subarray(i)], track));
        if (got !== (track ? reference : bare)) assert.fail(`${fx.file} split at ${i} parses differently`);
      }
    }
  });

  it('one byte at a time gives the same events', () => {
    const buf = readFixture('mysql-8.0.45-gtid.000001');
    const chunks = [...buf].map((b) => Buffer.from([b]));
    assert.equal(fingerprint(parseChunks('x', chunks)), fingerprint(parseChunks('x', [buf])));
  });

  it('a file cut anywhere inside an event is reported as truncated at that event', () => {
    const buf = readFixture('mysql-8.0.45-gtid.000002');
    const boundaries = new Set(parseChunks('x', [buf]).events.map((e) => e.endOffset));
    boundaries.add(4);
    const starts = [...boundaries].sort((a, b) => a - b);
    for (let cut = 0; cut < buf.length; cut++) {
      const parser = new BinlogEventParser({ object: 'cut.000002' });
      parser.push(buf.subarray(0, cut));
      if (boundaries.has(cut)) {
        parser.end();
        continue;
      }
      const eventStart = cut < 4 ? 0 : starts.filter((s) => s <= cut).at(-1)!;
      assert.throws(
        () => parser.end(),
        (err: unknown) =>
          err instanceof PitrError &&
          err.code === 'TRUNCATED_DATA' &&
          (err as PitrError & { offset: number }).offset === eventStart &&
          err.message.includes('cut.000002'),
        `cut at ${cut}`,
      );
    }
  });

  it('flipping any bit of a CRC32 file is detected, never silently accepted', () => {
    const codes = new Set(['CHECKSUM_MISMATCH', 'CORRUPT_DATA', 'TRUNCATED_DATA', 'BINLOG_FORMAT']);
    const files = [
      'mysql-8.0.45-gtid.000001',
      'mysql-8.0.45-gtid.000002',
      'mysql-8.0.45-position.000002',
      'mysql-bin.compressed',
      'mysql-bin.aurora-padding',
      'mysql-bin.checksum-crc32',
    ];
    for (const file of files) {
      const original = readFixture(file);
      const stride = file === 'mysql-bin.checksum-crc32' ? 5 : 1;
      for (let pos = 0; pos < original.length; pos += stride) {
        for (const bit of [0x01, 0x08, 0x80]) {
          const buf = Buffer.from(original);
          buf[pos]! ^= bit;
          // Bit 0 of the FDE's flags is LOG_EVENT_BINLOG_IN_USE_F, which the checksum ignores by design.
          if (pos === 4 + 17 && bit === LOG_EVENT_BINLOG_IN_USE_F) continue;
          let error: unknown;
          try {
            parseChunks(file, [buf]);
          } catch (err) {
            error = err;
          }
          if (!(error instanceof PitrError && codes.has(error.code))) {
            assert.fail(
              `${file}: flipping bit 0x${bit.toString(16)} of byte ${pos} was not detected (${String(error)})`,
            );
          }
        }
      }
    }
  });

  it('a checksum mismatch names the file and the event offset', () => {
    const buf = Buffer.from(readFixture('mysql-8.0.45-gtid.000001'));
    buf[600]! ^= 0x10; // inside WRITE_ROWS_V2 at 567
    assert.throws(
      () => parseChunks('mysql-bin.000777', [buf]),
      (err: unknown) =>
        err instanceof PitrError &&
        err.code === 'CHECKSUM_MISMATCH' &&
        /mysql-bin\.000777 at offset 567/.test(err.message),
    );
  });

  it('the in-use flag of a live file FDE does not break its checksum', () => {
    const buf = Buffer.from(readFixture('mysql-8.0.45-gtid.000001'));
    buf[4 + 17]! |= LOG_EVENT_BINLOG_IN_USE_F;
    const p = parseChunks('live', [buf]);
    assert.equal(p.events.length, 26);
    assert.equal(p.events[0]!.header.flags & LOG_EVENT_BINLOG_IN_USE_F, LOG_EVENT_BINLOG_IN_USE_F);
  });

  it('rejects a file without the binlog magic', () => {
    const buf = Buffer.from(readFixture('mysql-8.0.45-gtid.000001'));
    buf.write('PK\x03\x04', 0, 'latin1');
    assert.throws(
      () => parseChunks('x.zip', [buf]),
      (err: unknown) => err instanceof PitrError && err.code === 'CORRUPT_DATA' && /magic/.test(err.message),
    );
  });

  it('a transaction longer than its transaction_length is an error', () => {
    const buf = Buffer.from(readFixture('mysql-8.0.45-gtid.000001'));
    // GTID event at 157 (77 bytes): transaction_length is the packed byte after the 7-byte timestamp.
    const gtid = buf.subarray(157, 234);
    const lengthAt = 19 + 42 + 7;
    assert.equal(gtid[lengthAt], 208);
    gtid[lengthAt] = 200;
    resealEvent(gtid);
    assert.throws(
      () => parseChunks('len', [buf]),
      (err: unknown) =>
        err instanceof PitrError && err.code === 'CORRUPT_DATA' && /transaction_length 200/.test(err.message),
    );
  });

  it('a GTID event while a transaction is still open (its XID missing) is an error', () => {
    const buf = readFixture('mysql-8.0.45-gtid.000001');
    // drop the XID of transaction 2 (611..642): transaction 3's GTID then arrives while 2 is open
    const spliced = Buffer.concat([buf.subarray(0, 611), buf.subarray(642)]);
    assert.throws(
      () => parseChunks('nox', [spliced]),
      (err: unknown) =>
        err instanceof PitrError &&
        err.code === 'CORRUPT_DATA' &&
        /offset 611/.test(err.message) &&
        /one at offset 365 \(GTID 396e294c-1ca4-11f1-9ae7-00155da79c6b:2\) has not ended/.test(err.message),
    );
  });

  it('stream mode: no magic, 64-bit offsets past 4 GiB, artificial ROTATE and heartbeat not in the file', () => {
    const file = readFixture('mysql-8.0.45-gtid.000001');
    const fde = file.subarray(4, 126);
    const rest = file.subarray(126);
    const big = 2 ** 32 + 1000;
    // an artificial ROTATE announcing the file and position, as a source sends first
    const name = Buffer.from('binlog.000001');
    const rotate = Buffer.alloc(19 + 8 + name.length + 4);
    rotate[4] = EventType.ROTATE;
    rotate.writeUInt32LE(1, 5);
    rotate.writeUInt32LE(rotate.length, 9);
    rotate.writeUInt16LE(LOG_EVENT_ARTIFICIAL_F, 17);
    rotate.writeBigUInt64LE(BigInt(big), 19);
    name.copy(rotate, 27);
    resealEvent(rotate);
    const hb = Buffer.alloc(19 + name.length + 4);
    hb[4] = EventType.HEARTBEAT;
    hb.writeUInt32LE(hb.length, 9);
    name.copy(hb, 19);
    resealEvent(hb);
    const parser = new BinlogEventParser({ object: 'stream', mode: 'stream', checksumAlgorithm: 'CRC32' });
    const events = parser.push(Buffer.concat([rotate, fde, hb, rest]));
    parser.end();
    assert.equal(parser.file, 'binlog.000001');
    assert.deepEqual(
      events.slice(0, 3).map((e) => [e.typeName, e.inFile]),
      [
        ['ROTATE', false],
        ['FORMAT_DESCRIPTION', false],
        ['HEARTBEAT', false],
      ],
    );
    assert.equal(events[3]!.offset, big);
    assert.equal(events.at(-1)!.endOffset, big + rest.length);
    assert.equal(parser.offset, big + rest.length);
  });

  it('skips unknown event types by their size (Aurora padding, type 100)', () => {
    const p = parseChunks('aurora', [readFixture('mysql-bin.aurora-padding')]);
    const unknown = p.events.find((e) => e.typeCode === 100)!;
    assert.equal(unknown.typeName, 'UNKNOWN_100');
    assert.equal(unknown.data, undefined);
    assert.equal(unknown.size, 928);
  });
});
