import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  BinlogEventParser,
  crc32,
  EventType,
  LOG_EVENT_BINLOG_IN_USE_F,
  TransactionTracker,
  type BinlogEvent,
  type BinlogTransaction,
} from '../../src/binlog/index.js';
import { MariadbGtidPos, parseMariadbGtid } from '../../src/gtid/index.js';
import { ExitCode } from '../../src/errors/index.js';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli } from '../support/run-cli.js';

const execFileAsync = promisify(execFile);

interface BinlogEventRow {
  Log_name: string;
  Pos: string | number;
  Event_type: string;
  Server_id: string | number;
  End_log_pos: string | number;
  Info: string;
}

function parseFile(
  name: string,
  buf: Buffer,
): { events: BinlogEvent[]; transactions: BinlogTransaction[]; tracker: TransactionTracker } {
  const parser = new BinlogEventParser({ object: name });
  const tracker = new TransactionTracker(name);
  const events: BinlogEvent[] = [];
  const transactions: BinlogTransaction[] = [];
  // feed in uneven chunks, as a stream would arrive
  for (let i = 0; i < buf.length; i += 1000) {
    for (const e of parser.push(buf.subarray(i, i + 1000))) {
      events.push(e);
      const t = tracker.add(e);
      if (t) transactions.push(t);
    }
  }
  parser.end();
  return { events, transactions, tracker };
}

describe('binlog files written by a real MariaDB', () => {
  let server: MariadbServer;
  let work: string;
  let closed: Buffer;
  let closedPath: string;
  let active: Buffer;
  let serverEvents: BinlogEventRow[];
  let binlogPos: string;

  before(async () => {
    server = await startMariadb();
    work = await mkdtemp(join(tmpdir(), 'pitr-binlog-inspect-'));
    const q = (sql: string): Promise<unknown> => server.query(sql);
    await q('CREATE DATABASE shop');
    await q('CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(100), qty INT) ENGINE=InnoDB');
    await q("INSERT INTO shop.items VALUES (1,'apple',3),(2,'pear',5),(3,'plum',7)");
    const conn = await server.connect();
    try {
      await conn.query('BEGIN');
      await conn.query("INSERT INTO shop.items VALUES (4,'fig',1)");
      await conn.query('UPDATE shop.items SET qty = qty + 1 WHERE id <= 2');
      await conn.query('DELETE FROM shop.items WHERE id = 3');
      await conn.query('COMMIT');
      await conn.query('BEGIN');
      await conn.query("INSERT INTO shop.items VALUES (9,'never',0)");
      await conn.query('ROLLBACK'); // not binlogged
    } finally {
      await conn.end();
    }
    const xa = await server.connect();
    try {
      await xa.query("XA START 'pitr-xa-1'");
      await xa.query("INSERT INTO shop.items VALUES (6,'xa row',1)");
      await xa.query("XA END 'pitr-xa-1'");
      await xa.query("XA PREPARE 'pitr-xa-1'");
      await xa.query("XA COMMIT 'pitr-xa-1'");
    } finally {
      await xa.end();
    }
    await q('CREATE TABLE shop.log (id INT AUTO_INCREMENT PRIMARY KEY, msg TEXT) ENGINE=MyISAM');
    await q("INSERT INTO shop.log (msg) VALUES ('non-transactional')");
    await q('ALTER TABLE shop.items ADD COLUMN note VARCHAR(20)');
    await q('FLUSH BINARY LOGS');
    await q("INSERT INTO shop.items VALUES (5,'kiwi',2,'after flush')");
    const rows = await server.query<{ Log_name: string }[]>('SHOW BINARY LOGS');
    const first = rows[0]!.Log_name;
    const last = rows[rows.length - 1]!.Log_name;
    serverEvents = await server.query<BinlogEventRow[]>(`SHOW BINLOG EVENTS IN '${first}'`);
    binlogPos = (await server.query<{ p: string }[]>('SELECT @@gtid_binlog_pos AS p'))[0]!.p;
    closedPath = join(server.binlogDir, first);
    closed = await readFile(closedPath);
    active = await readFile(join(server.binlogDir, last));
  });

  after(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the parser finds the events, offsets and GTIDs that SHOW BINLOG EVENTS reports', () => {
    const { events, transactions, tracker } = parseFile('closed', closed);
    assert.equal(events.length, serverEvents.length);
    for (const [i, row] of serverEvents.entries()) {
      const e = events[i]!;
      assert.equal(e.offset, Number(row.Pos), `event ${i} (${row.Event_type})`);
      assert.equal(e.endOffset, Number(row.End_log_pos), `event ${i} (${row.Event_type})`);
      assert.equal(e.header.serverId, Number(row.Server_id));
    }
    const serverGtids = serverEvents
      .filter((r) => r.Event_type === 'Gtid')
      .map((r) => /GTID (\d+-\d+-\d+)/.exec(r.Info)![1]);
    assert.ok(
      serverGtids.length >= 7,
      `expected at least 7 event groups, server lists ${serverGtids.length}`,
    );
    assert.deepEqual(
      transactions.map((t) => t.gtid),
      serverGtids,
    );
    assert.equal(tracker.open, undefined);
    // the multi-statement transaction: one group with rows for items, ended by XID
    const multi = transactions.find((t) => t.tables.includes('shop.items') && t.eventCount > 6);
    assert.ok(multi, 'multi-statement transaction found');
    assert.equal(multi.end, 'xid');
    // the XA transaction: prepared part ended by XA_PREPARE, then XA COMMIT as its own group
    const ends = transactions.map((t) => t.end);
    assert.ok(ends.includes('xa-prepare'), `XA PREPARE group found in ${ends.join(',')}`);
    assert.ok(ends.includes('xa-commit'), `XA COMMIT group found in ${ends.join(',')}`);
    // DDL groups are standalone and end with their QUERY
    const ddl = transactions.filter((t) => t.end === 'statement');
    assert.ok(ddl.length >= 3, 'CREATE DATABASE, CREATE TABLE x2, ALTER TABLE');
    // types MariaDB 10.11 writes
    const types = new Set(events.map((e) => e.typeName));
    for (const t of [
      'FORMAT_DESCRIPTION',
      'MARIADB_GTID_LIST',
      'BINLOG_CHECKPOINT',
      'MARIADB_GTID',
      'QUERY',
      'TABLE_MAP',
      'XID',
      'ROTATE',
    ]) {
      assert.ok(types.has(t), `${t} present`);
    }
    const fde = events[0]!.data;
    assert.ok(
      fde?.kind === 'format-description' && fde.flavor === 'mariadb' && fde.checksumAlgorithm === 'CRC32',
    );
  });

  it('GTIDs of both files add up to @@gtid_binlog_pos, and the next file GTID_LIST carries it on', () => {
    const one = parseFile('closed', closed);
    const two = parseFile('active', active);
    let pos = MariadbGtidPos.EMPTY;
    for (const t of [...one.transactions, ...two.transactions]) pos = pos.advance(parseMariadbGtid(t.gtid!));
    assert.equal(pos.toString(), MariadbGtidPos.parse(binlogPos).toString());
    const list = two.events.find((e) => e.typeCode === EventType.MARIADB_GTID_LIST)!.data;
    assert.ok(list?.kind === 'mariadb-gtid-list');
    assert.equal(list.position.toString(), one.transactions.at(-1)!.gtid);
  });

  it('the active file verifies although its FDE carries the in-use flag', () => {
    const two = parseFile('active', active);
    const fde = two.events[0]!;
    assert.equal(fde.header.flags & LOG_EVENT_BINLOG_IN_USE_F, LOG_EVENT_BINLOG_IN_USE_F);
    // MariaDB computed the CRC32 with the flag clear and set it afterwards: only the masked bytes verify.
    const CRC32_RESIDUE = 0x2144df1c;
    assert.notEqual(crc32(fde.raw), CRC32_RESIDUE);
    const masked = Buffer.from(fde.raw);
    masked[17]! &= ~LOG_EVENT_BINLOG_IN_USE_F;
    assert.equal(crc32(masked), CRC32_RESIDUE);
    assert.equal(two.transactions.length, 1);
  });

  it('CLI --json lists every event, transaction ends and a summary', async () => {
    const r = await runCli(['binlog', 'inspect', '--json', closedPath]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.at(-1)!;
    const events = lines.slice(0, -1);
    assert.equal(summary['summary'], true);
    assert.equal(summary['events'], serverEvents.length);
    assert.equal(events.length, serverEvents.length);
    assert.equal(summary['checksum'], 'CRC32');
    assert.deepEqual(
      events.map((e) => e['offset']),
      serverEvents.map((row) => Number(row.Pos)),
    );
    const ends = events.filter((e) => e['transaction']);
    assert.equal(ends.length, summary['transactions']);
    assert.equal(ends.length, serverEvents.filter((row) => row.Event_type === 'Gtid').length);
    const t1 = ends[0]!['transaction'] as { number: number; gtid: string; commitTime: string };
    assert.equal(t1.number, 1);
    assert.match(t1.gtid, /^0-\d+-\d+$/);
    assert.match(t1.commitTime, /^\d{4}-\d\d-\d\dT/);
  });

  it('CLI reads a .zst file (zstd CLI) streaming, with the same events', async () => {
    const zst = join(work, 'mysql-bin.000001.zst');
    await execFileAsync('zstd', ['-q', '-f', '-o', zst, closedPath]);
    const plain = await runCli(['binlog', 'inspect', closedPath]);
    const packed = await runCli(['binlog', 'inspect', zst]);
    assert.equal(packed.code, 0, packed.stderr);
    const body = (s: string): string[] => s.trim().split('\n').slice(0, -1);
    assert.deepEqual(body(packed.stdout), body(plain.stdout));
    assert.match(
      packed.stdout.trim().split('\n').at(-1)!,
      /transactions.*checksums: CRC32 verified on all \d+ events/,
    );
  });

  it('CLI exits with the DATA code naming file and offset for a corrupted or truncated copy', async () => {
    const xid = parseFile('closed', closed).events.find((e) => e.typeCode === EventType.XID)!;
    const bad = Buffer.from(closed);
    bad[xid.offset + 20]! ^= 0x04;
    const badPath = join(work, 'corrupt-bin.000001');
    await writeFile(badPath, bad);
    const r = await runCli(['binlog', 'inspect', badPath]);
    assert.equal(r.code, ExitCode.DATA);
    assert.match(r.stderr, new RegExp(`corrupt-bin\\.000001 at offset ${xid.offset}`));
    assert.match(r.stderr, /CHECKSUM_MISMATCH|checksum mismatch/);

    const cutPath = join(work, 'cut-bin.000001');
    await writeFile(cutPath, closed.subarray(0, xid.offset + 10));
    const c = await runCli(['binlog', 'inspect', '--json', cutPath]);
    assert.equal(c.code, ExitCode.DATA);
    assert.match(c.stderr, new RegExp(`truncated data in .*cut-bin\\.000001 at offset ${xid.offset}`));
  });
});
