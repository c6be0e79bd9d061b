/**
 * Parser throughput on a large cached binlog (not a test): how many MiB/s BinlogEventParser (with
 * CRC32 verification) and BinlogEventParser + TransactionTracker (decoding GTID/QUERY bodies) reach.
 *
 *   node --import tsx bench/binlog-parse.ts [FILE] [--repeat N]
 *
 * Without FILE it builds a ~256 MiB input by repeating the transactions of the project's own
 * MariaDB fixture (test/fixtures/binlogs/mariadb-incident.000001: GTID, ANNOTATE_ROWS, TABLE_MAP,
 * WRITE_ROWS and QUERY events, without its INCIDENT) after its FORMAT_DESCRIPTION_EVENT, so the
 * input is a valid binlog. The file is read into memory first (page cache + buffer): only parsing
 * is timed, fed in 256 KiB chunks as the CLI and archiver read.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BinlogEventParser, EventType, TransactionTracker } from '../src/binlog/index.js';

const CHUNK = 256 * 1024;
const args = process.argv.slice(2);
const repeatAt = args.indexOf('--repeat');
const repeat = repeatAt >= 0 ? Number(args[repeatAt + 1]) : 3;
const file = args.find((a, i) => !a.startsWith('--') && i !== repeatAt + 1);

/** Event types left out of the repeated body: the file's header events, the incident, ROTATE. */
const NOT_REPEATED = new Set<number>([
  EventType.FORMAT_DESCRIPTION,
  EventType.MARIADB_GTID_LIST,
  EventType.BINLOG_CHECKPOINT,
  EventType.INCIDENT,
  EventType.ROTATE,
]);

function syntheticInput(targetBytes: number): Buffer {
  const fixture = readFileSync(
    fileURLToPath(new URL('../test/fixtures/binlogs/mariadb-incident.000001', import.meta.url)),
  );
  const fdeEnd = 4 + fixture.readUInt32LE(4 + 9);
  const body: Buffer[] = [];
  for (let pos = fdeEnd; pos < fixture.length; pos += fixture.readUInt32LE(pos + 9)) {
    if (!NOT_REPEATED.has(fixture[pos + 4]!))
      body.push(fixture.subarray(pos, pos + fixture.readUInt32LE(pos + 9)));
  }
  const once = Buffer.concat(body);
  const copies = Math.ceil(targetBytes / once.length);
  return Buffer.concat([fixture.subarray(0, fdeEnd), ...Array.from({ length: copies }, () => once)]);
}

const input = file ? readFileSync(file) : syntheticInput(256 * 1024 * 1024);
const mib = input.length / (1024 * 1024);

function run(track: boolean): { events: number; seconds: number } {
  const t0 = process.hrtime.bigint();
  const parser = new BinlogEventParser({ object: file ?? 'synthetic' });
  const tracker = new TransactionTracker(file ?? 'synthetic');
  let events = 0;
  for (let i = 0; i < input.length; i += CHUNK) {
    for (const e of parser.push(input.subarray(i, i + CHUNK))) {
      events += 1;
      if (track) tracker.add(e);
    }
  }
  parser.end();
  return { events, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

console.log(
  `input: ${file ?? 'synthetic (mariadb-incident.000001 transactions repeated)'}, ${mib.toFixed(1)} MiB`,
);
for (const track of [false, true]) {
  for (let i = 0; i < repeat; i++) {
    const r = run(track);
    console.log(
      `${track ? 'parse+verify+track' : 'parse+verify      '}  run ${i + 1}: ${r.events} events, ` +
        `${r.seconds.toFixed(2)} s, ${(mib / r.seconds).toFixed(0)} MiB/s, ${(r.events / r.seconds / 1e6).toFixed(2)} M events/s`,
    );
  }
}
