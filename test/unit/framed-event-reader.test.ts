import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BinlogEventParser,
  EventType,
  FramedEventReader,
  TransactionTracker,
  type BinlogEvent,
  type BinlogTransaction,
} from '../../src/binlog/index.js';
import { PitrError } from '../../src/errors/index.js';
import { FIXTURES, readFixture } from '../support/binlog-fixtures.js';

/** Every event of a fixture as the file parser emits it (the reference). */
function parseFile(file: string): BinlogEvent[] {
  const parser = new BinlogEventParser({ object: file });
  const events = parser.push(readFixture(file));
  parser.end();
  return events;
}

/** The same events wrapped by FramedEventReader, as the archiver does with a stream's items. */
function readFramed(file: string, reference: BinlogEvent[]): BinlogEvent[] {
  const reader = new FramedEventReader({ object: file });
  return reference.map((e) => reader.read(Buffer.from(e.raw), e.offset, true));
}

function track(
  events: BinlogEvent[],
  tracker: TransactionTracker,
): {
  transactions: BinlogTransaction[];
  inTransaction: boolean[];
} {
  const transactions: BinlogTransaction[] = [];
  const inTransaction: boolean[] = [];
  for (const e of events) {
    const t = tracker.add(e);
    if (t) transactions.push(t);
    assert.equal(
      tracker.inTransaction,
      tracker.open !== undefined,
      `inTransaction after the event at ${e.offset}`,
    );
    inTransaction.push(tracker.inTransaction);
  }
  return { transactions, inTransaction };
}

describe('FramedEventReader (the archiver path) against BinlogEventParser on every fixture', () => {
  for (const fx of FIXTURES) {
    it(`${fx.file}: same offsets, bodies and transactions`, () => {
      const reference = parseFile(fx.file);
      assert.equal(reference.length, fx.events);
      const framed = readFramed(fx.file, reference);
      for (const [i, e] of framed.entries()) {
        const r = reference[i]!;
        const at = `${fx.file} event ${i} at ${r.offset} (${r.typeName})`;
        assert.equal(e.offset, r.offset, at);
        assert.equal(e.endOffset, r.endOffset, at);
        assert.equal(e.typeCode, r.typeCode, at);
        assert.equal(e.inFile, true, at);
        assert.equal(e.checksumSize, r.checksumSize, at);
        assert.equal(e.bodyStart, r.bodyStart, at);
        assert.equal(e.bodyEnd, r.bodyEnd, at);
        assert.deepEqual(e.header, r.header, at);
        // TRANSACTION_PAYLOAD needs a decompressor, which neither side has here
        if (e.typeCode !== EventType.TRANSACTION_PAYLOAD) assert.deepEqual(e.data, r.data, at);
      }
      // the archiver's tracker skips table names; everything else is the same
      const full = track(reference, new TransactionTracker(fx.file));
      const lean = track(framed, new TransactionTracker(fx.file, { tables: false }));
      assert.equal(full.transactions.length, fx.transactions);
      assert.deepEqual(
        lean.transactions,
        full.transactions.map((t) => ({ ...t, tables: [] })),
      );
      assert.deepEqual(lean.inTransaction, full.inTransaction);
      if (fx.gtids)
        assert.deepEqual(
          lean.transactions.map((t) => t.gtid),
          fx.gtids,
        );
      // the fixtures with row events name their tables in the full tracker only
      if (fx.types.TABLE_MAP) assert.ok(full.transactions.some((t) => t.tables.length > 0));
    });
  }

  it('takes the checksum size from the FORMAT_DESCRIPTION_EVENT, also one re-sent outside the file', () => {
    const crc = parseFile('mysql-bin.checksum-crc32');
    const none = parseFile('mysql-bin.checksum-none');
    // a reader told OFF (the source's @@binlog_checksum before any FDE) switches at the FDE
    const reader = new FramedEventReader({ object: 's', checksumAlgorithm: 'OFF' });
    const fde = reader.read(crc[0]!.raw, 1000, false); // re-sent at a dump started past 4
    assert.equal(fde.inFile, false);
    assert.equal(fde.endOffset, 1000);
    assert.equal(reader.formatDescription?.checksumAlgorithm, 'CRC32');
    const next = reader.read(crc[1]!.raw, 1000, true);
    assert.equal(next.checksumSize, 4);
    assert.equal(next.endOffset, 1000 + crc[1]!.raw.length);
    reader.read(none[0]!.raw, 4, true);
    assert.equal(reader.read(none[1]!.raw, none[1]!.offset, true).checksumSize, 0);
  });

  it('refuses an event whose header size is not its length, naming the stream and the offset', () => {
    const e = parseFile('mysql-bin.checksum-crc32')[5]!;
    const reader = new FramedEventReader({ object: 'binlog stream from db1', checksumAlgorithm: 'CRC32' });
    const cut = Buffer.from(e.raw.subarray(0, e.raw.length - 1));
    assert.throws(
      () => reader.read(cut, 1234, true),
      (err: unknown) =>
        err instanceof PitrError &&
        err.code === 'CORRUPT_DATA' &&
        err.message.includes('binlog stream from db1') &&
        err.message.includes('1234'),
    );
    assert.throws(() => reader.read(Buffer.alloc(10), 4, true), /CORRUPT|declares/);
    // smaller than a header plus its checksum trailer
    const tiny = Buffer.alloc(20);
    tiny[4] = EventType.XID;
    tiny.writeUInt32LE(20, 9);
    assert.throws(
      () => reader.read(tiny, 4, true),
      (err: unknown) => err instanceof PitrError,
    );
  });
});
