/**
 * bench/receive-cpu.mjs -- the CPU time of the receive path alone: one non-blocking binlog dump
 * of a source's whole backlog through openBinlogStream (packet framing, CRC32 verified,
 * back-pressure), every event taken and dropped; no segments, no compression, no storage.
 *
 * Usage (after `npx tsc -p tsconfig.build.json`; DIST selects another build, e.g. one made with
 * --outDir .bench-dist/before from an older commit, to compare):
 *   SRC_PORT=3470 [SRC_HOST=127.0.0.1 REPL_USER=repl REPL_PASS=replpw FIRST_LOG=mysql-bin.000001
 *   DIST=dist LABEL=after] node bench/receive-cpu.mjs
 * Prints one `RESULT tool=receive-cpu ...` line: events, MiB, user and system CPU seconds of the
 * whole process (start-up and connection included), wall seconds.
 */
import console from 'node:console';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const dist = resolve(process.env.DIST ?? 'dist');
const { openBinlogStream } = await import(pathToFileURL(`${dist}/src/mysql/index.js`).href);
const wall0 = performance.now();
const stream = await openBinlogStream({
  host: process.env.SRC_HOST ?? '127.0.0.1',
  port: Number(process.env.SRC_PORT ?? 3470),
  user: process.env.REPL_USER ?? 'repl',
  password: process.env.REPL_PASS ?? 'replpw',
  file: process.env.FIRST_LOG ?? 'mysql-bin.000001',
  nonBlocking: true,
  serverId: 0x50495455,
});
let events = 0;
let bytes = 0;
for (;;) {
  let item = stream.poll();
  if (!item) {
    const r = await stream.next();
    if (r.done) break;
    item = r.value;
  }
  events++;
  bytes += item.buffer.length;
}
const cpu = process.cpuUsage();
console.log(
  `RESULT tool=receive-cpu label=${process.env.LABEL ?? 'dist'} events=${events} mib=${(bytes / 1048576).toFixed(1)} ` +
    `user_s=${(cpu.user / 1e6).toFixed(3)} sys_s=${(cpu.system / 1e6).toFixed(3)} ` +
    `wall_s=${((performance.now() - wall0) / 1000).toFixed(2)}`,
);
