/**
 * bench/restore-memory.ts -- peak RSS of reading compacted-size segment objects for a restore
 * (`readArchivedSegments`, the reader behind `restore pitr`, `restore apply` and timeline search).
 *
 *   node --import tsx bench/restore-memory.ts gen DIR [OBJECTS] [STORED_MIB]
 *     writes OBJECTS (default 3) segments of one binlog file into file://DIR/repo, each about
 *     STORED_MIB (default 256) MiB stored: half random bytes, half repetitive text, so zstd shrinks
 *     each about 2x (a 256 MiB object holds about 500 MiB of binlog bytes). Streams: the generator
 *     itself never holds an object.
 *   node --import tsx bench/restore-memory.ts read DIR [IN_MEMORY_MIB]
 *     in a fresh process, reads every segment through readArchivedSegments (prefetch 2, as restore
 *     does), hashes what it yields and checks it against the headers, and prints
 *     `RESULT restore_memory ... max_rss_mib=N`. IN_MEMORY_MIB (default: the reader's own limit)
 *     sets its in-memory limit; a huge value reproduces the old behaviour (every object and its
 *     decompressed copy held in memory) for comparison.
 *
 * Spilled objects go to TMPDIR (set it on a disk, not a tmpfs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';

import {
  encodeSegmentHeader,
  readBinlogCatalog,
  segmentKey,
  type SegmentHeader,
} from '../src/catalog/index.js';
import { createZstdCompressStream } from '../src/codec/index.js';
import { readArchivedSegments, IN_MEMORY_SEGMENT_BYTES } from '../src/restore/apply/archived-segments.js';
import { FsObjectStore } from '../src/storage/index.js';

const MiB = 1024 * 1024;
const FILE = 'mysql-bin.000001';
const [mode, dir, arg3, arg4] = process.argv.slice(2);
if (!dir || (mode !== 'gen' && mode !== 'read')) {
  process.stderr.write(
    'usage: restore-memory.ts gen DIR [OBJECTS] [STORED_MIB] | read DIR [IN_MEMORY_MIB]\n',
  );
  process.exit(2);
}
const store = new FsObjectStore({ root: join(dir, 'repo') });

async function gen(objects: number, storedMiB: number): Promise<void> {
  await mkdir(dir!, { recursive: true });
  const text = Buffer.from('INSERT INTO t VALUES (1, "a row of a fairly ordinary table");\n'.repeat(16384));
  let start = 0;
  for (let n = 0; n < objects; n++) {
    const body = join(dir!, `body-${n}.zst`);
    const out = createWriteStream(body);
    const zstd = createZstdCompressStream({ level: 1 });
    zstd.pipe(out);
    const hash = createHash('sha256');
    let bytes = 0;
    // about 2x compressible: 1 MiB random, then 1 MiB of text, until the stored size is reached
    while (out.bytesWritten + zstd.writableLength < storedMiB * MiB) {
      for (const chunk of [randomBytes(MiB), text.subarray(0, MiB)]) {
        hash.update(chunk);
        bytes += chunk.length;
        if (!zstd.write(chunk)) await once(zstd, 'drain');
      }
    }
    zstd.end();
    await once(out, 'close');
    const header: SegmentHeader = {
      format: 1,
      timeline: '000001',
      file: FILE,
      start,
      end: start + bytes,
      sha256: hash.digest('hex'),
      firstCommit: null,
      lastCommit: null,
      gtids: {},
      gtidSet: '',
      transactions: 0,
      events: 0,
      splitTransaction: true,
      closesFile: false,
    };
    const frame = encodeSegmentHeader(header);
    await store.put(
      segmentKey('000001', FILE, start),
      Readable.from(
        (async function* () {
          yield frame;
          yield* createReadStream(body);
        })(),
      ),
    );
    await rm(body);
    process.stdout.write(`object ${n}: ${(bytes / MiB).toFixed(0)} MiB of binlog bytes\n`);
    start += bytes;
  }
}

async function read(inMemoryMiB: number | undefined): Promise<void> {
  const catalog = await readBinlogCatalog(store, { headers: true });
  const segments = catalog.timelines.flatMap((t) => t.segments);
  const stored = segments.reduce((a, s) => a + s.size, 0);
  const t0 = Date.now();
  let bytes = 0;
  let chunks = 0;
  const hash = createHash('sha256');
  for await (const b of readArchivedSegments(
    store,
    segments.map((s) => ({ key: s.key, start: s.start, end: s.header!.end })),
    2,
    inMemoryMiB === undefined ? {} : { inMemoryBytes: inMemoryMiB * MiB },
  )) {
    hash.update(b);
    bytes += b.length;
    chunks++;
  }
  const seconds = (Date.now() - t0) / 1000;
  const maxRss = process.resourceUsage().maxRSS / 1024;
  const largest = Math.max(...segments.map((s) => s.size)) / MiB;
  process.stdout.write(
    `RESULT restore_memory objects=${segments.length} largest_stored_mib=${largest.toFixed(0)} ` +
      `stored_mib=${(stored / MiB).toFixed(0)} binlog_mib=${(bytes / MiB).toFixed(0)} chunks=${chunks} ` +
      `in_memory_limit_mib=${((inMemoryMiB ?? IN_MEMORY_SEGMENT_BYTES / MiB) as number).toFixed(0)} ` +
      `seconds=${seconds.toFixed(1)} max_rss_mib=${maxRss.toFixed(0)}\n`,
  );
}

if (mode === 'gen') await gen(Number(arg3 ?? 3), Number(arg4 ?? 256));
else await read(arg3 === undefined ? undefined : Number(arg3));
