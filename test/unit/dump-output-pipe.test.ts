// DumpOutputPipe (src/backup): a child's stdout through a FIFO, read into one reused buffer, with
// the handler's back-pressure and errors; the FIFO's folder is gone once both ends are open.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DumpOutputPipe } from '../../src/backup/dump-output-pipe.js';

/** A child writing the file at `path` to `fd` in writes of varying sizes, as a dump tool does. */
function writer(path: string, fd: number): Promise<number | null> {
  const script = `const fs = require('node:fs');
const data = fs.readFileSync(${JSON.stringify(path)});
try {
  for (let at = 0, k = 0; at < data.length; k++) {
    const n = [4096, 1 << 20, 77, 65536, 300000][k % 5];
    at += fs.writeSync(1, data, at, Math.min(n, data.length - at));
  }
} catch { process.exit(3); }`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', fd, 'ignore'] });
  return new Promise((resolve) => child.on('close', resolve));
}

describe('DumpOutputPipe', () => {
  let tmp: string;
  let work: string;
  let savedTmp: string | undefined;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'pitr-dump-pipe-test-'));
    tmp = join(work, 'tmp');
    await mkdir(tmp);
    savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = tmp; // the FIFO's private folder goes here
  });
  after(async () => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    await rm(work, { recursive: true, force: true });
  });

  it('hands on every byte in order, through one reused buffer, waiting while the handler waits', async () => {
    const data = randomBytes(12 * 1024 * 1024 + 17);
    await writeFile(join(work, 'data'), data);
    const pipe = (await DumpOutputPipe.open())!;
    assert.ok(pipe, 'a FIFO could be made');
    assert.deepEqual(await readdir(tmp), [], 'the FIFO folder is removed once both ends are open');
    const exited = writer(join(work, 'data'), pipe.writeFd);
    pipe.closeWriteEnd();
    const h = createHash('sha256');
    let got = 0;
    let reads = 0;
    const backings = new Set<ArrayBuffer>();
    let inHandler = false;
    await pipe.read((chunk) => {
      assert.equal(inHandler, false, 'no read while the handler waits');
      h.update(chunk);
      got += chunk.length;
      backings.add(chunk.buffer as ArrayBuffer);
      if (++reads % 5 !== 0) return undefined;
      inHandler = true;
      return new Promise((resolve) =>
        setTimeout(() => {
          inHandler = false;
          resolve();
        }, 5),
      );
    });
    assert.equal(await exited, 0);
    assert.equal(got, data.length);
    assert.equal(h.digest('hex'), createHash('sha256').update(data).digest('hex'));
    assert.ok(reads > 10, `${reads} reads`);
    assert.equal(backings.size, 1, 'one buffer for every read');
    pipe.destroy();
  });

  it("a handler's error (thrown or its promise's) ends the read with that error; the writer gets EPIPE", async () => {
    for (const how of ['throw', 'reject'] as const) {
      const pipe = (await DumpOutputPipe.open())!;
      const exited = writer(join(work, 'data'), pipe.writeFd);
      pipe.closeWriteEnd();
      let reads = 0;
      await assert.rejects(
        pipe.read(() => {
          if (++reads < 3) return undefined;
          if (how === 'throw') throw new Error('no room');
          return Promise.reject(new Error('no room'));
        }),
        /no room/,
      );
      pipe.destroy();
      assert.notEqual(await exited, 0, `${how}: the writer stops once nobody reads`);
    }
  });

  it('a read after destroy fails instead of hanging', async () => {
    const pipe = (await DumpOutputPipe.open())!;
    pipe.destroy();
    await assert.rejects(
      pipe.read(() => undefined),
      /already read or closed/,
    );
    assert.throws(() => pipe.writeFd, /closed/);
  });
});
