// `mysql-pitr binlog inspect` as a child process on damaged, encrypted and unusual real binlogs
// (issue 13, "Reading"): what an operator sees on stdout and stderr, and the exit code.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ENCRYPTED_BINLOG_MAGIC, EventType } from '../../src/binlog/index.js';
import { ExitCode } from '../../src/errors/index.js';
import { OWN_FIXTURE_DIR, ownFixture, resealEvent } from '../support/binlog-fixtures.js';
import { runCli } from '../support/run-cli.js';

/** Offset of the INCIDENT_EVENT in mariadb-incident.000001, the 13th event. */
const THIRTEENTH = 878;

/** Event lines of the human output (they start with the right-aligned offset). */
function eventLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => /^\s+\d+\s+\d+\s+[A-Z_0-9]+\s/.test(l));
}

describe('binlog inspect on damaged, encrypted and unusual binlogs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-inspect-faults-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, bytes: Buffer): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  }

  it('a bad CRC32 in the 13th event: the 12 events before it are printed, then the error (exit 5)', async () => {
    const bad = ownFixture('mariadb-incident.000001');
    bad[THIRTEENTH + 25]! ^= 0x01;
    const path = await file('bad-crc.000001', bad);

    const human = await runCli(['binlog', 'inspect', path]);
    assert.equal(human.code, ExitCode.DATA, human.stderr);
    const lines = eventLines(human.stdout);
    assert.equal(lines.length, 12, human.stdout);
    assert.match(lines[0]!, /^\s+4\s+256\s+FORMAT_DESCRIPTION/);
    assert.match(lines[11]!, /^\s+809\s+878\s+QUERY .*COMMIT/);
    assert.match(human.stderr, /checksum mismatch in .*bad-crc\.000001 at offset 878/);

    const json = await runCli(['binlog', 'inspect', '--json', path]);
    assert.equal(json.code, ExitCode.DATA);
    const objects = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { offset: number });
    assert.deepEqual(
      objects.map((o) => o.offset),
      [4, 256, 285, 328, 370, 451, 493, 627, 669, 723, 766, 809],
    );
  });

  it('a MariaDB encrypted binlog: "encrypted binlog: not supported", not a checksum mismatch (exit 5)', async () => {
    const r = await runCli(['binlog', 'inspect', join(OWN_FIXTURE_DIR, 'mariadb-encrypted.000001')]);
    assert.equal(r.code, ExitCode.DATA, r.stderr);
    assert.match(r.stderr, /encrypted binlog: not supported: .*mariadb-encrypted\.000001 at offset 256/);
    assert.match(r.stderr, /BINLOG_ENCRYPTED/);
    assert.doesNotMatch(r.stderr, /checksum mismatch|CHECKSUM_MISMATCH|corrupt data|CORRUPT_DATA/i);
    assert.deepEqual(
      eventLines(r.stdout).map((l) => l.trim().split(/\s+/)[2]),
      ['FORMAT_DESCRIPTION'],
    );
  });

  it('a MySQL encrypted binlog (magic \\xfdbin): named as encrypted, not corrupt data (exit 5)', async () => {
    // Documented layout of MySQL 8.0.14+ (no real file is available to the project).
    const path = await file(
      'binlog.000001',
      Buffer.concat([ENCRYPTED_BINLOG_MAGIC, Buffer.from([1]), Buffer.alloc(600, 0x5a)]),
    );
    const r = await runCli(['binlog', 'inspect', path]);
    assert.equal(r.code, ExitCode.DATA);
    assert.match(r.stderr, /encrypted binlog: not supported: .*MySQL 8\.0\.14\+ encrypted binlog/);
    assert.doesNotMatch(r.stderr, /corrupt data/);
  });

  it('an INCIDENT event: printed with its number and message, and a warning on stderr (exit 0)', async () => {
    const path = join(OWN_FIXTURE_DIR, 'mariadb-incident.000001');
    const human = await runCli(['binlog', 'inspect', path]);
    assert.equal(human.code, 0, human.stderr);
    const line = eventLines(human.stdout).find((l) => /\sINCIDENT\s/.test(l));
    assert.match(line ?? '', /^\s+878\s+935\s+INCIDENT .*LOST_EVENTS \(1\): error writing to the binary log/);
    assert.match(
      human.stderr,
      /warning: .*mariadb-incident\.000001 at offset 878: INCIDENT LOST_EVENTS \(error writing to the binary log\): the source lost events here/,
    );
    assert.match(
      human.stdout,
      /# mariadb-incident\.000001: 19 events, 4 transactions, 1 INCIDENT event\(s\)/,
    );

    const json = await runCli(['binlog', 'inspect', '--json', path]);
    assert.equal(json.code, 0);
    const objects = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(objects.find((o) => o['type'] === 'INCIDENT')?.['incident'], {
      number: 1,
      name: 'LOST_EVENTS',
      message: 'error writing to the binary log',
    });
    assert.equal(objects.at(-1)?.['incidents'], 1);
    assert.match(json.stderr, /warning: .* INCIDENT LOST_EVENTS/);
  });

  it('an unknown event type is named by its code and skipped by its size (exit 0)', async () => {
    const buf = ownFixture('mariadb-incident.000001');
    const at = 766; // WRITE_ROWS_V1, 43 bytes
    assert.equal(buf[at + 4], EventType.WRITE_ROWS_V1);
    buf[at + 4] = 100;
    resealEvent(buf.subarray(at, at + 43));
    const r = await runCli(['binlog', 'inspect', '--json', await file('unknown.000001', buf)]);
    assert.equal(r.code, 0, r.stderr);
    const objects = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const unknown = objects.find((o) => o['offset'] === at);
    assert.equal(unknown?.['type'], 'UNKNOWN_100');
    assert.equal(unknown?.['typeCode'], 100);
    assert.match(String(unknown?.['info']), /type code 100, unknown to this reader/);
    assert.equal(objects.at(-1)?.['events'], 19);
  });
});
