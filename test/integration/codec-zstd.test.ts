import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';

import {
  createZstdCompressStream,
  createZstdDecompressStream,
  zstdDecompress,
} from '../../src/codec/index.js';

const MIB = 1024 * 1024;

/** Runs the zstd CLI with `args`, feeding `input`; resolves with its stdout. */
async function zstdCli(args: string[], input: Buffer): Promise<Buffer> {
  const child = spawn('zstd', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  child.stdin.end(input);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  assert.equal(code, 0, `zstd ${args.join(' ')} failed: ${Buffer.concat(err).toString()}`);
  return Buffer.concat(out);
}

async function runThrough(input: Buffer, ...stages: Transform[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([input]),
    ...(stages as [Transform]),
    async function (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) out.push(chunk as Buffer);
    },
  );
  return Buffer.concat(out);
}

/**
 * `size` bytes of moderately compressible data (random words from a small vocabulary mixed with
 * random bytes, like binlog rows), produced lazily in 64 KiB chunks and hashed as they go.
 */
function* rowLikeData(size: number, seed: Buffer): Generator<Buffer> {
  const words = Array.from({ length: 256 }, (_, i) =>
    Buffer.from(`col${i}=${seed.toString('hex', i % 16, (i % 16) + 4)};`),
  );
  let left = size;
  let state = seed.readUInt32LE(0);
  while (left > 0) {
    const n = Math.min(64 * 1024, left);
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      const word = words[state >>> 24]!;
      off += word.copy(out, off, 0, Math.min(word.length, n - off));
      if (off < n) out[off++] = state & 0xff;
    }
    left -= n;
    yield out;
  }
}

describe('zstd codec: large streams and the zstd CLI', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pitr-codec-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a 96 MiB stream with bounded memory', async () => {
    const size = 96 * MIB;
    const seed = randomBytes(16);
    const inHash = createHash('sha256');
    const outHash = createHash('sha256');
    let compressedBytes = 0;
    let outBytes = 0;
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sample = (): void => {
      peak = Math.max(peak, process.memoryUsage.rss());
    };
    await pipeline(
      Readable.from(
        (function* () {
          for (const chunk of rowLikeData(size, seed)) {
            inHash.update(chunk);
            yield chunk;
          }
        })(),
      ),
      createZstdCompressStream(),
      async function* (source) {
        for await (const chunk of source) {
          compressedBytes += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      },
      createZstdDecompressStream({ object: 'big.zst' }),
      async function (source) {
        for await (const chunk of source) {
          outHash.update(chunk as Buffer);
          outBytes += (chunk as Buffer).length;
          sample();
        }
      },
    );
    sample();
    assert.equal(outBytes, size);
    assert.equal(outHash.digest('hex'), inHash.digest('hex'));
    assert.ok(compressedBytes < size, `compressed ${compressedBytes} of ${size}`);
    const growth = peak - rss0;
    // Generous: allocator slack and GC timing, but far below the 96 MiB that buffering would take.
    assert.ok(growth < 48 * MIB, `rss grew by ${(growth / MIB).toFixed(1)} MiB while streaming 96 MiB`);
  });

  it('decompresses a 1 GiB run of zeros (ratio ~1:30,000) with bounded memory behind a slow reader', async () => {
    // A few KiB of input expand to a gigabyte: the decoder must pause between output buffers
    // instead of pushing one input chunk's whole output at once.
    const size = 1024 * MIB;
    const zeros = Buffer.alloc(MIB);
    const parts: Buffer[] = [];
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < size / MIB; i++) yield zeros;
        })(),
      ),
      createZstdCompressStream(),
      async function (source) {
        for await (const chunk of source) parts.push(chunk as Buffer);
      },
    );
    const compressed = Buffer.concat(parts);
    assert.ok(compressed.length < 256 * 1024, `compressed to ${compressed.length} bytes`);
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    let total = 0;
    let n = 0;
    await pipeline(
      Readable.from([compressed]),
      createZstdDecompressStream({ object: 'zeros.zst' }),
      async function (source) {
        for await (const chunk of source) {
          total += (chunk as Buffer).length;
          peak = Math.max(peak, process.memoryUsage.rss());
          if (++n % 256 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      },
    );
    assert.equal(total, size);
    const growth = peak - rss0;
    assert.ok(
      growth < 128 * MIB,
      `rss grew by ${(growth / MIB).toFixed(1)} MiB while decoding 1 GiB of zeros`,
    );
  });

  it('zstd -d reads our output, and we read the zstd CLI output (single and multi-frame)', async () => {
    const data = Buffer.concat([...rowLikeData(3 * MIB, randomBytes(16))]);
    const ours = await runThrough(data, createZstdCompressStream({ level: 3 }));
    assert.ok((await zstdCli(['-d', '-c'], ours)).equals(data), 'zstd -dc of our stream');
    // zstd -t verifies our frame, content checksum included.
    const path = join(dir, 'ours.zst');
    await writeFile(path, ours);
    await zstdCli(['-q', '-t', path], Buffer.alloc(0));
    // With a libzstd worker thread (what backup create uses) the frame is just as readable.
    const threaded = await runThrough(data, createZstdCompressStream({ level: 3, workers: 1 }));
    assert.ok((await zstdCli(['-d', '-c'], threaded)).equals(data), 'zstd -dc of the threaded stream');
    assert.ok((await runThrough(threaded, createZstdDecompressStream())).equals(data));

    for (const args of [['-1'], ['-19', '--no-check'], ['-3', '--content-size']]) {
      const theirs = await zstdCli([...args, '-c'], data);
      assert.ok(
        (await runThrough(theirs, createZstdDecompressStream())).equals(data),
        `zstd ${args.join(' ')}`,
      );
      assert.ok(zstdDecompress(theirs).equals(data));
    }
    // `cat a.zst b.zst` is a valid multi-frame file for the CLI and for us.
    const a = await zstdCli(['-c'], data.subarray(0, MIB));
    const b = await runThrough(data.subarray(MIB), createZstdCompressStream());
    const both = Buffer.concat([a, b]);
    assert.ok((await zstdCli(['-d', '-c'], both)).equals(data));
    assert.ok((await runThrough(both, createZstdDecompressStream())).equals(data));
    // And a file the CLI wrote to disk.
    const src = join(dir, 'plain.bin');
    await writeFile(src, data);
    await zstdCli(['-q', '-f', src, '-o', `${src}.zst`], Buffer.alloc(0));
    assert.ok(zstdDecompress(await readFile(`${src}.zst`)).equals(data));
  });
});
