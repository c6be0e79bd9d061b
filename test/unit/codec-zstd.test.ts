import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';

import {
  createZstdCompressStream,
  createZstdDecompressStream,
  zstdCompress,
  zstdDecompress,
} from '../../src/codec/index.js';
import { CorruptDataError } from '../../src/errors/index.js';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Runs `input` (split into `pieces` chunks) through a fresh stream and collects its output. */
async function through(make: () => Transform, input: Buffer, pieceSize = 4096): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i += pieceSize) pieces.push(input.subarray(i, i + pieceSize));
  const out: Buffer[] = [];
  await pipeline(Readable.from(pieces), make(), async function (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) out.push(chunk as Buffer);
  });
  return Buffer.concat(out);
}

/** Compressible text-like data: repeated lines with varying numbers. */
function sampleData(lines: number): Buffer {
  return Buffer.from(
    Array.from({ length: lines }, (_, i) => `INSERT INTO t VALUES (${i}, 'row ${i * 7919}', NOW());\n`).join(
      '',
    ),
  );
}

function assertZstdError(err: unknown, code: 'CORRUPT_DATA' | 'TRUNCATED_DATA', object: string): true {
  assert.ok(err instanceof CorruptDataError, `expected CorruptDataError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.equal(err.object, object);
  assert.match(err.message, new RegExp(object.replace(/[.*/]/g, '\\$&')));
  assert.match(err.message, /restore it from another copy|re-archive/);
  return true;
}

describe('zstd codec', () => {
  it('round-trips through the streams, whatever the input chunking', async () => {
    const data = Buffer.concat([sampleData(5000), randomBytes(100_000)]);
    for (const piece of [1, 7, 4096, 1 << 20]) {
      const input = piece === 1 ? data.subarray(0, 3000) : data;
      const compressed = await through(() => createZstdCompressStream(), input, piece);
      assert.ok(compressed.length > 0);
      const restored = await through(() => createZstdDecompressStream(), compressed, piece);
      assert.ok(restored.equals(input), `piece size ${piece}`);
    }
  });

  it('compresses text-like data at level 1 by default, and honours the level', async () => {
    const data = sampleData(20_000);
    const byDefault = await through(() => createZstdCompressStream(), data);
    const level1 = await through(() => createZstdCompressStream({ level: 1 }), data);
    const fastest = await through(() => createZstdCompressStream({ level: -7 }), data);
    assert.ok(byDefault.length < data.length / 4, `default: ${byDefault.length} of ${data.length}`);
    assert.ok(byDefault.equals(level1), 'the default level is 1');
    assert.ok(
      fastest.length > byDefault.length * 2,
      `level -7 ${fastest.length} vs level 1 ${byDefault.length}`,
    );
    assert.throws(() => createZstdCompressStream({ level: 23 }), RangeError);
    assert.throws(() => zstdCompress(data, 1.5), RangeError);
  });

  it('one-shot helpers round-trip and interoperate with the streams', async () => {
    const data = sampleData(3000);
    assert.ok(zstdDecompress(zstdCompress(data)).equals(data));
    assert.ok(zstdDecompress(zstdCompress(data, 1)).equals(data));
    assert.ok(zstdDecompress(await through(() => createZstdCompressStream(), data)).equals(data));
    assert.ok((await through(() => createZstdDecompressStream(), zstdCompress(data))).equals(data));
    assert.equal(zstdDecompress(zstdCompress(Buffer.alloc(0))).length, 0);
    assert.equal((await through(() => createZstdDecompressStream(), Buffer.alloc(0))).length, 0);
  });

  it('decodes several concatenated frames, split anywhere', async () => {
    const parts = [sampleData(100), Buffer.alloc(0), randomBytes(5000), sampleData(2000)];
    const frames = await Promise.all(parts.map((p) => through(() => createZstdCompressStream(), p)));
    const all = Buffer.concat(frames);
    const want = Buffer.concat(parts);
    assert.ok(zstdDecompress(all).equals(want));
    // Split at every byte offset around each frame boundary, and into 1-byte pieces.
    let boundary = 0;
    for (const frame of frames.slice(0, -1)) {
      boundary += frame.length;
      for (const at of [boundary - 1, boundary, boundary + 1]) {
        const out = await collect(
          Readable.from([all.subarray(0, at), all.subarray(at)]).pipe(createZstdDecompressStream()),
        );
        assert.ok(out.equals(want), `split at ${at}`);
      }
    }
    assert.ok((await through(() => createZstdDecompressStream(), all, 1)).equals(want));
  });

  it('truncated input fails with TRUNCATED_DATA naming the object, at every cut inside the last frame', async () => {
    const frames = Buffer.concat([zstdCompress(sampleData(50)), zstdCompress(randomBytes(3000))]);
    const firstLen = zstdCompress(sampleData(50)).length;
    for (const cut of [1, 4, 5, 12, firstLen + 1, firstLen + 100, frames.length - 1]) {
      const input = frames.subarray(0, cut);
      await assert.rejects(
        through(() => createZstdDecompressStream({ object: 'binlogs/mysql-bin.000042.zst' }), input, 64),
        (err) => assertZstdError(err, 'TRUNCATED_DATA', 'binlogs/mysql-bin.000042.zst'),
        `cut at ${cut}`,
      );
      assert.throws(
        () => zstdDecompress(input, { object: 'm.json.zst' }),
        (err) => assertZstdError(err, 'TRUNCATED_DATA', 'm.json.zst'),
      );
    }
    // Cutting exactly at a frame boundary is a valid (shorter) stream: only a manifest's recorded
    // size can tell, which is the caller's check.
    assert.ok(zstdDecompress(frames.subarray(0, firstLen)).equals(sampleData(50)));
  });

  it('corrupt input fails with CORRUPT_DATA naming the object: not zstd, flipped bytes, bad checksum', async () => {
    const data = randomBytes(20_000);
    const good = zstdCompress(data);
    const cases: Array<[string, Buffer]> = [
      ['plain text', Buffer.from('this is not zstd at all, just text')],
      ['bad magic', Buffer.concat([Buffer.from([0, 0, 0, 0]), good.subarray(4)])],
      ['gzip', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3])],
    ];
    // A flipped byte in the payload (random data is stored raw, so the block decodes; the XXH64
    // content checksum at the end must catch it) and in the checksum itself.
    for (const at of [100, 10_000, good.length - 2]) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ 0x40;
      cases.push([`flipped byte ${at}`, bad]);
    }
    // Garbage after a good frame.
    cases.push(['trailing garbage', Buffer.concat([good, Buffer.from('garbage!')])]);
    for (const [what, input] of cases) {
      await assert.rejects(
        through(() => createZstdDecompressStream({ object: 'dumps/full.sql.zst' }), input),
        (err) => assertZstdError(err, 'CORRUPT_DATA', 'dumps/full.sql.zst'),
        what,
      );
      assert.throws(
        () => zstdDecompress(input, { object: 'x.zst' }),
        (err) => assertZstdError(err, 'CORRUPT_DATA', 'x.zst'),
        what,
      );
    }
  });
});
