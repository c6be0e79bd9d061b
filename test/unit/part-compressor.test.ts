/**
 * PartCompressor: parts compressed on a worker thread (SQL batches moved there and back, one
 * libzstd context reused from part to part, compressed bytes passed on while a part is written)
 * decompress to exactly what was written, with both SHA-256 right, for parts written one after
 * the other and interleaved, and on the calling thread too.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';

import { zstdDecompress } from '../../src/codec/index.js';
import { PartCompressor, type CompressedPart } from '../../src/backup/part-compressor.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** SQL-like bytes: compressible lines with random values, `size` bytes. */
function sql(size: number, seed: number): Buffer {
  const lines: Buffer[] = [];
  let n = 0;
  for (let i = 0; n < size; i++) {
    const line = Buffer.from(
      `(${seed},${i},'${randomBytes(24).toString('hex')}','sbtest padding ${i % 97}'),\n`,
      'latin1',
    );
    lines.push(line);
    n += line.length;
  }
  return Buffer.concat(lines).subarray(0, size);
}

async function collect(part: CompressedPart): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of part.stored) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes `data` in pieces of varying size (as views of one buffer, like pipe chunks), honouring back-pressure. */
async function feed(part: CompressedPart, data: Buffer): Promise<void> {
  let at = 0;
  for (let k = 0; at < data.length; k++) {
    const n = [65536, 1, 300000, 7777, 1048576, 1048577][k % 6]!;
    part.write(data.subarray(at, at + n));
    at += n;
    if (part.needsDrain) await part.drained();
  }
  part.end();
}

describe('PartCompressor', () => {
  const compressors: PartCompressor[] = [];
  after(async () => {
    for (const c of compressors) await c.close();
  });

  for (const workers of [1, 2, 0]) {
    it(`${workers} worker thread(s): parts one after the other and interleaved decompress to their SQL`, async () => {
      const c = new PartCompressor(workers, 3);
      compressors.push(c);
      assert.equal(c.workerCount, workers);
      const inputs = [sql(9 * 1024 * 1024 + 123, 1), Buffer.alloc(0), sql(1000, 2), sql(3 * 1024 * 1024, 3)];
      // one after the other: each part ends before the next starts (the writer's order)
      for (const input of inputs) {
        const part = c.startPart();
        const stored = collect(part);
        await feed(part, input);
        const out = await stored;
        const sums = await part.checksums;
        assert.ok(zstdDecompress(out).equals(input));
        assert.deepEqual(Object.keys(sums), ['storedSha256'], 'the SQL is not hashed');
        assert.equal(sums.storedSha256, sha(out));
        if (input.length > 1024 * 1024) assert.ok(out.length < input.length, 'compressed');
      }
      // interleaved: a second part starts while the first is still open
      const a = c.startPart();
      const b = c.startPart();
      const [sa, sb] = [collect(a), collect(b)];
      const [ia, ib] = [sql(2 * 1024 * 1024 + 5, 4), sql(1024 * 1024 + 9, 5)];
      a.write(ia.subarray(0, 1024 * 1024 + 1));
      b.write(ib);
      a.write(ia.subarray(1024 * 1024 + 1));
      b.end();
      a.end();
      const [oa, ob] = await Promise.all([sa, sb]);
      assert.ok(zstdDecompress(oa).equals(ia));
      assert.ok(zstdDecompress(ob).equals(ib));
      assert.equal((await a.checksums).storedSha256, sha(oa));
      assert.equal((await b.checksums).storedSha256, sha(ob));
    });
  }

  it('a part written after close fails instead of hanging', async () => {
    const c = new PartCompressor(1, 3);
    await c.close();
    const part = c.startPart();
    const storedError = new Promise((resolve) => part.stored.on('error', resolve));
    await assert.rejects(part.checksums, /closed/);
    assert.match(String(await storedError), /closed/);
  });
});
