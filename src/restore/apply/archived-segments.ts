import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  decodeSegmentHeader,
  segmentHeaderFrameLength,
  SEGMENT_HEADER_PROBE_BYTES,
  verifySegmentBody,
  type SegmentHeader,
} from '../../catalog/index.js';
import { BinlogEventParser, TransactionTracker, type BinlogEvent } from '../../binlog/index.js';
import { createZstdDecompressStream } from '../../codec/index.js';
import { CorruptDataError } from '../../errors/index.js';
import { createPrivateTempDir, removePrivateTempDir, type ObjectStore } from '../../storage/index.js';
import type { ArchivedTransaction, ScannedFile } from '../plan/plan-restore.js';

/** A segment to read: its key and the byte range of the binlog file it holds. */
export interface SegmentRef {
  key: string;
  start: number;
  end: number;
}

function checkRange(header: SegmentHeader, ref: SegmentRef): void {
  if (header.start !== ref.start || header.end !== ref.end) {
    throw new CorruptDataError(
      ref.key,
      0,
      `its header says bytes ${header.start}..${header.end}, the catalog ${ref.start}..${ref.end}; the object ` +
        'changed while restoring (re-run the command) or was copied to the wrong key',
    );
  }
}

/** What a restore that meets a damaged segment should do. */
const DAMAGED_ADVICE =
  'The archive is damaged here: restore to a target before this segment, or re-archive the file from the ' +
  'source if it still has it';

/** A segment fetched and verified, ready to hand on. */
interface VerifiedSegment {
  /** Its binlog bytes, in order. */
  chunks(): AsyncIterable<Buffer>;
  /** Frees what holds it (a spilled file). */
  dispose(): Promise<void>;
}

/** A small segment: fetched whole, decompressed and verified in memory. */
async function fetchSegment(store: ObjectStore, ref: SegmentRef): Promise<VerifiedSegment> {
  const stored = await store.get(ref.key);
  const { header, frameLength } = decodeSegmentHeader(stored, ref.key);
  checkRange(header, ref);
  const parts: Buffer[] = [];
  const into = new Writable({
    write(chunk: Buffer, _enc, done): void {
      parts.push(chunk);
      done();
    },
  });
  await verifySegmentBody(Readable.from([stored.subarray(frameLength)]), header, ref.key, {
    into,
    advice: DAMAGED_ADVICE,
  });
  const bytes = Buffer.concat(parts);
  return {
    async *chunks() {
      yield bytes;
    },
    dispose: () => Promise.resolve(),
  };
}

/**
 * A large segment (a compacted object can hold hundreds of MiB): streamed to a local file (0600,
 * in a private 0700 folder), then streamed through zstd and SHA-256 to verify it, and only then
 * streamed through zstd again to be handed on. Memory stays at a few stream buffers whatever the
 * object's size; local disk holds its stored (compressed) bytes until it has been consumed.
 */
async function spillSegment(store: ObjectStore, ref: SegmentRef, path: string): Promise<VerifiedSegment> {
  await pipeline(await store.getStream(ref.key), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  let header: SegmentHeader;
  let frameLength: number;
  const fh = await open(path, 'r');
  try {
    const prefix = Buffer.alloc(SEGMENT_HEADER_PROBE_BYTES);
    const { bytesRead } = await fh.read(prefix, 0, prefix.length, 0);
    const need = segmentHeaderFrameLength(prefix.subarray(0, bytesRead), ref.key);
    const frame = need <= bytesRead ? prefix.subarray(0, bytesRead) : Buffer.alloc(need);
    if (need > bytesRead) await fh.read(frame, 0, need, 0);
    ({ header, frameLength } = decodeSegmentHeader(frame, ref.key));
  } finally {
    await fh.close();
  }
  checkRange(header, ref);
  await verifySegmentBody(createReadStream(path, { start: frameLength }), header, ref.key, {
    advice: DAMAGED_ADVICE,
  });
  return {
    async *chunks() {
      const d = createZstdDecompressStream({ object: ref.key });
      const source = createReadStream(path, { start: frameLength });
      source.on('error', (err) => d.destroy(err));
      source.pipe(d);
      try {
        for await (const c of d) yield c as Buffer;
      } finally {
        source.destroy();
        d.destroy();
      }
    },
    dispose: () => rm(path, { force: true }),
  };
}

/** Segments holding more binlog bytes than this are spilled to local disk rather than held in memory. */
export const IN_MEMORY_SEGMENT_BYTES = 8 * 1024 * 1024;

/**
 * The binlog bytes of `segments`, in order. Nothing is handed on before it is verified: each
 * segment's length and SHA-256 are checked before its first byte is yielded. Up to `prefetch`
 * segments are fetched and verified ahead of the one being consumed.
 *
 * Memory is bounded whatever the object size: a segment of up to IN_MEMORY_SEGMENT_BYTES binlog
 * bytes is held in memory (each yield is then one whole segment); a larger one (a compacted object)
 * is spilled to a private folder under `os.tmpdir()` (`TMPDIR`; it holds the stored bytes of up to
 * prefetch + 1 segments) and yielded in chunks of a few hundred KiB. The folder is removed when the
 * generator ends, however it ends.
 *
 * @throws ChecksumMismatchError / CorruptDataError naming the damaged object; StorageError
 */
export async function* readArchivedSegments(
  store: ObjectStore,
  segments: readonly SegmentRef[],
  prefetch = 2,
  opts: { inMemoryBytes?: number } = {},
): AsyncGenerator<Buffer> {
  const limit = opts.inMemoryBytes ?? IN_MEMORY_SEGMENT_BYTES;
  const pending: Promise<VerifiedSegment>[] = [];
  let spillDir: Promise<string> | undefined;
  let next = 0;
  const prepare = async (ref: SegmentRef, n: number): Promise<VerifiedSegment> => {
    if (ref.end - ref.start <= limit) return fetchSegment(store, ref);
    spillDir ??= createPrivateTempDir('segments');
    return spillSegment(store, ref, join(await spillDir, `${n}.zst`));
  };
  // Hand-written on purpose, not p-queue: this is an ordered read-ahead window, not a pool. A
  // segment may start only while fewer than prefetch + 1 are fetched but not yet consumed, so
  // memory and spill space are bounded by what the consumer has not read; p-queue bounds calls in
  // flight, not results waiting to be consumed in order.
  const fill = (): void => {
    while (next < segments.length && pending.length < prefetch + 1) {
      const p = prepare(segments[next]!, next);
      next++;
      p.catch(() => undefined); // observed when awaited below
      pending.push(p);
    }
  };
  try {
    fill();
    while (pending.length > 0) {
      const segment = await pending.shift()!;
      fill();
      try {
        yield* segment.chunks();
      } finally {
        await segment.dispose();
      }
    }
  } finally {
    // stopped early (an error, a break): let the prefetches settle, then drop what they hold
    for (const p of pending.splice(0)) await p.then((s) => s.dispose()).catch(() => undefined);
    if (spillDir) await removePrivateTempDir(await spillDir).catch(() => undefined);
  }
}

/** A transaction as the scanner reports it, with what timeline search shows. */
export interface ScannedTransaction extends ArchivedTransaction {
  /** `db.table` names from TABLE_MAP events. */
  tables: string[];
  /** Statement texts (QUERY events other than BEGIN/COMMIT, ANNOTATE_ROWS, ROWS_QUERY), each capped. */
  statements: string[];
}

/** Longest statement text kept per event (timeline search shows the start of huge statements). */
const MAX_STATEMENT_CHARS = 4096;
/** Most statements kept per transaction. */
const MAX_STATEMENTS = 20;

function statementOf(e: BinlogEvent): string | undefined {
  const d = e.data;
  if (d?.kind === 'query' && d.statementKind !== 'begin' && d.statementKind !== 'commit') return d.statement;
  if (d?.kind === 'rows-query') return d.statement;
  return undefined;
}

/**
 * Adds `e`'s statement text (a QUERY other than BEGIN/COMMIT, or ANNOTATE_ROWS/ROWS_QUERY) to a
 * transaction's `statements`, capped in count and length, as scans and timeline search show them.
 */
export function keepStatement(statements: string[], e: BinlogEvent): void {
  const text = statementOf(e);
  if (text !== undefined && statements.length < MAX_STATEMENTS) {
    statements.push(text.length > MAX_STATEMENT_CHARS ? `${text.slice(0, MAX_STATEMENT_CHARS)}...` : text);
  }
}

/**
 * Reads archived binlog file `file` from its first byte through `segments` (which must start at 0
 * and join up) and reports every complete transaction. Memory is bounded by the prefetched
 * segments and one transaction's statements.
 *
 * @param onTransaction called for each transaction in binlog order
 * @throws CorruptDataError / ChecksumMismatchError for damaged data; StorageError
 */
export async function scanArchivedFile(
  store: ObjectStore,
  timeline: string,
  file: string,
  segments: readonly SegmentRef[],
  onTransaction?: (t: ScannedTransaction) => void,
  opts: { keep?: boolean; signal?: AbortSignal } = {},
): Promise<ScannedFile> {
  const parser = new BinlogEventParser({ object: `${timeline}/${file}` });
  const tracker = new TransactionTracker(file);
  const kept: ArchivedTransaction[] = [];
  let statements: string[] = [];
  let scannedTo = 0;
  for await (const bytes of readArchivedSegments(store, segments)) {
    opts.signal?.throwIfAborted();
    for (const e of parser.push(bytes)) {
      keepStatement(statements, e);
      const t = tracker.add(e);
      if (!t) continue;
      const trx: ArchivedTransaction = {
        file,
        startOffset: t.startOffset,
        endOffset: t.endOffset,
        gtid: t.gtid,
        commitTime: Math.floor(t.commitTimestamp / 1000),
      };
      if (opts.keep !== false) kept.push(trx);
      onTransaction?.({ ...trx, tables: t.tables, statements });
      statements = [];
    }
    scannedTo += bytes.length;
  }
  return { timeline, file, scannedTo, transactions: kept };
}
