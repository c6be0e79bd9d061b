import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import {
  mapLimit,
  compactedSegmentKey,
  decodeSegmentHeader,
  encodeSegmentHeader,
  mergeSegmentHeaders,
  readBinlogCatalog,
  readSegmentHeader,
  readVerifiedSegment,
  resolveCoveredSegments,
  verifySegmentBody,
  writeBinlogFileIndex,
  type BinlogCatalog,
  type CatalogSegment,
  type SegmentHeader,
} from '../catalog/index.js';
import { MysqlGtidSet } from '../gtid/index.js';
import { DEFAULT_STREAM_LEVEL, createZstdCompressStream } from '../codec/index.js';
import {
  ChecksumMismatchError,
  CorruptDataError,
  PitrError,
  isPitrError,
  messageOf,
  type PitrErrorCode,
} from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import {
  DEFAULT_COMPACT_MAX_OBJECT_BYTES,
  closedBinlogFiles,
  planFileCompaction,
  type CompactionGroup,
} from './compact-plan.js';

/** Options of compactBinlogFile. */
export interface CompactFileOptions {
  /** Largest object to write, in stored bytes (default 256 MiB). */
  maxObjectBytes?: number;
  /** Plan only: write and delete nothing. */
  dryRun?: boolean;
  /** zstd level of the merged objects (default the archiver's, 1). */
  level?: number;
  /** A catalog of the repository read just before (saves a listing per file); read when absent. */
  catalog?: BinlogCatalog;
  logger?: Logger;
  /** Checked between objects and deletions: what is done stays done, a re-run finishes the job. */
  signal?: AbortSignal;
}

/** What compaction did to one file (or, with dryRun, would do). */
export interface CompactedFile {
  timeline: string;
  file: string;
  /** Objects of the file before (covered leftovers included) and after. */
  objectsBefore: number;
  objectsAfter: number;
  /** Stored bytes before and after (after is the before figure for a dry run). */
  storedBytesBefore: number;
  storedBytesAfter: number;
  /** Merged objects written (or to write). */
  written: number;
  /** Objects deleted (or to delete): merged inputs and covered leftovers. */
  deleted: number;
  /**
   * The file's index (`index.json`) was rewritten after the compaction (false for a dry run, when
   * nothing changed, or when writing it failed: readers then read headers, and the next
   * compaction writes it).
   */
  indexWritten?: boolean;
}

const unionGtidSets = (sets: readonly string[]): string =>
  sets.reduce((acc, s) => acc.union(MysqlGtidSet.parse(s)), MysqlGtidSet.EMPTY).toString();

/** Codes of errors that mean bad bytes (as opposed to a storage failure). */
const DATA_CODES: PitrErrorCode[] = ['CHECKSUM_MISMATCH', 'CORRUPT_DATA', 'TRUNCATED_DATA'];

/** What a damaged input means for the file, said in its error. */
const LEFT_AS_IT_WAS = 'Compaction left the file as it was; run `mysql-pitr verify`';

/** Inputs fetched at once (whole objects: most segments are small, one GET each is the cost). */
const FETCH_CONCURRENCY = 16;
/** Stored bytes fetched ahead of the one being read. */
const FETCH_AHEAD_BYTES = 64 * 1024 * 1024;

/**
 * The objects `items` (whole), fetched up to FETCH_CONCURRENCY at a time and FETCH_AHEAD_BYTES
 * ahead, yielded in order.
 */
async function* fetchInOrder(
  store: ObjectStore,
  items: readonly { key: string; size: number }[],
): AsyncGenerator<Buffer> {
  const pending: { size: number; data: Promise<Buffer> }[] = [];
  let next = 0;
  let ahead = 0;
  const fill = (): void => {
    while (
      next < items.length &&
      pending.length < FETCH_CONCURRENCY &&
      (pending.length === 0 || ahead + items[next]!.size <= FETCH_AHEAD_BYTES)
    ) {
      const item = items[next++]!;
      const data = store.get(item.key);
      data.catch(() => undefined); // awaited in order below; an early failure must not go unhandled
      pending.push({ size: item.size, data });
      ahead += item.size;
    }
  };
  fill();
  while (pending.length > 0) {
    const head = pending.shift()!;
    const data = await head.data;
    ahead -= head.size;
    fill();
    yield data;
  }
}

/**
 * The uncompressed bytes of the consecutive objects `inputs`, in order. Each object's header must
 * say what its key says and start where the previous one ended; its bytes must match the header's
 * length and SHA-256 (checked at the end of each object, before the next one's bytes are yielded).
 * `onHeader` sees each header before its bytes.
 *
 * @throws ChecksumMismatchError (CHECKSUM_MISMATCH) / CorruptDataError (CORRUPT_DATA) naming the object
 */
async function* inputBytes(
  store: ObjectStore,
  inputs: readonly CatalogSegment[],
  onHeader: (header: SegmentHeader, index: number) => void = () => undefined,
): AsyncGenerator<Buffer> {
  let index = 0;
  let prevEnd: number | undefined;
  for await (const data of fetchInOrder(store, inputs)) {
    const seg = inputs[index]!;
    const { header: h, frameLength } = decodeSegmentHeader(data, seg.key);
    if (
      h.timeline !== seg.timeline ||
      h.file !== seg.file ||
      h.start !== seg.start ||
      (seg.end !== undefined && h.end !== seg.end) ||
      (prevEnd !== undefined && h.start !== prevEnd)
    ) {
      throw new CorruptDataError(
        seg.key,
        0,
        `its header says ${h.timeline}/${h.file} bytes ${h.start}..${h.end}, which is not what its key says or does ` +
          `not follow the previous object (ending at ${String(prevEnd)}); compaction left the file as it was. ` +
          'Run `mysql-pitr verify`',
      );
    }
    onHeader(h, index);
    // the one segment rule (readVerifiedSegment's), its bytes passed on as they are verified
    const out = new PassThrough();
    const verified = verifySegmentBody(Readable.from([data.subarray(frameLength)]), h, seg.key, {
      into: out,
      advice: LEFT_AS_IT_WAS,
    });
    verified.catch(() => undefined); // awaited below, once its bytes are read
    for await (const chunk of out as AsyncIterable<Buffer>) yield chunk;
    await verified;
    prevEnd = h.end;
    index += 1;
  }
}

/** The merged object: its header frame, then one zstd frame of `bytes`. */
async function* mergedObject(
  header: SegmentHeader,
  bytes: AsyncIterable<Buffer>,
  level: number,
): AsyncGenerator<Buffer> {
  yield encodeSegmentHeader(header);
  const zstd = createZstdCompressStream({ level });
  const feeding = pipeline(Readable.from(bytes), zstd);
  feeding.catch(() => undefined); // surfaced by the loop below (the compressor is destroyed with it)
  for await (const chunk of zstd as AsyncIterable<Buffer>) yield chunk;
  await feeding;
}

/**
 * Reads back the object at `key` and checks (readVerifiedSegment) that its header is `expected`
 * and that its bytes decompress to the header's length and SHA-256.
 *
 * @throws ChecksumMismatchError / CorruptDataError when it is not
 */
async function verifyWritten(store: ObjectStore, key: string, expected: SegmentHeader): Promise<void> {
  await readVerifiedSegment(store, key, {
    advice: '',
    check: (header) => {
      if (JSON.stringify(header) !== JSON.stringify(expected)) {
        throw new ChecksumMismatchError(key, 0, 'the header read back differs from the one written');
      }
    },
  });
}

function stopIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new PitrError(
      'INTERRUPTED',
      `compaction was stopped ${what}; the repository is consistent (readers use the merged object or the ` +
        'segments it replaces, never both), run `mysql-pitr binlog compact` again to finish',
    );
  }
}

/**
 * Merges one group: verifies every input (SHA-256 of its bytes against its header), writes the
 * merged object under its compacted key, reads it back and verifies it, and only then deletes the
 * inputs. At every moment readers see either the inputs or the merged object (it covers them).
 */
async function compactGroup(
  store: ObjectStore,
  group: CompactionGroup,
  opts: CompactFileOptions,
  log: Logger,
): Promise<{ key: string; size: number; header: SegmentHeader }> {
  // first pass: every input sound and joining up, and the hash of the merged bytes for the header
  const headers: SegmentHeader[] = [];
  const merged = createHash('sha256');
  for await (const chunk of inputBytes(store, group.inputs, (h) => headers.push(h))) merged.update(chunk);
  const header = mergeSegmentHeaders(headers, merged.digest('hex'), unionGtidSets);
  const key = compactedSegmentKey(header.timeline, header.file, header.start, header.end);
  stopIfAborted(opts.signal, `before writing ${key}`);
  // second pass: the same bytes again into the object (each input verified again on the way, and
  // its header must be the one of the first pass, so the bytes are the ones hashed)
  const bytes = inputBytes(store, group.inputs, (h, i) => {
    if (h.sha256 !== headers[i]!.sha256 || h.end !== headers[i]!.end) {
      throw new ChecksumMismatchError(
        group.inputs[i]!.key,
        h.start,
        'the segment changed while it was being compacted; nothing was written. Run `mysql-pitr verify`',
      );
    }
  });
  const put = await store.put(key, mergedObject(header, bytes, opts.level ?? DEFAULT_STREAM_LEVEL), {
    contentType: 'application/zstd',
  });
  try {
    await verifyWritten(store, key, header);
  } catch (err) {
    // a storage failure says nothing about the object: a re-run verifies it before deleting anything
    if (!isPitrError(err, ...DATA_CODES)) throw err;
    // It covers the inputs: readers would use it. Remove it; the inputs are all still there.
    await store.delete([key]);
    throw new ChecksumMismatchError(
      key,
      undefined,
      `the merged object failed verification after it was written (${(err as Error).message}); it was ` +
        'deleted and the segments it was to replace are all kept',
      {
        cause: err,
        advice: 'Check the storage, then run `mysql-pitr binlog compact` again.',
      },
    );
  }
  const inputs = group.inputs;
  stopIfAborted(
    opts.signal,
    `after writing ${key}, before deleting the ${inputs.length} segments it replaces`,
  );
  await store.delete(inputs.map((i) => i.key));
  log.info('binlog segments compacted', {
    timeline: header.timeline,
    file: header.file,
    start: header.start,
    end: header.end,
    inputs: inputs.length,
    storedBytesBefore: group.storedBytes,
    storedBytes: put.size,
    key,
  });
  return { key, size: put.size, header };
}

/**
 * Compacts one closed binlog file: merges runs of its consecutive segments into objects of at most
 * `maxObjectBytes` stored bytes, in the segment format (header + one zstd frame) under the
 * compacted key `<start>-<end>.zst`, and deletes what they replace; also deletes objects left
 * covered by an interrupted earlier run, once the object covering them has been read back and
 * verified. Safe to stop at any moment (kill -9 included): readers drop covered objects
 * (`readBinlogCatalog`), so no byte is lost or doubled, and a re-run finishes the job. The caller
 * makes sure no other compaction runs at once (`compactRepository` holds `locks/compact.json`).
 *
 * @throws PitrError USAGE when the file is not closed (the archiver may still append to it) or not archived
 * @throws ChecksumMismatchError / CorruptDataError (DATA) when a segment is damaged: nothing of the
 *   file is rewritten (run `mysql-pitr verify`)
 * @throws SegmentOverlapError (CORRUPT_DATA) when two objects of the file overlap partially
 * @throws PitrError INTERRUPTED when `signal` fires; StorageError for storage failures
 */
export async function compactBinlogFile(
  store: ObjectStore,
  timeline: string,
  file: string,
  opts: CompactFileOptions = {},
): Promise<CompactedFile> {
  const log = opts.logger ?? silentLogger;
  const catalog = opts.catalog ?? (await readBinlogCatalog(store, { timeline }));
  const closed = closedBinlogFiles(catalog).find((f) => f.timeline === timeline && f.file === file);
  if (!closed) {
    throw new PitrError(
      'USAGE',
      `timeline ${timeline} ${file} is not a closed archived file of ${store.describe()}: compaction only rewrites ` +
        'files the archiver will never append to again (a later file exists on the timeline, or a newer timeline ' +
        'exists). Run `mysql-pitr binlog list` to see the files',
    );
  }
  const all = [...closed.segments, ...closed.covered];
  const result: CompactedFile = {
    timeline,
    file,
    objectsBefore: all.length,
    objectsAfter: all.length,
    storedBytesBefore: all.reduce((a, s) => a + s.size, 0),
    storedBytesAfter: all.reduce((a, s) => a + s.size, 0),
    written: 0,
    deleted: 0,
  };
  // headers of the file's objects (one ranged GET each), with the overlap rule checked again on
  // them: a covered object must end inside its cover before it may be deleted
  let allHeaded: CatalogSegment[];
  try {
    allHeaded = await mapLimit(all, FETCH_CONCURRENCY, async (s) => ({
      ...s,
      header: (await readSegmentHeader(store, s.key)).header,
    }));
  } catch (err) {
    if (err instanceof PitrError && err.code === 'OBJECT_NOT_FOUND') {
      log.warn('an object disappeared while compacting (a concurrent expire?); file skipped', {
        timeline,
        file,
        error: err.message,
      });
      return result;
    }
    throw err;
  }
  for (const s of allHeaded) {
    if (s.compacted && (s.header!.start !== s.start || s.header!.end !== s.end)) {
      throw new CorruptDataError(
        s.key,
        0,
        `its header says bytes ${s.header!.start}..${s.header!.end}, its key ${s.start}..${String(s.end)}: the ` +
          'object was renamed or damaged; compaction left the file as it was. Run `mysql-pitr verify`',
      );
    }
  }
  const view = resolveCoveredSegments(allHeaded);
  const headed = view.segments;
  const covered = view.covered;
  const groups = planFileCompaction(headed, opts.maxObjectBytes ?? DEFAULT_COMPACT_MAX_OBJECT_BYTES);
  const groupKeys = new Set(groups.flatMap((g) => g.inputs.map((s) => s.key)));
  // covered leftovers whose cover is not rewritten now: delete them once their cover is verified
  const leftovers = covered.filter((c) => !groups.some((g) => c.start >= g.start && c.start < g.end));
  const covers = headed.filter(
    (s) =>
      s.compacted && !groupKeys.has(s.key) && leftovers.some((c) => c.start >= s.start && c.start < s.end!),
  );
  const withinGroups = covered.filter((c) => !leftovers.includes(c));
  const deletions = groups.reduce((a, g) => a + g.inputs.length, 0) + covered.length;
  if (opts.dryRun) {
    return {
      ...result,
      objectsAfter: all.length - deletions + groups.length,
      written: groups.length,
      deleted: deletions,
    };
  }
  for (const cover of covers) {
    stopIfAborted(opts.signal, `before checking ${cover.key}`);
    try {
      await verifyWritten(store, cover.key, cover.header!);
    } catch (err) {
      if (!isPitrError(err, ...DATA_CODES)) throw err;
      throw new ChecksumMismatchError(
        cover.key,
        undefined,
        `${cover.key} fails verification (${(err as Error).message}) while segments it covers are still there ` +
          '(an interrupted compaction): nothing was deleted',
        {
          cause: err,
          advice:
            'Run `mysql-pitr verify`; if the segments it covers are all there ' +
            `(${file} from ${cover.start} to ${String(cover.end)}), deleting ${cover.key} brings them back into use.`,
        },
      );
    }
    const gone = leftovers.filter((c) => c.start >= cover.start && c.start < cover.end!).map((c) => c.key);
    await store.delete(gone);
    result.deleted += gone.length;
    log.info('covered segments of an interrupted compaction deleted', {
      timeline,
      file,
      cover: cover.key,
      deleted: gone.length,
    });
  }
  const known = new Map(allHeaded.map((s) => [s.key, { size: s.size, header: s.header! }]));
  for (const g of groups) {
    stopIfAborted(opts.signal, `before merging ${file} @ ${g.start}-${g.end}`);
    const written = await compactGroup(store, g, opts, log);
    known.set(written.key, { size: written.size, header: written.header });
    result.written += 1;
    result.deleted += g.inputs.length;
    result.storedBytesAfter += written.size - g.storedBytes;
    // leftovers inside the new object's range: covered by it, verified by compactGroup
    const inside = withinGroups.filter((c) => c.start >= g.start && c.start < g.end).map((c) => c.key);
    await store.delete(inside);
    result.deleted += inside.length;
  }
  const deletedBytes = covered.reduce((a, s) => a + s.size, 0);
  result.storedBytesAfter -= deletedBytes;
  result.objectsAfter = all.length - result.deleted + result.written;
  if (result.written > 0 || result.deleted > 0) {
    result.indexWritten = await writeIndexQuietly(store, timeline, file, known, log);
  }
  return result;
}

/**
 * Writes the file's index (writeBinlogFileIndex) after compaction. The index only saves readers
 * header reads, so a failure is logged and the compaction stands: readers read the headers of a
 * file whose index is missing or stale, and the next compaction writes it.
 *
 * @returns true when the index was written
 */
export async function writeIndexQuietly(
  store: ObjectStore,
  timeline: string,
  file: string,
  known: ReadonlyMap<string, { size: number; header: SegmentHeader }> | undefined,
  log: Logger,
  beforePut?: () => void,
): Promise<boolean> {
  try {
    const r = await writeBinlogFileIndex(store, timeline, file, {
      ...(known ? { known } : {}),
      ...(beforePut ? { beforePut } : {}),
    });
    if (r.skipped) {
      log.warn(`binlog file index of timeline ${timeline} ${file} not written: ${r.skipped}`, { key: r.key });
    } else {
      log.debug('binlog file index written', { key: r.key, objects: r.objects, headerReads: r.headerReads });
    }
    return r.written;
  } catch (err) {
    log.warn(
      `could not write the binlog file index of timeline ${timeline} ${file}; readers read its segment headers ` +
        'instead, and the next compaction writes it',
      { error: messageOf(err) },
    );
    return false;
  }
}
