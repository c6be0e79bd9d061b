/**
 * bench/stream-binlogs.ts -- the candidate side of bench/stream-binlogs.sh: streams every binlog of
 * a source, from FIRST_LOG to the last one, into OUT_DIR/<binlog name> with mysql-pitr's
 * replication client (openBinlogStream, non-blocking) and copyBinlogStream, i.e. what
 * `mariadb-binlog --read-from-remote-server --raw --to-last-log` does.
 *
 * Env (set by bench/ref/stream.sh's CANDIDATE_STREAM_CMD hook):
 *   SRC_HOST SRC_PORT REPL_USER REPL_PASS FIRST_LOG OUT_DIR
 *   STREAM_SERVER_ID (default 0x50495453), STREAM_HWM_MB (default 4): replica server_id and
 *   the stream's high-water mark.
 * Prints one `CANDIDATE key=value` summary line on stdout; errors on stderr, exit 1.
 */
import { copyBinlogStream } from '../src/binlog-file/index.js';
import { openBinlogStream } from '../src/mysql/index.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see the header of bench/stream-binlogs.ts)`);
  return value;
}

const started = process.hrtime.bigint();
try {
  const stream = await openBinlogStream({
    host: env('SRC_HOST'),
    port: Number(env('SRC_PORT')),
    user: env('REPL_USER'),
    password: process.env.REPL_PASS ?? '',
    file: env('FIRST_LOG'),
    nonBlocking: true,
    serverId: Number(process.env.STREAM_SERVER_ID ?? 0x50495453),
    highWaterMarkBytes: Number(process.env.STREAM_HWM_MB ?? 4) * 1024 * 1024,
  });
  const files = await copyBinlogStream(stream, env('OUT_DIR'), { bufferBytes: 4 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = files.reduce((sum, f) => sum + f.to, 0);
  const s = stream.stats;
  console.log(
    `CANDIDATE files=${files.length} bytes=${bytes} seconds=${seconds.toFixed(3)} ` +
      `mb_per_s=${(bytes / 1048576 / seconds).toFixed(1)} events=${s.events} pauses=${s.pauses} ` +
      `peak_buffered_bytes=${s.peakBufferedBytes} largest_event=${s.largestEvent} ` +
      `rss_mb=${(process.memoryUsage().rss / 1048576).toFixed(0)}`,
  );
} catch (err) {
  console.error(`stream-binlogs: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
