/**
 * Catalog at scale: `restore plan --to TIME`, `expire --dry-run` and `verify` over a repository of
 * SEGMENTS segments (default 1,000,000) in the S3 emulator (fauxqs, in memory, in this process),
 * with and without the per-file index, and after compaction (the archiver's default).
 *
 *   node --import tsx bench/catalog-scale.ts [SEGMENTS] [SEGMENTS_PER_FILE]
 *
 * How the repository is made:
 * 1. real part: a MariaDB (test harness) flushed K times and purged, so its binlogs start at file
 *    K+1; a workload, `backup create`, more workload with rotations, `archive --until-caught-up`
 *    (4 KiB segments) into a file:// repository: a real backup, and real files the plan scans;
 * 2. synthetic part: files 1..K of the same timeline, SEGMENTS_PER_FILE (default 3,600: one hour at
 *    1 s flushes) valid segment objects each (real header frame, real zstd frame of 256 bytes whose
 *    SHA-256 is in the header; commit times one second apart, ending before the real part), the
 *    last one closing the file with a ROTATE to the next; put straight into the emulator's memory
 *    store (no HTTP), each file's index.json too;
 * 3. a second prefix holds the same repository compacted: each synthetic file as one compacted
 *    object (`<start>-<end>.zst`, merged header) plus its index, the real part compacted by
 *    `compactRepository`.
 *
 * Measured in this process through the real S3ObjectStore (HTTP to the emulator), counting GET and
 * LIST requests: loadRestorePlan (what `restore plan` does), expireRepository dry run,
 * verifyRepository (compacted layout only: on plain segments it reads every segment, one GET each).
 * Prints `RESULT name seconds gets lists` lines.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, relative } from 'node:path';
import { buildApp } from 'fauxqs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startMariadb } from '../test/support/mariadb-server.js';
import { runWorkload } from '../test/support/workload.js';
import { runCli } from '../test/support/run-cli.js';
import {
  binlogFileIndexKey,
  compactedSegmentKey,
  encodeBinlogFileIndex,
  encodeSegmentHeader,
  mergeSegmentHeaders,
  readBinlogCatalog,
  segmentHeaderFrameLength,
  segmentKey,
  type SegmentHeader,
} from '../src/catalog/index.js';
import { encodeSegment } from '../src/archiver/segment-encoder.js';
import { compactRepository, expireRepository, verifyRepository } from '../src/maintenance/index.js';
import { loadRestorePlan } from '../src/restore/index.js';
import { openObjectStore, type ObjectStore } from '../src/storage/index.js';

const SEGMENTS = Number(process.argv[2] ?? 1_000_000);
const PER_FILE = Number(process.argv[3] ?? 3600);
const K = Math.ceil(SEGMENTS / PER_FILE);
/** `all` (plain segments with and without index, and compacted) or `compacted` only. */
const LAYOUTS = process.argv[4] ?? 'all';
const PLAIN = LAYOUTS === 'all';
const BUCKET = 'bench';
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const RAW = Buffer.alloc(256, 0x5a);
const file = (n: number): string => `mysql-bin.${String(n).padStart(6, '0')}`;

interface FauxObject {
  key: string;
}
interface FauxStore {
  createBucket(name: string): void;
  putObject(bucket: string, key: string, body: Buffer, contentType?: string): FauxObject;
  deleteObject(bucket: string, key: string): void;
  buckets: Map<string, Map<string, FauxObject>>;
}
type FauxStoreClass = new () => FauxStore;

/** fauxqs's store with a byte-order listing that sorts once per change, not once per page. */
async function fastListingStore(): Promise<FauxStore> {
  const main = import.meta.resolve('fauxqs');
  const { S3Store } = (await import(new URL('./s3/s3Store.js', main).href)) as { S3Store: FauxStoreClass };
  class Fast extends S3Store {
    #sorted = new Map<string, string[]>();
    override putObject(bucket: string, key: string, body: Buffer, contentType?: string): FauxObject {
      if (!this.buckets.get(bucket)?.has(key)) this.#sorted.delete(bucket);
      return super.putObject(bucket, key, body, contentType);
    }
    override deleteObject(bucket: string, key: string): void {
      this.#sorted.delete(bucket);
      super.deleteObject(bucket, key);
    }
    listObjects(
      bucket: string,
      o: { prefix?: string; maxKeys?: number; startAfter?: string; marker?: string } = {},
    ): { objects: FauxObject[]; commonPrefixes: string[]; isTruncated: boolean } {
      const objects = this.buckets.get(bucket)!;
      let keys = this.#sorted.get(bucket);
      if (!keys) {
        keys = [...objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        this.#sorted.set(bucket, keys);
      }
      const prefix = o.prefix ?? '';
      const after = o.startAfter || o.marker || '';
      const from = after > prefix ? after : prefix;
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid]! < from || (keys[mid] === after && after !== '')) lo = mid + 1;
        else hi = mid;
      }
      const max = o.maxKeys ?? 1000;
      const out: FauxObject[] = [];
      let i = lo;
      for (; i < keys.length && out.length < max; i++) {
        if (!keys[i]!.startsWith(prefix)) break;
        if (after !== '' && keys[i]! <= after) continue;
        out.push(objects.get(keys[i]!)!);
      }
      const more = i < keys.length && keys[i]!.startsWith(prefix);
      return { objects: out, commonPrefixes: [], isTruncated: more };
    }
  }
  return new Fast();
}

async function startEmulator(): Promise<{ endpoint: string; s3: FauxStore; stop: () => Promise<void> }> {
  const main = import.meta.resolve('fauxqs');
  const { SqsStore } = (await import(new URL('./sqs/sqsStore.js', main).href)) as {
    SqsStore: new () => unknown;
  };
  const { SnsStore } = (await import(new URL('./sns/snsStore.js', main).href)) as {
    SnsStore: new () => unknown;
  };
  const s3 = await fastListingStore();
  const app = buildApp({
    logger: false,
    defaultRegion: REGION,
    stores: { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: s3 } as never,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({ endpoint, region: REGION, credentials: CREDENTIALS, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  client.destroy();
  return { endpoint, s3, stop: () => app.close().then(() => undefined) };
}

/** Counts the requests a reader makes. */
function counting(inner: ObjectStore): {
  store: ObjectStore;
  gets: () => number;
  lists: () => number;
  reset: () => void;
} {
  let gets = 0;
  let lists = 0;
  let pages = 0;
  const store: ObjectStore = {
    supportsConditionalPut: inner.supportsConditionalPut,
    put: (...a) => inner.put(...a),
    get: (...a) => {
      gets += 1;
      return inner.get(...a);
    },
    getStream: (...a) => {
      gets += 1;
      return inner.getStream(...a);
    },
    head: (...a) => inner.head(...a),
    exists: (...a) => inner.exists(...a),
    async *list(...a) {
      lists += 1;
      let n = 0;
      for await (const o of inner.list(...a)) {
        if (n++ % 1000 === 0) pages += 1;
        yield o;
      }
    },
    delete: (...a) => inner.delete(...a),
    describe: () => inner.describe(),
  };
  return {
    store,
    gets: () => gets,
    lists: () => pages || lists,
    reset: () => {
      gets = 0;
      lists = 0;
      pages = 0;
    },
  };
}

async function timed<T>(name: string, c: ReturnType<typeof counting>, fn: () => Promise<T>): Promise<T> {
  c.reset();
  const t0 = performance.now();
  const r = await fn();
  const s = (performance.now() - t0) / 1000;
  console.log(`RESULT ${name} ${s.toFixed(2)}s gets=${c.gets()} list_pages=${c.lists()}`);
  return r;
}

async function seedRealRepository(dir: string): Promise<{ targetTime: number }> {
  const server = await startMariadb({ maxBinlogSize: '1M' });
  let targetTime = 0;
  try {
    const conn = await server.connect();
    for (let i = 0; i < K; i++) await conn.query('FLUSH BINARY LOGS');
    await conn.query(`PURGE BINARY LOGS TO '${file(K + 1)}'`);
    await runWorkload(conn, { seed: 1, database: 'ba', transactions: 200, bigTransactions: 0 });
    const repo = `file://${dir}`;
    const env = { PATH: `/usr/sbin:${process.env.PATH ?? ''}` };
    const b = await runCli(['backup', 'create', '--source', server.url(server.admin.user), '--repo', repo], {
      env: { ...env, MYSQL_PITR_SOURCE_PASSWORD: server.admin.password },
    });
    if (b.code !== 0) throw new Error(b.stderr);
    await runWorkload(conn, {
      seed: 2,
      database: 'bb',
      transactions: 300,
      bigTransactions: 0,
      flushBinaryLogsAt: [0.5],
    });
    // the target: a second between two bursts (binlog commit times have one-second precision)
    await sleep(1100);
    targetTime = Date.now();
    await sleep(1100);
    await runWorkload(conn, { seed: 3, database: 'bc', transactions: 300, bigTransactions: 0 });
    await conn.end();
    const a = await runCli(
      [
        'archive',
        '--source',
        server.url('repl'),
        '--repo',
        repo,
        '--until-caught-up',
        '--segment-size',
        '4KiB',
      ],
      { env: { ...env, MYSQL_PITR_SOURCE_PASSWORD: server.repl.password } },
    );
    if (a.code !== 0) throw new Error(a.stderr);
  } finally {
    await server.stop();
  }
  return { targetTime };
}

async function main(): Promise<void> {
  console.error(`catalog-scale: ${SEGMENTS} synthetic segments in ${K} files of ${PER_FILE}`);
  const work = await mkdtemp(join(tmpdir(), 'pitr-bench-catalog-'));
  const emu = await startEmulator();
  try {
    const realDir = join(work, 'real');
    const t0 = performance.now();
    const { targetTime } = await seedRealRepository(realDir);
    console.error(`real part seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const realFiles: { key: string; body: Buffer }[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (!e.name.startsWith('.'))
          realFiles.push({ key: relative(realDir, p), body: await readFile(p) });
      }
    };
    await walk(realDir);
    const real = (await readBinlogCatalog(openObjectStore(`file://${realDir}`), { headers: true }))
      .timelines[0]!;
    const firstReal = real.segments.find((s) => s.header?.firstCommit)!.header!.firstCommit!;

    // one zstd frame of RAW (each segment), and one of PER_FILE x RAW (each compacted file)
    const frameOf = async (h: SegmentHeader, parts: Buffer[]): Promise<Buffer> => {
      const whole = await encodeSegment(h, parts);
      return whole.subarray(segmentHeaderFrameLength(whole, 'bench'));
    };
    const rawSha = createHash('sha256').update(RAW).digest('hex');
    const start0 = Date.parse(firstReal) - (K * PER_FILE + 600) * 1000;
    const headerOf = (f: number, i: number): SegmentHeader => {
      const seq = (f - 1) * PER_FILE + i + 1;
      const at = new Date(start0 + seq * 1000).toISOString();
      const last = i === PER_FILE - 1;
      return {
        format: 1,
        timeline: '000001',
        file: file(f),
        start: i * RAW.length,
        end: (i + 1) * RAW.length,
        sha256: rawSha,
        firstCommit: at,
        lastCommit: at,
        gtids: { '0': { first: `0-1-${seq}`, last: `0-1-${seq}` } },
        gtidSet: '',
        transactions: 1,
        events: 3,
        splitTransaction: false,
        closesFile: last,
        ...(last ? { nextFile: file(f + 1) } : {}),
        leaseEpoch: 1,
      };
    };
    const segFrame = await frameOf(headerOf(1, 1), [RAW]);
    const fileRaw = Buffer.concat(Array.from({ length: PER_FILE }, () => RAW));
    const fileSha = createHash('sha256').update(fileRaw).digest('hex');
    const merged = (f: number): SegmentHeader =>
      mergeSegmentHeaders(
        Array.from({ length: PER_FILE }, (_, i) => headerOf(f, i)),
        fileSha,
        (s) => s.join(','),
      );
    const fileFrame = await frameOf(merged(1), [fileRaw]);

    const put = (key: string, body: Buffer): void =>
      void emu.s3.putObject(BUCKET, key, body, 'application/zstd');
    const g0 = performance.now();
    for (const prefix of PLAIN ? ['pitr/plain/', 'pitr/compacted/'] : ['pitr/compacted/']) {
      for (const o of realFiles) {
        let body = o.body;
        if (o.key.startsWith('timelines/')) {
          const rec = JSON.parse(body.toString('utf8')) as { firstFile: string };
          rec.firstFile = file(1);
          body = Buffer.from(JSON.stringify(rec));
        }
        put(prefix + o.key, body);
      }
    }
    for (let f = 1; f <= K; f++) {
      const objects = [];
      for (let i = 0; i < (PLAIN ? PER_FILE : 0); i++) {
        const h = headerOf(f, i);
        const body = Buffer.concat([encodeSegmentHeader(h), segFrame]);
        const key = segmentKey('000001', file(f), h.start);
        put(`pitr/plain/${key}`, body);
        objects.push({ name: key.slice(key.lastIndexOf('/') + 1), size: body.length, header: h });
      }
      if (PLAIN)
        put(
          `pitr/plain/${binlogFileIndexKey('000001', file(f))}`,
          encodeBinlogFileIndex({
            timeline: '000001',
            file: file(f),
            writtenAt: new Date().toISOString(),
            objects,
          }),
        );
      const m = merged(f);
      const body = Buffer.concat([encodeSegmentHeader(m), fileFrame]);
      const key = compactedSegmentKey('000001', file(f), m.start, m.end);
      put(`pitr/compacted/${key}`, body);
      put(
        `pitr/compacted/${binlogFileIndexKey('000001', file(f))}`,
        encodeBinlogFileIndex({
          timeline: '000001',
          file: file(f),
          writtenAt: new Date().toISOString(),
          objects: [{ name: key.slice(key.lastIndexOf('/') + 1), size: body.length, header: m }],
        }),
      );
    }
    console.error(`synthetic part generated in ${((performance.now() - g0) / 1000).toFixed(1)} s`);

    const open = (prefix: string): ReturnType<typeof counting> =>
      counting(
        openObjectStore(`s3://${BUCKET}/${prefix}`, {
          endpoint: emu.endpoint,
          region: REGION,
          credentials: CREDENTIALS,
        }),
      );
    const target = { kind: 'time' as const, time: targetTime };
    const policy = { keepBackups: 1 };

    const compacted = open('pitr/compacted');
    const r = await compactRepository(compacted.store); // the real part, as the archiver would
    console.error(`compacted layout: ${r.objectsAfter} binlog objects`);
    const plain = open('pitr/plain');
    const files = K + real.segments.filter((s) => s.header?.closesFile).length + 1;
    const n = K * PER_FILE + real.segments.length;
    console.log(
      `RESULT segments ${n} (before compaction) files ${files} compacted_objects ${r.objectsAfter}`,
    );

    const plan = await timed('plan_compacted_index', compacted, () =>
      loadRestorePlan(compacted.store, target),
    );
    const cli = performance.now();
    const c = await runCli(
      [
        'restore',
        'plan',
        '--to',
        new Date(targetTime).toISOString(),
        '--repo',
        `s3://${BUCKET}/pitr/compacted`,
        '--s3-endpoint',
        emu.endpoint,
        '--region',
        REGION,
      ],
      { env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } },
    );
    if (c.code !== 0) throw new Error(c.stderr);
    console.log(
      `RESULT plan_compacted_cli_wall ${((performance.now() - cli) / 1000).toFixed(2)}s (child process, tsx start-up included)`,
    );
    console.error(`plan: ${plan.backup.id}, ${plan.files.length} files`);
    await timed('expire_dry_run_compacted_index', compacted, () =>
      expireRepository(compacted.store, policy, { dryRun: true }),
    );
    const v = await timed('verify_compacted_index', compacted, () => verifyRepository(compacted.store));
    console.error(`verify ok=${v.ok} problems=${v.problems.map((p) => p.kind).join(',')}`);

    if (!PLAIN) return;
    await timed('plan_plain_index', plain, () => loadRestorePlan(plain.store, target));
    await timed('expire_dry_run_plain_index', plain, () =>
      expireRepository(plain.store, policy, { dryRun: true }),
    );
    for (let f = 1; f <= K; f++)
      emu.s3.deleteObject(BUCKET, `pitr/plain/${binlogFileIndexKey('000001', file(f))}`);
    await timed('plan_plain_no_index', plain, () => loadRestorePlan(plain.store, target));
    await timed('expire_dry_run_plain_no_index', plain, () =>
      expireRepository(plain.store, policy, { dryRun: true }),
    );
    if (SEGMENTS <= 200_000) {
      await timed('verify_plain', plain, () => verifyRepository(plain.store));
    }
  } finally {
    await emu.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
