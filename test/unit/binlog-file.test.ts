import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BinlogFileReader,
  BinlogFileWriter,
  copyBinlogStream,
  type CopyableStreamItem,
} from '../../src/binlog-file/index.js';
import { CorruptDataError, isPitrError } from '../../src/errors/index.js';
import { FIXTURE_DIR } from '../support/binlog-fixtures.js';

const CRC32_FILE = join(FIXTURE_DIR, 'mysql-bin.checksum-crc32');
const NONE_FILE = join(FIXTURE_DIR, 'mysql-bin.checksum-none');

async function readAll(path: string, opts: Parameters<typeof BinlogFileReader.open>[1] = {}) {
  const reader = await BinlogFileReader.open(path, opts);
  const events = [];
  for await (const e of reader) events.push(e);
  return { events, reader };
}

describe('BinlogFileReader and BinlogFileWriter on real MySQL binlogs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-binlog-file-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every event of the CRC32 fixture, verifying checksums, at every chunk size boundary', async () => {
    const bytes = await readFile(CRC32_FILE);
    const { events, reader } = await readAll(CRC32_FILE);
    assert.equal(reader.verifiesChecksums, true);
    assert.equal(events.length, 303); // per the fixture README
    assert.equal(events[0]?.position, 4);
    assert.equal(events[0]?.header.typeCode, 15);
    let at = 4;
    for (const e of events) {
      assert.equal(e.position, at);
      assert.ok(e.buffer.equals(bytes.subarray(at, at + e.buffer.length)));
      at += e.buffer.length;
    }
    assert.equal(at, bytes.length);
    // tiny and odd chunk sizes split headers and events everywhere
    for (const chunkBytes of [19, 20, 37, 101, 4096]) {
      const r = await readAll(CRC32_FILE, { chunkBytes });
      assert.equal(r.events.length, 303, `chunkBytes ${chunkBytes}`);
      assert.equal(r.reader.position, bytes.length);
    }
  });

  it('reads a file without checksums and does not try to verify it', async () => {
    const { events, reader } = await readAll(NONE_FILE);
    assert.equal(reader.verifiesChecksums, false);
    assert.equal(events.length, 191);
    assert.equal(events.at(-1)?.header.typeCode, 3); // STOP
  });

  it('starts at an event boundary past 4 and still verifies with the FDE read from offset 4', async () => {
    const { events } = await readAll(CRC32_FILE);
    const mid = events[150]!;
    const { events: tail, reader } = await readAll(CRC32_FILE, { from: mid.position });
    assert.equal(reader.verifiesChecksums, true);
    assert.equal(tail.length, 303 - 150);
    assert.ok(tail[0]?.buffer.equals(mid.buffer));
  });

  it('reports a flipped bit as ChecksumMismatchError at the damaged event', async () => {
    const bytes = Buffer.from(await readFile(CRC32_FILE));
    const { events } = await readAll(CRC32_FILE);
    const victim = events[42]!;
    bytes[victim.position + 25]! ^= 0x10;
    const path = join(dir, 'flipped');
    await writeFile(path, bytes);
    await assert.rejects(readAll(path), (err: unknown) => {
      assert.ok(isPitrError(err, 'CHECKSUM_MISMATCH'));
      assert.equal((err as { offset?: number }).offset, victim.position);
      return true;
    });
  });

  it('reports a cut last event as TRUNCATED_DATA, or stops before it with allowPartialTail', async () => {
    const bytes = await readFile(CRC32_FILE);
    const path = join(dir, 'cut');
    await writeFile(path, bytes.subarray(0, bytes.length - 7));
    await assert.rejects(readAll(path), (err: unknown) => isPitrError(err, 'TRUNCATED_DATA'));
    const { events, reader } = await readAll(path, { allowPartialTail: true });
    assert.equal(events.length, 302);
    const { events: all } = await readAll(CRC32_FILE);
    assert.equal(reader.position, all[302]!.position);
  });

  it('refuses a file that is not a binlog', async () => {
    const path = join(dir, 'not-a-binlog');
    await writeFile(path, 'hello world, not a binlog');
    await assert.rejects(BinlogFileReader.open(path), (err: unknown) => isPitrError(err, 'CORRUPT_DATA'));
    await assert.rejects(BinlogFileReader.open(join(dir, 'missing')), /does not exist/);
  });

  it('writes the events back into a byte-identical file, with small write buffers too', async () => {
    const original = await readFile(CRC32_FILE);
    const { events } = await readAll(CRC32_FILE);
    for (const bufferBytes of [1, 1000, undefined]) {
      const path = join(dir, `copy-${bufferBytes}`);
      const w = await BinlogFileWriter.open(path, { bufferBytes });
      assert.equal(w.position, 4);
      for (const e of events) await w.append(e.buffer);
      assert.equal(w.position, original.length);
      await w.close({ sync: true });
      assert.ok((await readFile(path)).equals(original), `bufferBytes ${bufferBytes}`);
    }
  });

  it('will not silently overwrite an existing file', async () => {
    const path = join(dir, 'copy-undefined');
    await assert.rejects(BinlogFileWriter.open(path), /already exists/);
  });

  it('resumes at an offset, cutting off a torn tail, and appends exactly the rest', async () => {
    const original = await readFile(CRC32_FILE);
    const { events } = await readAll(CRC32_FILE);
    const cutAt = events[200]!.position;
    const path = join(dir, 'resumed');
    await writeFile(path, original.subarray(0, cutAt));
    await appendFile(path, Buffer.from('torn half of an event')); // a crash mid-write
    const w = await BinlogFileWriter.open(path, { resumeAt: cutAt });
    assert.equal((await stat(path)).size, cutAt);
    assert.equal(w.position, cutAt);
    for (const e of events.slice(200)) await w.append(e.buffer);
    await w.close({ sync: true });
    assert.ok((await readFile(path)).equals(original));
  });

  it('refuses an event that does not belong at the current position (a gap)', async () => {
    const { events } = await readAll(CRC32_FILE);
    const path = join(dir, 'gap');
    const w = await BinlogFileWriter.open(path);
    await w.append(events[0]!.buffer);
    await assert.rejects(w.append(events[2]!.buffer), (err: unknown) => {
      assert.ok(isPitrError(err, 'CORRUPT_DATA'));
      assert.match((err as Error).message, /missing or repeated/);
      return true;
    });
    await w.close();
  });

  it('refuses to resume past the end of the file or into a file without the magic', async () => {
    const path = join(dir, 'short');
    await writeFile(path, (await readFile(CRC32_FILE)).subarray(0, 100));
    await assert.rejects(BinlogFileWriter.open(path, { resumeAt: 200 }), (err: unknown) =>
      isPitrError(err, 'TRUNCATED_DATA'),
    );
    const bad = join(dir, 'bad-magic');
    await writeFile(bad, Buffer.alloc(100));
    await assert.rejects(BinlogFileWriter.open(bad, { resumeAt: 50 }), (err: unknown) =>
      isPitrError(err, 'CORRUPT_DATA'),
    );
  });

  it('copyBinlogStream writes in-file events only, resuming an existing file mid-way', async () => {
    const original = await readFile(CRC32_FILE);
    const { events } = await readAll(CRC32_FILE);
    const out = join(dir, 'copy-stream');
    await mkdir(out);
    const name = 'mysql-bin.000001';
    const cut = events[100]!.position;
    await writeFile(join(out, name), original.subarray(0, cut));
    async function* dump(): AsyncGenerator<CopyableStreamItem> {
      yield { kind: 'rotate-artificial', buffer: Buffer.alloc(0), file: name, position: cut };
      yield { kind: 'format-description-resend', buffer: events[0]!.buffer, file: name, position: cut };
      for (const e of events.slice(100)) {
        yield { kind: 'event', buffer: e.buffer, file: name, position: e.position };
        yield { kind: 'heartbeat', buffer: Buffer.alloc(30), file: name, position: e.position };
      }
    }
    const copied = await copyBinlogStream(dump(), out);
    assert.deepEqual(copied, [{ file: name, path: join(out, name), from: cut, to: original.length }]);
    assert.ok((await readFile(join(out, name))).equals(original));
  });

  it('copyBinlogStream refuses unsafe file names and events before any ROTATE', async () => {
    const { events } = await readAll(CRC32_FILE);
    async function* items(list: CopyableStreamItem[]): AsyncGenerator<CopyableStreamItem> {
      yield* list;
    }
    const rotate = (file: string): CopyableStreamItem => ({
      kind: 'rotate-artificial',
      buffer: Buffer.alloc(0),
      file,
      position: 4,
    });
    await assert.rejects(
      copyBinlogStream(items([rotate('../escape')]), dir),
      (err: unknown) =>
        err instanceof CorruptDataError &&
        err.code === 'CORRUPT_DATA' &&
        /unsafe binlog file name/.test(err.message),
    );
    await assert.rejects(
      copyBinlogStream(items([{ kind: 'event', buffer: events[0]!.buffer, file: 'x', position: 4 }]), dir),
      (err: unknown) =>
        err instanceof CorruptDataError &&
        err.object === 'x' &&
        err.offset === 4 &&
        /before announcing the file/.test(err.message),
    );
  });
});
