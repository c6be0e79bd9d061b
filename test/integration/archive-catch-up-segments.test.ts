/**
 * A catch-up cuts segments of at most 16 MiB (CATCH_UP_SEGMENT_SIZE), whatever larger
 * --segment-size is given, and a smaller one still wins: a segment's compressed bytes stay in
 * memory until it is stored, and this keeps the catch-up's peak RSS under 128 MiB
 * (bench/README.md). Against a real MariaDB through the CLI; the fetched files are the source's,
 * byte for byte.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSegmentKey } from '../../src/catalog/index.js';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { runCli } from '../support/run-cli.js';
import { assertBinlogsIdentical } from '../support/binlog-compare.js';

const MiB = 1024 * 1024;

describe('archive --until-caught-up: segment size of a catch-up', () => {
  let server: MariadbServer;
  let work: string;
  let env: Record<string, string>;
  let file: string;
  let fileSize: number;

  /** Starts of the stored segments of `file`, in order. */
  async function segmentStarts(repoDir: string): Promise<number[]> {
    const dir = join(repoDir, 'binlogs', '000001', file);
    const starts = (await readdir(dir))
      .map((name) => parseSegmentKey(`binlogs/000001/${file}/${name}`)?.start)
      .filter((s): s is number => s !== undefined)
      .sort((a, b) => a - b);
    return starts;
  }

  before(async () => {
    server = await startMariadb();
    work = await mkdtemp(join(tmpdir(), 'pitr-catch-up-segments-'));
    env = { MYSQL_PITR_SOURCE_PASSWORD: server.repl.password };
    // 48 transactions of one 1 MiB row: about 48 MiB of binlog in one file, little compressible
    await server.query('CREATE DATABASE cu');
    await server.query('CREATE TABLE cu.t (id INT PRIMARY KEY, v LONGBLOB)');
    for (let i = 0; i < 48; i++) await server.query('INSERT INTO cu.t VALUES (?, ?)', [i, randomBytes(MiB)]);
    const [master] = await server.query<{ File: string; Position: string }[]>('SHOW MASTER STATUS');
    file = master!.File;
    fileSize = Number(master!.Position);
  });

  after(async () => {
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const { flag, limit } of [
    { flag: '64MiB', limit: 16 * MiB },
    { flag: '4MiB', limit: 4 * MiB },
  ]) {
    it(`--segment-size ${flag}: segments of at most ${limit / MiB} MiB plus one transaction, fetched byte for byte`, async () => {
      const repoDir = join(work, `repo-${flag}`);
      const r = await runCli(
        [
          'archive',
          '--source',
          server.url('repl'),
          '--repo',
          `file://${repoDir}`,
          '--until-caught-up',
        ].concat(['--segment-size', flag]),
        { env },
      );
      assert.equal(r.code, 0, r.stderr);
      const starts = await segmentStarts(repoDir);
      const ends = [...starts.slice(1), fileSize];
      const sizes = starts.map((s, i) => ends[i]! - s);
      assert.ok(fileSize > 40 * MiB, `a backlog of ${fileSize} bytes`);
      // cut once `limit` bytes are buffered, at the end of the transaction that crossed it
      for (const size of sizes) assert.ok(size <= limit + 1.1 * MiB, `segment of ${size} bytes`);
      assert.ok(starts.length >= Math.ceil(fileSize / (limit + 1.1 * MiB)), `${starts.length} segments`);
      const dest = join(work, `fetch-${flag}`);
      const fetched = await runCli(
        ['binlog', 'fetch', '--all', '--dest', dest, '--repo', `file://${repoDir}`],
        {
          env,
        },
      );
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.equal((await stat(join(dest, file))).size, fileSize);
      assert.ok((await assertBinlogsIdentical(server, dest)) >= 1);
    });
  }
});
