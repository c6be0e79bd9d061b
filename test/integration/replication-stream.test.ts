/**
 * The replication client against a real MariaDB: byte-exact copies of every binlog, mid-file
 * resume, back-pressure and heartbeats. One server for the whole file; each test registers with
 * its own replica server_id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runWorkload, type WorkloadResult } from '../support/workload.js';
import { openBinlogStream, type BinlogDumpOptions, type BinlogStreamEvent } from '../../src/mysql/index.js';
import { BinlogFileReader, copyBinlogStream } from '../../src/binlog-file/index.js';
import { LOG_EVENT_BINLOG_IN_USE_F } from '../../src/binlog/event-header.js';
import {
  IN_USE_FLAG_OFFSET,
  binlogDifferences as differences,
  type BinaryLog,
} from '../support/binlog-compare.js';

describe('replication client: live binlog streaming from MariaDB', () => {
  let server: MariadbServer;
  let work: string;
  let workload: WorkloadResult;
  let logs: BinaryLog[];
  let dump: (o: Partial<BinlogDumpOptions> & { serverId: number }) => ReturnType<typeof openBinlogStream>;

  before(async () => {
    server = await startMariadb({ maxBinlogSize: '4M' });
    work = await mkdtemp(join(tmpdir(), 'pitr-replication-'));
    const conn = await server.connect();
    try {
      workload = await runWorkload(conn, {
        transactions: 3000,
        bigTransactions: 2,
        bigTransactionBytes: 3 * 1024 * 1024,
        // above 16 MiB, so the event travels in several protocol packets
        hugeRowBytes: 17 * 1024 * 1024,
        flushBinaryLogsAt: [0.3, 0.7],
      });
      // a little more after the last flush, so the active file holds transactions too
      await conn.query('INSERT INTO wl.items (k, name) VALUES (1, ?), (2, ?)', ['after', 'flush']);
    } finally {
      await conn.end();
    }
    logs = await server.query<BinaryLog[]>('SHOW BINARY LOGS');
    dump = (o) =>
      openBinlogStream({
        host: server.host,
        port: server.port,
        user: server.repl.user,
        password: server.repl.password,
        file: logs[0]!.Log_name,
        nonBlocking: true,
        ...o,
      });
  });

  after(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('copies every closed binlog byte for byte, and the active one except its in-use flag', async () => {
    assert.ok(workload.committed > 3000 * 0.8, `workload committed ${workload.committed}`);
    assert.ok(logs.length >= 4, `expected rotations (FLUSH and max_binlog_size), got ${logs.length} files`);
    const dir = join(work, 'full');
    await mkdir(dir);
    const stream = await dump({ serverId: 901 });
    assert.equal(stream.source.flavor, 'mariadb');
    assert.equal(stream.source.binlogChecksum, 'CRC32');
    const copied = await copyBinlogStream(stream, dir);
    assert.deepEqual(
      copied.map((c) => c.file),
      logs.map((l) => l.Log_name),
    );
    const stats = stream.stats;
    assert.ok(stats.largestEvent > 16 * 1024 * 1024, `largest event ${stats.largestEvent}`);
    for (const [i, log] of logs.entries()) {
      const source = await readFile(join(server.binlogDir, log.Log_name));
      const copy = await readFile(join(dir, log.Log_name));
      assert.equal(copy.length, Number(log.File_size), `${log.Log_name} size`);
      if (i < logs.length - 1) {
        assert.ok(copy.equals(source), `${log.Log_name} differs at ${differences(copy, source).slice(0, 5)}`);
      } else {
        assert.deepEqual(differences(copy, source), [IN_USE_FLAG_OFFSET], `active ${log.Log_name}`);
        assert.equal(source[IN_USE_FLAG_OFFSET]! & LOG_EVENT_BINLOG_IN_USE_F, LOG_EVENT_BINLOG_IN_USE_F);
        assert.equal(copy[IN_USE_FLAG_OFFSET]! & LOG_EVENT_BINLOG_IN_USE_F, 0);
      }
      // the copy reads back as valid events with valid CRC32s
      const reader = await BinlogFileReader.open(join(dir, log.Log_name));
      let n = 0;
      for await (const _ of reader) n++;
      assert.ok(reader.verifiesChecksums && n > 0);
      assert.equal(reader.position, copy.length);
    }
  });

  it('resumes mid-file: the source sends exactly the missing bytes and the file comes out identical', async () => {
    const target = logs[1]!.Log_name; // a closed file
    const source = await readFile(join(server.binlogDir, target));
    const boundaries: number[] = [];
    for await (const e of await BinlogFileReader.open(join(server.binlogDir, target)))
      boundaries.push(e.position);
    const cut = boundaries[Math.floor(boundaries.length / 2)]!;
    assert.ok(cut > 4 && cut < source.length);
    const dir = join(work, 'resume');
    await mkdir(dir);
    // the first half, plus a torn piece of the next event as a crashed run would leave it
    await writeFile(join(dir, target), source.subarray(0, cut));
    await appendFile(join(dir, target), source.subarray(cut, cut + 11));

    const stream = await dump({ serverId: 902, file: target, position: cut });
    const kinds: string[] = [];
    const seen = async function* (): AsyncGenerator<BinlogStreamEvent> {
      for await (const item of stream) {
        if (kinds.length < 3) kinds.push(`${item.kind}:${item.position}`);
        yield item;
      }
    };
    const copied = await copyBinlogStream(seen(), dir);
    // the artificial ROTATE names the resume point; the FDE is re-sent (log_pos 0) and not written
    assert.deepEqual(kinds, [`rotate-artificial:${cut}`, `format-description-resend:${cut}`, `event:${cut}`]);
    assert.equal(copied[0]?.file, target);
    assert.equal(copied[0]?.from, cut);
    const resumed = await readFile(join(dir, target));
    assert.ok(
      resumed.equals(source),
      `resumed ${target} differs at ${differences(resumed, source).slice(0, 5)}`,
    );
    // the stream then went on with the following files from position 4
    assert.deepEqual(
      copied.map((c) => c.file),
      logs.slice(1).map((l) => l.Log_name),
    );
    assert.ok(copied.slice(1).every((c) => c.from === 4));
  });

  it('pauses the socket when the consumer stalls: buffered bytes stay bounded', async (t) => {
    const total = logs.reduce((s, l) => s + Number(l.File_size), 0);
    const highWaterMarkBytes = 256 * 1024;
    const stream = await dump({ serverId: 903, highWaterMarkBytes });
    try {
      // Do not read. Wait until nothing more arrives (the socket is paused and TCP flow control
      // has stopped the source), then look at the client's own counters.
      let last = -1;
      for (let stable = 0; stable < 10;) {
        await sleep(50);
        const { bytes } = stream.stats;
        stable = bytes === last ? stable + 1 : 0;
        last = bytes;
      }
      const stalled = stream.stats;
      t.diagnostic(`stalled: ${JSON.stringify(stalled)} of ${total} source bytes`);
      assert.ok(stalled.pauses >= 1, 'the socket was paused');
      // at most the high-water mark, plus the event that crossed it, plus what mysql2 had already
      // parsed from the last socket read (held in its paused-packet queue and delivered on resume)
      const bound = highWaterMarkBytes + stalled.largestEvent + 128 * 1024;
      assert.ok(stalled.bufferedBytes <= bound, `buffered ${stalled.bufferedBytes} > ${bound}`);
      assert.ok(stalled.bytes < total / 2, `received ${stalled.bytes} of ${total} bytes while stalled`);
      // resuming below the low-water mark: a little reading lets more in, and the bound still holds
      let inFile = 0;
      let files = 0;
      const count = (item: BinlogStreamEvent): void => {
        if (item.kind === 'event') inFile += item.buffer.length;
        if (item.kind === 'rotate-artificial') files += 1;
      };
      for (let taken = 0; taken < 200; taken++) {
        const r = await stream.next();
        if (!r.done) count(r.value);
      }
      assert.ok(stream.stats.bufferedBytes <= bound);

      // now drain everything: nothing is lost, and the bound held throughout
      for await (const item of stream) count(item);
      assert.equal(files, logs.length);
      assert.equal(inFile, total - 4 * logs.length); // every byte but the magic of each file
      const end = stream.stats;
      t.diagnostic(`drained: ${JSON.stringify(end)}`);
      assert.ok(
        end.peakBufferedBytes <= highWaterMarkBytes + end.largestEvent + 128 * 1024,
        `peak ${end.peakBufferedBytes}`,
      );
      assert.equal(end.bufferedBytes, 0);
    } finally {
      await stream.close();
    }
  });

  it('surfaces heartbeats from an idle source as heartbeats, not as events to archive', async () => {
    const [status] = await server.query<{ File: string; Position: string }[]>('SHOW MASTER STATUS');
    const file = status!.File;
    const position = Number(status!.Position);
    const stream = await dump({ serverId: 904, file, position, nonBlocking: false, heartbeatPeriodMs: 200 });
    const items: BinlogStreamEvent[] = [];
    const guard = setTimeout(() => void stream.close(), 20_000);
    try {
      for await (const item of stream) {
        items.push(item);
        if (items.filter((i) => i.kind === 'heartbeat').length >= 3) break;
      }
    } finally {
      clearTimeout(guard);
      await stream.close();
    }
    const heartbeats = items.filter((i) => i.kind === 'heartbeat');
    assert.equal(heartbeats.length, 3, `kinds: ${items.map((i) => i.kind).join(',')}`);
    assert.deepEqual(
      items.filter((i) => i.kind === 'event'),
      [],
      'an idle source sends no in-file events',
    );
    assert.ok(stream.stats.heartbeats >= 3);
    for (const h of heartbeats) {
      assert.equal(h.file, file);
      assert.equal(h.position, position);
    }
    assert.equal(stream.position, position);
  });
});
