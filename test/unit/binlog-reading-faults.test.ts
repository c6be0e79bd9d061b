// Reading damaged, encrypted and unusual binlogs without a server (issue 13, "Reading"), on real
// MariaDB files (test/fixtures/binlogs, made by test/fixtures/make-mariadb-fixtures.ts).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BinlogEventParser,
  ENCRYPTED_BINLOG_MAGIC,
  EventType,
  Incident,
  type BinlogEvent,
} from '../../src/binlog/index.js';
import { BinlogFileReader } from '../../src/binlog-file/index.js';
import { BinlogEncryptedError, ExitCode, exitCodeFor, isPitrError } from '../../src/errors/index.js';
import { ownFixture, resealEvent } from '../support/binlog-fixtures.js';

const INCIDENT_FILE = 'mariadb-incident.000001';
const ENCRYPTED_FILE = 'mariadb-encrypted.000001';
/** Offset of the 13th event of the incident fixture (the INCIDENT_EVENT); 12 valid events precede it. */
const THIRTEENTH = 878;

/** Pushes `chunks` through pushEach; returns the events yielded and the error thrown, if any. */
function parseEach(name: string, chunks: Buffer[]): { events: BinlogEvent[]; error: unknown } {
  const parser = new BinlogEventParser({ object: name });
  const events: BinlogEvent[] = [];
  try {
    for (const chunk of chunks) for (const e of parser.pushEach(chunk)) events.push(e);
    parser.end();
  } catch (error) {
    return { events, error };
  }
  return { events, error: undefined };
}

/** The event offsets of an undamaged file. */
function offsetsOf(buf: Buffer): number[] {
  return new BinlogEventParser({ object: 'x' }).push(buf).map((e) => e.offset);
}

describe('events before a damaged event are yielded, then the error', () => {
  const good = ownFixture(INCIDENT_FILE);
  const offsets = offsetsOf(good);

  it('the fixture has 12 valid events before offset 878', () => {
    assert.equal(offsets.indexOf(THIRTEENTH), 12);
  });

  it('a bad CRC32 in the 13th event: 12 events, then CHECKSUM_MISMATCH at its offset, at every split', () => {
    const bad = Buffer.from(good);
    bad[THIRTEENTH + 25]! ^= 0x01; // a byte of the INCIDENT message; the CRC32 no longer matches
    for (let split = 0; split <= bad.length; split++) {
      const { events, error } = parseEach('bad-crc', [bad.subarray(0, split), bad.subarray(split)]);
      assert.deepEqual(
        events.map((e) => e.offset),
        offsets.slice(0, 12),
        `split at ${split}`,
      );
      assert.ok(isPitrError(error, 'CHECKSUM_MISMATCH'), `split at ${split}: ${String(error)}`);
      assert.equal((error as { offset?: number }).offset, THIRTEENTH);
    }
  });

  it('push() of one chunk still throws (callers that stop at the first error)', () => {
    const bad = Buffer.from(good);
    bad[THIRTEENTH + 25]! ^= 0x01;
    const parser = new BinlogEventParser({ object: 'bad-crc' });
    assert.throws(
      () => parser.push(bad),
      (e: unknown) => isPitrError(e, 'CHECKSUM_MISMATCH'),
    );
    // ...and the error sticks: the position of the next event is unknown.
    assert.throws(
      () => parser.end(),
      (e: unknown) => isPitrError(e, 'CHECKSUM_MISMATCH'),
    );
  });

  it('an impossible event size in the 13th event: 12 events, then CORRUPT_DATA at its offset', () => {
    const bad = Buffer.from(good);
    bad.writeUInt32LE(7, THIRTEENTH + 9); // event_size below the 19-byte header
    for (const split of [bad.length, THIRTEENTH + 3, THIRTEENTH + 19, 300]) {
      const { events, error } = parseEach('bad-size', [bad.subarray(0, split), bad.subarray(split)]);
      assert.equal(events.length, 12, `split at ${split}`);
      assert.ok(isPitrError(error, 'CORRUPT_DATA'), String(error));
      assert.equal((error as { offset?: number }).offset, THIRTEENTH);
      assert.match((error as Error).message, /use the data before this offset/);
    }
  });

  it('BinlogFileReader yields the 12 events too, then the checksum error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pitr-reading-faults-'));
    try {
      const bad = Buffer.from(good);
      bad[THIRTEENTH + 25]! ^= 0x01;
      const path = join(dir, 'bad.000001');
      await writeFile(path, bad);
      const seen: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const e of await BinlogFileReader.open(path)) seen.push(e.position);
        })(),
        (e: unknown) => isPitrError(e, 'CHECKSUM_MISMATCH'),
      );
      assert.deepEqual(seen, offsets.slice(0, 12));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('encrypted binlogs are named as such, not as corrupt', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-reading-encrypted-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('MariaDB (real file, encrypt_binlog=ON): FORMAT_DESCRIPTION, then BINLOG_ENCRYPTED at START_ENCRYPTION', () => {
    const buf = ownFixture(ENCRYPTED_FILE);
    for (const split of [buf.length, 100, 256, 270]) {
      const { events, error } = parseEach(ENCRYPTED_FILE, [buf.subarray(0, split), buf.subarray(split)]);
      assert.deepEqual(
        events.map((e) => e.typeName),
        ['FORMAT_DESCRIPTION'],
      );
      assert.ok(error instanceof BinlogEncryptedError, String(error));
      assert.equal(error.code, 'BINLOG_ENCRYPTED');
      assert.equal(error.flavor, 'mariadb');
      assert.equal(error.offset, 256);
      assert.equal(buf[error.offset + 4], EventType.START_ENCRYPTION);
      assert.match(error.message, /^encrypted binlog: not supported/);
      assert.doesNotMatch(error.message, /checksum mismatch|corrupt data/);
      assert.equal(exitCodeFor(error.code), ExitCode.DATA);
    }
  });

  it('MariaDB encrypted file through BinlogFileReader: BINLOG_ENCRYPTED, not CHECKSUM_MISMATCH', async () => {
    const path = join(dir, ENCRYPTED_FILE);
    await writeFile(path, ownFixture(ENCRYPTED_FILE));
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of await BinlogFileReader.open(path)) seen.push(e.header.typeCode);
      })(),
      (e: unknown) => e instanceof BinlogEncryptedError && e.flavor === 'mariadb' && e.offset === 256,
    );
    assert.deepEqual(seen, [EventType.FORMAT_DESCRIPTION]);
  });

  // No real MySQL encrypted binlog is available to this project: the bytes follow the documented
  // layout of MySQL 8.0.14+ (magic 0xfd62696e, then a 512-byte header: version 1, key id, ...).
  const mysqlEncrypted = Buffer.concat([
    ENCRYPTED_BINLOG_MAGIC,
    Buffer.from([0x01]),
    Buffer.alloc(507, 0x5a),
    Buffer.alloc(300, 0xc3),
  ]);

  it('MySQL 8.0.14+ (magic \\xfdbin): BINLOG_ENCRYPTED at offset 0, from the parser', () => {
    const { events, error } = parseEach('binlog.000001', [mysqlEncrypted]);
    assert.equal(events.length, 0);
    assert.ok(error instanceof BinlogEncryptedError, String(error));
    assert.equal(error.flavor, 'mysql');
    assert.equal(error.offset, 0);
    assert.match(error.message, /MySQL 8\.0\.14\+ encrypted binlog/);
  });

  it('MySQL 8.0.14+ (magic \\xfdbin): BINLOG_ENCRYPTED from BinlogFileReader.open', async () => {
    const path = join(dir, 'binlog.000001');
    await writeFile(path, mysqlEncrypted);
    await assert.rejects(
      BinlogFileReader.open(path),
      (e: unknown) => e instanceof BinlogEncryptedError && e.flavor === 'mysql',
    );
  });
});

describe('INCIDENT events carry their number and message', () => {
  it('the real incident (LOST_EVENTS, statement cache overflow) decodes', () => {
    const events = new BinlogEventParser({ object: INCIDENT_FILE }).push(ownFixture(INCIDENT_FILE));
    const incidents = events.filter((e) => e.typeCode === EventType.INCIDENT);
    assert.equal(incidents.length, 1);
    const incident = incidents[0]!;
    assert.equal(incident.offset, THIRTEENTH);
    assert.deepEqual(incident.data, {
      kind: 'incident',
      incident: Incident.LOST_EVENTS,
      incidentName: 'LOST_EVENTS',
      message: 'error writing to the binary log',
    });
  });

  it('an incident number this reader does not know is named by its number', () => {
    const buf = ownFixture(INCIDENT_FILE);
    const raw = buf.subarray(THIRTEENTH, THIRTEENTH + 57);
    raw.writeUInt16LE(9, 19);
    resealEvent(raw);
    const incident = new BinlogEventParser({ object: 'x' }).push(buf).find((e) => e.offset === THIRTEENTH)!;
    assert.equal(incident.data?.kind === 'incident' && incident.data.incidentName, 'INCIDENT_9');
  });
});

describe('an unknown event type is named by its code, never taken for another', () => {
  for (const code of [100, 43, 173, 255]) {
    it(`type ${code} in place of a real WRITE_ROWS event: UNKNOWN_${code}, no body, the rest parsed`, () => {
      const buf = ownFixture(INCIDENT_FILE);
      const at = 766; // the first WRITE_ROWS_V1 event (43 bytes)
      assert.equal(buf[at + 4], EventType.WRITE_ROWS_V1);
      buf[at + 4] = code;
      resealEvent(buf.subarray(at, at + 43));
      const events = new BinlogEventParser({ object: 'x' }).push(buf);
      const unknown = events.find((e) => e.offset === at)!;
      assert.equal(unknown.typeCode, code);
      assert.equal(unknown.typeName, `UNKNOWN_${code}`);
      assert.equal(unknown.data, undefined);
      assert.equal(events.length, 19);
      assert.equal(events.at(-1)!.typeName, 'ROTATE');
    });
  }
});
