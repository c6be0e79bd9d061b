import { createHash } from 'node:crypto';
import { decodeSegmentHeader } from '../catalog/index.js';
import { BinlogEventParser, TransactionTracker, type BinlogEvent } from '../binlog/index.js';
import { createZstdDecompressStream } from '../codec/index.js';
import { ChecksumMismatchError, CorruptDataError } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { ArchivedTransaction, ScannedFile } from './plan-restore.js';

/** A segment to read: its key and the byte range of the binlog file it holds. */
export interface SegmentRef {
  key: string;
  start: number;
  end: number;
}

async function decompress(data: Buffer, key: string): Promise<Buffer> {
  const d = createZstdDecompressStream({ object: key });
  d.end(data);
  const chunks: Buffer[] = [];
  for await (const c of d) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function fetchSegment(store: ObjectStore, ref: SegmentRef): Promise<Buffer> {
  const stored = await store.get(ref.key);
  const { header, frameLength } = decodeSegmentHeader(stored, ref.key);
  if (header.start !== ref.start || header.end !== ref.end) {
    throw new CorruptDataError(
      ref.key,
      0,
      `its header says bytes ${header.start}..${header.end}, the catalog ${ref.start}..${ref.end}; the object ` +
        'changed while restoring (re-run the command) or was copied to the wrong key',
    );
  }
  const bytes = await decompress(stored.subarray(frameLength), ref.key);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== header.end - header.start || sha !== header.sha256) {
    throw new ChecksumMismatchError(
      ref.key,
      header.start,
      `segment ${header.file} @ ${header.start}-${header.end} decompressed to ${bytes.length} bytes with SHA-256 ` +
        `${sha}; its header records ${header.end - header.start} bytes and ${header.sha256}. The archive is damaged ` +
        'here: restore to a target before this segment, or re-archive the file from the source if it still has it',
    );
  }
  return bytes;
}

/**
 * The binlog bytes of `segments`, in order, each segment verified (length and SHA-256) before it is
 * yielded. Up to `prefetch` segments are downloaded ahead of the one being consumed, so memory stays
 * bounded by about (prefetch + 1) segments.
 *
 * @throws ChecksumMismatchError / CorruptDataError naming the damaged object; StorageError
 */
export async function* readArchivedSegments(
  store: ObjectStore,
  segments: readonly SegmentRef[],
  prefetch = 2,
): AsyncGenerator<Buffer> {
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  const fill = (): void => {
    while (next < segments.length && pending.length < prefetch + 1) {
      const p = fetchSegment(store, segments[next++]!);
      p.catch(() => undefined); // observed when awaited below
      pending.push(p);
    }
  };
  fill();
  while (pending.length > 0) {
    const bytes = await pending.shift()!;
    fill();
    yield bytes;
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
      const text = statementOf(e);
      if (text !== undefined && statements.length < MAX_STATEMENTS) {
        statements.push(
          text.length > MAX_STATEMENT_CHARS ? `${text.slice(0, MAX_STATEMENT_CHARS)}...` : text,
        );
      }
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
