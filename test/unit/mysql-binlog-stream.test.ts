import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { BinlogStream, type BinlogStreamEvent, type StreamControl } from '../../src/mysql/index.js';
import { BinlogFileReader } from '../../src/binlog-file/index.js';
import { PitrError, isPitrError } from '../../src/errors/index.js';
import { EventType } from '../../src/binlog/event-type.js';
import { FIXTURE_DIR } from '../support/binlog-fixtures.js';

const FIXTURE = `${FIXTURE_DIR}mysql-bin.checksum-crc32`;
const FILE = 'mysql-bin.000001';

/** An event with a CRC32 trailer: header fields + body. */
function makeEvent(
  type: number,
  body: Buffer,
  o: { logPos?: number; flags?: number; serverId?: number } = {},
): Buffer {
  const size = 19 + body.length + 4;
  const buf = Buffer.alloc(size);
  buf.writeUInt32LE(0, 0);
  buf.writeUInt8(type, 4);
  buf.writeUInt32LE(o.serverId ?? 1, 5);
  buf.writeUInt32LE(size, 9);
  buf.writeUInt32LE(o.logPos ?? 0, 13);
  buf.writeUInt16LE(o.flags ?? 0, 17);
  body.copy(buf, 19);
  buf.writeUInt32LE(crc32(buf.subarray(0, size - 4)), size - 4);
  return buf;
}

/** What the source sends first: ROTATE with LOG_EVENT_ARTIFICIAL_F (0x20), log_pos 0. */
function artificialRotate(file: string, position: number): Buffer {
  const body = Buffer.alloc(8 + file.length);
  body.writeBigUInt64LE(BigInt(position), 0);
  body.write(file, 8, 'latin1');
  return makeEvent(EventType.ROTATE, body, { flags: 0x20 });
}

/** A copy of `event` with log_pos set and the CRC32 recomputed, as the source re-sends an FDE. */
function withLogPos(event: Buffer, logPos: number): Buffer {
  const copy = Buffer.from(event);
  copy.writeUInt32LE(logPos, 13);
  copy.writeUInt32LE(crc32(copy.subarray(0, copy.length - 4)), copy.length - 4);
  return copy;
}

class FakeControl implements StreamControl {
  pauses = 0;
  resumes = 0;
  destroyed = 0;
  paused = false;
  pause(): void {
    this.pauses++;
    this.paused = true;
  }
  resume(): void {
    this.resumes++;
    this.paused = false;
  }
  async destroy(): Promise<void> {
    this.destroyed++;
  }
}

function newStream(o: { position?: number; highWaterMarkBytes?: number; verifyChecksums?: boolean } = {}) {
  const control = new FakeControl();
  const stream = new BinlogStream({
    file: FILE,
    position: o.position ?? 4,
    highWaterMarkBytes: o.highWaterMarkBytes,
    verifyChecksums: o.verifyChecksums,
    toError: (err, where) =>
      new PitrError('MYSQL_SERVER_ERROR', `${err.message} at ${where.file}@${where.position}`),
  });
  stream.attach(control, { flavor: 'mysql', version: '5.7.21', binlogChecksum: 'CRC32', serverId: 1 });
  return { stream, control };
}

async function drain(stream: BinlogStream): Promise<BinlogStreamEvent[]> {
  const out: BinlogStreamEvent[] = [];
  for await (const e of stream) out.push(e);
  return out;
}

describe('BinlogStream (the raw event stream of a dump)', () => {
  let events: { buffer: Buffer; position: number }[];
  let fileSize: number;
  before(async () => {
    const reader = await BinlogFileReader.open(FIXTURE);
    events = [];
    for await (const e of reader) events.push({ buffer: e.buffer, position: e.position });
    fileSize = (await readFile(FIXTURE)).length;
  });

  it('classifies a dump from 4: artificial ROTATE, then every in-file event at its file offset', async () => {
    const { stream, control } = newStream();
    stream.onEvent(artificialRotate(FILE, 4));
    for (const e of events) stream.onEvent(e.buffer);
    stream.onEnd();
    const got = await drain(stream);
    assert.equal(got[0]?.kind, 'rotate-artificial');
    assert.equal(got[0]?.file, FILE);
    assert.equal(got[0]?.position, 4);
    const inFile = got.slice(1);
    assert.equal(inFile.length, events.length);
    for (const [i, e] of inFile.entries()) {
      assert.equal(e.kind, 'event');
      assert.equal(e.position, events[i]!.position);
      assert.ok(e.buffer.equals(events[i]!.buffer));
    }
    // the fixture ends with a real (in-file) ROTATE: an event to archive, not an announcement
    assert.equal(inFile.at(-1)?.header.typeCode, EventType.ROTATE);
    assert.equal(stream.position, fileSize);
    assert.equal(control.destroyed, 1, 'EOF releases the connection');
  });

  it('on resume mid-file, marks the re-sent FDE (log_pos 0) and continues at the resume offset', async () => {
    const from = events[100]!.position;
    const { stream } = newStream({ position: from });
    stream.onEvent(artificialRotate(FILE, from));
    stream.onEvent(withLogPos(events[0]!.buffer, 0));
    for (const e of events.slice(100, 110)) stream.onEvent(e.buffer);
    stream.onEnd();
    const got = await drain(stream);
    assert.deepEqual(
      got.slice(0, 3).map((e) => `${e.kind}@${e.position}`),
      [`rotate-artificial@${from}`, `format-description-resend@${from}`, `event@${from}`],
    );
    assert.equal(stream.position, events[110]!.position);
  });

  it('moves to the next file on a second artificial ROTATE', async () => {
    const { stream } = newStream();
    stream.onEvent(artificialRotate(FILE, 4));
    stream.onEvent(events[0]!.buffer);
    stream.onEvent(artificialRotate('mysql-bin.000002', 4));
    stream.onEvent(events[0]!.buffer);
    stream.onEnd();
    const got = await drain(stream);
    assert.deepEqual(
      got.map((e) => `${e.kind}:${e.file}@${e.position}`),
      [
        `rotate-artificial:${FILE}@4`,
        `event:${FILE}@4`,
        'rotate-artificial:mysql-bin.000002@4',
        'event:mysql-bin.000002@4',
      ],
    );
  });

  it('surfaces heartbeats without moving the position', async () => {
    const { stream } = newStream();
    stream.onEvent(artificialRotate(FILE, 4));
    stream.onEvent(events[0]!.buffer);
    const at = stream.position;
    stream.onEvent(makeEvent(EventType.HEARTBEAT, Buffer.from(FILE), { logPos: at }));
    stream.onEvent(makeEvent(EventType.HEARTBEAT, Buffer.from(FILE), { logPos: at }));
    stream.onEnd();
    const got = await drain(stream);
    assert.deepEqual(
      got.map((e) => e.kind),
      ['rotate-artificial', 'event', 'heartbeat', 'heartbeat'],
    );
    assert.equal(stream.position, at);
    assert.equal(stream.stats.heartbeats, 2);
  });

  it('pauses the connection at the high-water mark and resumes at the low-water mark', async () => {
    const highWaterMarkBytes = 4096;
    const { stream, control } = newStream({ highWaterMarkBytes });
    stream.onEvent(artificialRotate(FILE, 4));
    for (const e of events) {
      // a well-behaved connection delivers nothing while paused
      if (control.paused) break;
      stream.onEvent(e.buffer);
    }
    assert.equal(control.pauses, 1);
    const { bufferedBytes, largestEvent } = stream.stats;
    assert.ok(bufferedBytes >= highWaterMarkBytes);
    assert.ok(bufferedBytes < highWaterMarkBytes + largestEvent);
    // consume until below half the mark: exactly then the connection is resumed
    while (stream.bufferedBytes > highWaterMarkBytes / 2) {
      assert.equal(control.resumes, 0);
      await stream.next();
    }
    assert.equal(control.resumes, 1);
    assert.equal(control.paused, false);
    assert.ok(stream.stats.peakBufferedBytes < highWaterMarkBytes + largestEvent);
  });

  it('delivers the events received before a server error, then throws the mapped error', async () => {
    const { stream, control } = newStream();
    stream.onEvent(artificialRotate(FILE, 4));
    stream.onEvent(events[0]!.buffer);
    stream.onEvent(events[1]!.buffer);
    stream.onServerError(
      Object.assign(new Error('boom'), { errno: 1236, sqlState: 'HY000', sqlMessage: 'boom' }),
    );
    const got: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of stream) got.push(e.kind);
      })(),
      (err: unknown) =>
        isPitrError(err, 'MYSQL_SERVER_ERROR') && /boom at mysql-bin.000001@/.test(String(err)),
    );
    assert.deepEqual(got, ['rotate-artificial', 'event', 'event']);
    assert.equal(control.destroyed, 1);
  });

  it('rejects a waiting consumer at once when the connection fails', async () => {
    const { stream } = newStream();
    const pending = stream.next();
    stream.onFailure(new Error('socket closed'));
    await assert.rejects(pending, /socket closed/);
  });

  it('stops with ChecksumMismatchError at an event whose CRC32 does not match', async () => {
    const { stream } = newStream();
    stream.onEvent(artificialRotate(FILE, 4));
    stream.onEvent(events[0]!.buffer);
    const bad = Buffer.from(events[1]!.buffer);
    bad[22]! ^= 0x01;
    stream.onEvent(bad);
    stream.onEvent(events[2]!.buffer); // ignored after the failure
    const got: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of stream) got.push(e.position);
      })(),
      (err: unknown) =>
        isPitrError(err, 'CHECKSUM_MISMATCH') && (err as { offset?: number }).offset === events[1]!.position,
    );
    assert.deepEqual(got, [4, 4]);
  });

  it('passes a bad CRC32 through when verification is off', async () => {
    const { stream } = newStream({ verifyChecksums: false });
    stream.onEvent(artificialRotate(FILE, 4));
    stream.onEvent(events[0]!.buffer);
    const bad = Buffer.from(events[1]!.buffer);
    bad[22]! ^= 0x01;
    stream.onEvent(bad);
    stream.onEnd();
    assert.equal((await drain(stream)).length, 3);
  });

  it('rejects a packet whose event_size does not match its length', async () => {
    const { stream } = newStream();
    stream.onEvent(artificialRotate(FILE, 4));
    stream.onEvent(events[0]!.buffer.subarray(0, 40));
    await assert.rejects(drain(stream), (err: unknown) => isPitrError(err, 'CORRUPT_DATA'));
  });

  it('close() ends the iteration, drops buffered events and closes the connection', async () => {
    const { stream, control } = newStream();
    stream.onEvent(artificialRotate(FILE, 4));
    stream.onEvent(events[0]!.buffer);
    const first = await stream.next();
    assert.equal(first.done, false);
    stream.onEvent(events[1]!.buffer);
    await stream.close();
    assert.equal(stream.bufferedBytes, 0);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
    assert.equal(control.destroyed, 1);
    await stream.close(); // twice is fine
  });
  it('poll() hands over received events without a promise, then next() reports the end or the error', async () => {
    const { stream } = newStream();
    assert.equal(stream.poll(), undefined, 'nothing received yet');
    stream.onEvent(artificialRotate(FILE, 4));
    for (const e of events.slice(0, 10)) stream.onEvent(e.buffer);
    const polled: BinlogStreamEvent[] = [];
    for (let item = stream.poll(); item; item = stream.poll()) polled.push(item);
    assert.equal(polled.length, 11);
    assert.deepEqual(
      polled.slice(1).map((i) => i.position),
      events.slice(0, 10).map((e) => e.position),
    );
    // typeCode without decoding the header, and the header on demand agrees with it
    for (const [i, item] of polled.entries()) {
      assert.equal(item.typeCode, item.buffer[4]);
      assert.equal(item.header.typeCode, item.typeCode);
      assert.equal(item.header.eventSize, item.buffer.length);
      if (i > 0) assert.equal(item.header.logPos, item.buffer.readUInt32LE(13));
    }
    // a corrupt event after the polled ones: poll() says nothing, next() throws it
    const bad = Buffer.from(events[10]!.buffer);
    bad[25] = (bad[25] ?? 0) ^ 0xff;
    stream.onEvent(bad);
    assert.equal(stream.poll(), undefined);
    await assert.rejects(stream.next(), (err: unknown) => isPitrError(err, 'CHECKSUM_MISMATCH'));
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });
});
