import { isPitrError } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import {
  binlogFileIndexKey,
  decodeBinlogFileIndex,
  encodeBinlogFileIndex,
  type FileIndexEntry,
} from './binlog-file-index.js';
import { fileSegmentsPrefix, parseSegmentKey } from './binlog-keys.js';
import { readSegmentHeader } from './binlog-catalog.js';
import { parseCompactedSegmentKey } from './compacted-segment-key.js';
import { mapLimit } from './map-limit.js';
import type { SegmentHeader } from './segment-header.js';

/** Options of writeBinlogFileIndex. */
export interface WriteBinlogFileIndexOptions {
  /**
   * Headers the caller already holds, by object key, with the object's stored size (the archiver's
   * own segments, compaction's inputs and outputs): used when the listing shows the same key and
   * size, so those objects are not read again.
   */
  known?: ReadonlyMap<string, { size: number; header: SegmentHeader }>;
  /** Parallel header reads (default 8). */
  concurrency?: number;
  /** The time recorded as `writtenAt` (default the clock). */
  now?: Date;
  /** Called right before the put; throwing stops the write (the archiver's lease fence). */
  beforePut?: () => void;
}

/** What writeBinlogFileIndex did. */
export interface WriteBinlogFileIndexResult {
  key: string;
  /** True when the index was written. */
  written: boolean;
  /** Objects it lists. */
  objects: number;
  /** Headers read from the objects (ranged GETs). */
  headerReads: number;
  /**
   * Why it was not written: an existing index that cannot be parsed (damaged, or of a newer format)
   * is never replaced, so that nothing is overwritten that this build cannot account for; or the
   * file has no objects.
   */
  skipped?: string;
}

/**
 * Writes the index of one binlog file (`binlogs/<timeline>/<file>/index.json`): lists the file's
 * prefix (one LIST), takes each segment or compacted object's header from `known`, from the
 * current index (same name and size) or by reading it, and puts the index. Objects whose header
 * does not say what their key says are left out (readers read them; `verify` reports them); one
 * deleted meanwhile is left out too. Writers call it when a file is closed (the archiver, after
 * its ROTATE/STOP segment is stored) and after `binlog compact` rewrote the file. The index is a
 * cache of headers that readers check against the listing, so a stale one is harmless; see
 * docs/archive-layout.md, "The file index".
 *
 * @throws StorageError for storage failures; CorruptDataError / FormatTooNewError when an object's
 *   header cannot be read (the index is then not written)
 */
export async function writeBinlogFileIndex(
  store: ObjectStore,
  timeline: string,
  file: string,
  opts: WriteBinlogFileIndexOptions = {},
): Promise<WriteBinlogFileIndexResult> {
  const key = binlogFileIndexKey(timeline, file);
  const prefix = fileSegmentsPrefix(timeline, file);
  const known = new Map(opts.known ?? []);
  try {
    const current = decodeBinlogFileIndex(await store.get(key), key);
    for (const e of current.objects) {
      if (!known.has(prefix + e.name)) known.set(prefix + e.name, { size: e.size, header: e.header });
    }
  } catch (err) {
    if (isPitrError(err, 'FORMAT_TOO_NEW', 'CORRUPT_DATA', 'TRUNCATED_DATA')) {
      return {
        key,
        written: false,
        objects: 0,
        headerReads: 0,
        skipped: `the existing index cannot be read (${(err as Error).message}); it is left as it is`,
      };
    }
    if (!isPitrError(err, 'OBJECT_NOT_FOUND')) throw err;
  }
  const listed: { key: string; size: number; start: number; end: number | undefined }[] = [];
  for await (const o of store.list(prefix)) {
    const plain = parseSegmentKey(o.key);
    const compacted = plain ? undefined : parseCompactedSegmentKey(o.key);
    const parts = plain ?? compacted;
    if (!parts || parts.timeline !== timeline || parts.file !== file) continue;
    listed.push({ key: o.key, size: o.size, start: parts.start, end: compacted?.end });
  }
  if (listed.length === 0) return { key, written: false, objects: 0, headerReads: 0, skipped: 'no objects' };
  let headerReads = 0;
  const entries = await mapLimit(
    listed,
    opts.concurrency ?? 8,
    async (o): Promise<FileIndexEntry | undefined> => {
      let header: SegmentHeader;
      const k = known.get(o.key);
      if (k && k.size === o.size) header = k.header;
      else {
        headerReads += 1;
        try {
          header = (await readSegmentHeader(store, o.key)).header;
        } catch (err) {
          if (isPitrError(err, 'OBJECT_NOT_FOUND')) return undefined;
          throw err;
        }
      }
      const fits =
        header.timeline === timeline &&
        header.file === file &&
        header.start === o.start &&
        (o.end === undefined || header.end === o.end);
      return fits ? { name: o.key.slice(prefix.length), size: o.size, header } : undefined;
    },
  );
  const objects = entries
    .filter((e): e is FileIndexEntry => e !== undefined)
    .sort((a, b) => a.header.start - b.header.start || b.header.end - a.header.end);
  opts.beforePut?.();
  await store.put(
    key,
    encodeBinlogFileIndex({ timeline, file, writtenAt: (opts.now ?? new Date()).toISOString(), objects }),
    { contentType: 'application/json' },
  );
  return { key, written: true, objects: objects.length, headerReads };
}
