import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { clientEnvironment } from '../../mysql/index.js';
import type { PlanFile } from '../plan/plan-restore.js';
import { writeChunk } from '../load/write-chunk.js';

/** One `mariadb-binlog`/`mysqlbinlog` process decoding one planned file into SQL text. */
export interface BinlogDecoder {
  process: ChildProcessByStdio<Writable, Readable, Readable>;
  /** The decoder's SQL text. */
  stdout: Readable;
  /** Settles when all bytes are fed; rejects with the storage/checksum error that stopped the feed. */
  feed: Promise<void>;
  /** Resolves with the exit code once the process has closed. */
  exit: Promise<[number | null]>;
  /** What the decoder wrote to stderr, trimmed. */
  stderrText(): string;
}

/**
 * Starts `program [--start-position] [--stop-position] -` for one planned file and feeds it the
 * file's verified bytes. A damaged or unreadable segment kills the decoder at once, so no SQL after
 * the damage flows, and rejects `feed` with that error. Shared by both binlog appliers.
 */
export function startBinlogDecoder(
  program: string,
  file: PlanFile,
  bytes: AsyncIterable<Buffer>,
): BinlogDecoder {
  const args = [
    ...(file.from > 4 ? [`--start-position=${file.from}`] : []),
    ...(file.to !== undefined ? [`--stop-position=${file.to}`] : []),
    '-',
  ];
  const dec = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], env: clientEnvironment() });
  const stderr: Buffer[] = [];
  dec.stderr.on('data', (c: Buffer) => stderr.push(c));
  dec.stdin.on('error', () => undefined); // EPIPE when the decoder stops early; its exit says why
  const exit = once(dec, 'close') as Promise<[number | null]>;
  const feed = (async () => {
    try {
      for await (const b of bytes) {
        if (!(await writeChunk(dec.stdin, b))) break;
      }
    } catch (err) {
      dec.kill('SIGKILL');
      dec.stdin.destroy();
      throw err;
    }
    dec.stdin.end();
  })();
  feed.catch(() => undefined); // callers await it where the order of errors matters
  return {
    process: dec,
    stdout: dec.stdout,
    feed,
    exit,
    stderrText: () => Buffer.concat(stderr).toString().trim(),
  };
}
