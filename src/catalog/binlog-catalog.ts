import { CorruptDataError, isPitrError } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import { parseBinlogGap, type BinlogGap } from './binlog-gap.js';
import {
  BINLOGS_PREFIX,
  GAPS_PREFIX,
  TIMELINES_PREFIX,
  compareBinlogFiles,
  parseGapKey,
  parseSegmentKey,
  parseTimelineKey,
  timelineSegmentsPrefix,
} from './binlog-keys.js';
import {
  SEGMENT_HEADER_PROBE_BYTES,
  decodeSegmentHeader,
  segmentHeaderFrameLength,
  type SegmentHeader,
} from './segment-header.js';
import { parseTimelineRecord, type TimelineRecord } from './timeline-record.js';
import { parseCompactedSegmentKey } from './compacted-segment-key.js';
import { SegmentOverlapError } from './segment-overlap-error.js';
import { mapLimit } from './map-limit.js';
import { decodeBinlogFileIndex, parseBinlogFileIndexKey, type FileIndexEntry } from './binlog-file-index.js';

/** One segment object as listed. */
export interface CatalogSegment {
  key: string;
  timeline: string;
  file: string;
  start: number;
  /** Stored (compressed) size. */
  size: number;
  lastModified: Date;
  /** The decoded header, when the catalog was read with `headers`. */
  header?: SegmentHeader;
  /**
   * End of the bytes it holds (exclusive), when known without the header: set for compacted
   * objects, whose key carries their range (`<start>-<end>.zst`).
   */
  end?: number;
  /** Written by `binlog compact`: it replaces the plain segments of its range. */
  compacted?: boolean;
}

/** One timeline of the archive. */
export interface CatalogTimeline {
  id: string;
  /** Undefined when the record is missing (a foreign or damaged repository). */
  record: TimelineRecord | undefined;
  /** Ordered by file (sequence number) then start offset. */
  segments: CatalogSegment[];
  gaps: BinlogGap[];
  /**
   * Objects left out of `segments` because a compacted object holds their bytes: the inputs of a
   * compaction that stopped before deleting them all (or of a smaller earlier compaction). Same
   * order as `segments`. Only `binlog compact` (which deletes them) and expire need them; every
   * other reader uses `segments`. Always set by readBinlogCatalog.
   */
  covered?: CatalogSegment[];
}

/** A per-file index object (`binlogs/<timeline>/<file>/index.json`) as listed, and how it was used. */
export interface CatalogFileIndex {
  key: string;
  timeline: string;
  file: string;
  size: number;
  lastModified: Date;
  /**
   * Set when the catalog was read with `headers`: `used` (its entries replaced header reads),
   * `unreadable` (damaged: CORRUPT_DATA), `too-new` (a newer format), `gone` (deleted while
   * reading), `unused` (not read: `index: false`, or no segment of its file is listed). Whatever
   * the state, every listed segment without a matching entry had its own header read.
   */
  state?: 'used' | 'unreadable' | 'too-new' | 'gone' | 'unused';
  /** Why it could not be used (the error's message), for `unreadable` and `too-new`. */
  reason?: string;
  /** Listed objects whose header came from the index. */
  fromIndex?: number;
  /** Entries naming no listed object of that size (deleted or rewritten since it was written). */
  stale?: number;
}

/** Everything the repository holds about archived binlogs. */
export interface BinlogCatalog {
  /** Oldest timeline first. */
  timelines: CatalogTimeline[];
  /** Every per-file index object listed (always set by readBinlogCatalog), in timeline and file order. */
  fileIndexes?: CatalogFileIndex[];
  /** With `headers`: segment headers read from the segments themselves (ranged GETs). */
  headerReads?: number;
}

/** Options of readBinlogCatalog. */
export interface ReadBinlogCatalogOptions {
  /** Read the header of every segment (one ranged GET each). Default false. */
  headers?: boolean;
  /** Only this timeline. */
  timeline?: string;
  /** Parallel header reads (default 8). */
  concurrency?: number;
  /**
   * With `headers`: take the headers of a closed file's objects from its index
   * (`binlogs/<timeline>/<file>/index.json`) when the index's entry has the listed object's name and
   * size; read the others from the objects. Default true. A missing, damaged or newer-format index
   * only means more header reads (see `fileIndexes` for what happened).
   */
  index?: boolean;
}

/** Orders segments by file sequence, then start offset. */
export function compareSegments(
  a: { file: string; start: number },
  b: { file: string; start: number },
): number {
  return compareBinlogFiles(a.file, b.file) || a.start - b.start;
}

/** Where the bytes of `s` end, when known (from a compacted key or a header). */
function endOf(s: CatalogSegment): number | undefined {
  return s.end ?? s.header?.end;
}

/**
 * The overlap rule of the archive (docs/archive-layout.md, "Compaction"), applied to the objects of
 * one timeline: an object whose range lies inside a compacted object's range is covered and left
 * out (a plain segment covered by a compacted object, or a smaller compacted object inside a
 * larger one); two objects of one file whose ranges overlap without one containing the other are
 * an error. A plain segment's end is known only from its header: without headers, one that starts
 * inside a compacted object counts as covered (segments of a closed file never straddle: compaction
 * merges whole segments), and the check of its end is done where headers are read. Pure.
 *
 * @returns the kept objects in `compareSegments` order, and the covered ones
 * @throws SegmentOverlapError (CORRUPT_DATA) naming both objects of a partial overlap
 */
export function resolveCoveredSegments(segments: readonly CatalogSegment[]): {
  segments: CatalogSegment[];
  covered: CatalogSegment[];
} {
  // Per file by start; at one start the larger compacted object first, plain segments last.
  const order = [...segments].sort(
    (a, b) =>
      compareSegments(a, b) ||
      (b.compacted ? (b.end ?? 0) : -1) - (a.compacted ? (a.end ?? 0) : -1) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  const kept: CatalogSegment[] = [];
  const covered: CatalogSegment[] = [];
  let cover: CatalogSegment | undefined;
  const range = (s: CatalogSegment): { key: string; start: number; end: number } => ({
    key: s.key,
    start: s.start,
    end: endOf(s) ?? s.start,
  });
  for (const s of order) {
    if (cover && cover.file !== s.file) cover = undefined;
    const end = endOf(s);
    if (cover && s.start < cover.end!) {
      if (end !== undefined && end > cover.end!) throw new SegmentOverlapError(range(cover), range(s));
      covered.push(s);
      continue;
    }
    if (s.compacted) {
      // a kept object of this file that starts before `s` must end by its start
      for (let i = kept.length - 1; i >= 0; i--) {
        const k = kept[i]!;
        if (k.file !== s.file) break;
        const kEnd = endOf(k);
        if (kEnd === undefined || kEnd <= s.start) break;
        throw new SegmentOverlapError(range(k), range(s));
      }
      cover = s;
    }
    kept.push(s);
  }
  return { segments: kept, covered };
}

/**
 * Reads the header of the segment at `key` with a ranged GET (two when the header is larger than
 * the first probe).
 *
 * @throws ObjectNotFoundError when the segment is gone; CorruptDataError when it has no valid header;
 *   StorageError for storage failures
 */
export async function readSegmentHeader(
  store: ObjectStore,
  key: string,
): Promise<{ header: SegmentHeader; frameLength: number }> {
  let data = await store.get(key, { start: 0, end: SEGMENT_HEADER_PROBE_BYTES });
  const length = segmentHeaderFrameLength(data, key);
  if (length > data.length) data = await store.get(key, { start: 0, end: length });
  return decodeSegmentHeader(data, key);
}

/**
 * Lists the timelines, segments and gaps of the repository (optionally with every segment header).
 * Keys that are not ours are ignored. A segment deleted while listing is dropped.
 *
 * @throws StorageError for storage failures; CorruptDataError for a damaged record or header
 */
export async function readBinlogCatalog(
  store: ObjectStore,
  opts: ReadBinlogCatalogOptions = {},
): Promise<BinlogCatalog> {
  const byId = new Map<string, CatalogTimeline>();
  const timeline = (id: string): CatalogTimeline => {
    let t = byId.get(id);
    if (!t) {
      t = { id, record: undefined, segments: [], gaps: [] };
      byId.set(id, t);
    }
    return t;
  };
  for await (const o of store.list(TIMELINES_PREFIX)) {
    const id = parseTimelineKey(o.key);
    if (id === undefined || (opts.timeline && id !== opts.timeline)) continue;
    try {
      timeline(id).record = parseTimelineRecord((await store.get(o.key)).toString('utf8'), o.key);
    } catch (err) {
      if (!isPitrError(err, 'OBJECT_NOT_FOUND')) throw err;
    }
  }
  const segPrefix = opts.timeline ? timelineSegmentsPrefix(opts.timeline) : BINLOGS_PREFIX;
  const fileIndexes: CatalogFileIndex[] = [];
  for await (const o of store.list(segPrefix)) {
    const parts = parseSegmentKey(o.key);
    const compacted = parts ? undefined : parseCompactedSegmentKey(o.key);
    const index = parts || compacted ? undefined : parseBinlogFileIndexKey(o.key);
    if (index) {
      fileIndexes.push({ key: o.key, ...index, size: o.size, lastModified: o.lastModified });
    } else if (parts) {
      timeline(parts.timeline).segments.push({
        key: o.key,
        ...parts,
        size: o.size,
        lastModified: o.lastModified,
      });
    } else if (compacted) {
      timeline(compacted.timeline).segments.push({
        key: o.key,
        ...compacted,
        compacted: true,
        size: o.size,
        lastModified: o.lastModified,
      });
    }
  }
  for await (const o of store.list(GAPS_PREFIX)) {
    const parts = parseGapKey(o.key);
    if (!parts || (opts.timeline && parts.timeline !== opts.timeline)) continue;
    try {
      timeline(parts.timeline).gaps.push(parseBinlogGap((await store.get(o.key)).toString('utf8'), o.key));
    } catch (err) {
      if (!isPitrError(err, 'OBJECT_NOT_FOUND')) throw err;
    }
  }
  const timelines = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  fileIndexes.sort((a, b) =>
    a.timeline !== b.timeline ? (a.timeline < b.timeline ? -1 : 1) : compareBinlogFiles(a.file, b.file),
  );
  let headerReads = 0;
  for (const t of timelines) {
    const resolved = resolveCoveredSegments(t.segments);
    t.segments = resolved.segments;
    t.covered = resolved.covered;
    t.gaps.sort((a, b) => compareBinlogFiles(a.file, b.file));
    if (opts.headers) {
      const entries =
        opts.index === false
          ? new Map<string, Map<string, FileIndexEntry>>()
          : await readFileIndexes(
              store,
              fileIndexes.filter((i) => i.timeline === t.id),
              [...t.segments, ...(t.covered ?? [])],
              opts.concurrency ?? 8,
            );
      const fromIndex = (s: CatalogSegment): SegmentHeader | undefined => {
        const e = entries.get(s.file)?.get(s.key.slice(s.key.lastIndexOf('/') + 1));
        if (!e || e.size !== s.size || !headerFitsKey(e.header, s)) return undefined;
        return e.header;
      };
      const withHeaders = async (list: CatalogSegment[]): Promise<CatalogSegment[]> => {
        const headers = await mapLimit(list, opts.concurrency ?? 8, async (s) => {
          const indexed = fromIndex(s);
          if (indexed) return indexed;
          headerReads += 1;
          try {
            return (await readSegmentHeader(store, s.key)).header;
          } catch (err) {
            if (isPitrError(err, 'OBJECT_NOT_FOUND')) return undefined;
            throw err;
          }
        });
        return list.flatMap((s, i) => {
          const header = headers[i];
          if (!header) return [];
          if (s.compacted && (header.start !== s.start || header.end !== s.end)) {
            throw new CorruptDataError(
              s.key,
              0,
              `its header says bytes ${header.start}..${header.end}, its key ${s.start}..${String(s.end)}: the ` +
                'object was renamed or damaged. Move it aside and run `mysql-pitr binlog fetch` to see what is missing',
            );
          }
          return [{ ...s, header }];
        });
      };
      // With the ends of plain segments known, check again: a covered segment must end inside its cover.
      const again = resolveCoveredSegments([
        ...(await withHeaders(t.segments)),
        ...(await withHeaders(t.covered)),
      ]);
      t.segments = again.segments;
      t.covered = again.covered;
      if (opts.index !== false) {
        for (const i of fileIndexes) {
          if (i.timeline !== t.id || i.state !== 'used') continue;
          const listed = [...t.segments, ...t.covered].filter((s) => s.file === i.file);
          i.fromIndex = listed.filter((s) => fromIndex(s) !== undefined).length;
          i.stale = (entries.get(i.file)?.size ?? 0) - i.fromIndex;
        }
      }
    }
  }
  for (const i of fileIndexes) if (opts.headers && i.state === undefined) i.state = 'unused';
  return { timelines, fileIndexes, ...(opts.headers ? { headerReads } : {}) };
}

/** True when an index entry's header says what the listed object's key says. */
function headerFitsKey(h: SegmentHeader, s: CatalogSegment): boolean {
  return (
    h.timeline === s.timeline &&
    h.file === s.file &&
    h.start === s.start &&
    (s.compacted ? h.end === s.end : true)
  );
}

/**
 * Reads the index objects `indexes` of files that have listed `objects`, and returns their entries
 * per file and object name. An index that cannot be used is marked (state, reason) and left out:
 * its file's headers are read from the objects. Sets `state` on each index.
 *
 * @throws StorageError for storage failures other than a missing object
 */
async function readFileIndexes(
  store: ObjectStore,
  indexes: CatalogFileIndex[],
  objects: readonly CatalogSegment[],
  concurrency: number,
): Promise<Map<string, Map<string, FileIndexEntry>>> {
  const files = new Set(objects.map((s) => s.file));
  const wanted = indexes.filter((i) => files.has(i.file));
  const out = new Map<string, Map<string, FileIndexEntry>>();
  await mapLimit(wanted, concurrency, async (i) => {
    try {
      const index = decodeBinlogFileIndex(await store.get(i.key), i.key);
      out.set(i.file, new Map(index.objects.map((e) => [e.name, e])));
      i.state = 'used';
    } catch (err) {
      if (isPitrError(err, 'OBJECT_NOT_FOUND')) i.state = 'gone';
      else if (isPitrError(err, 'FORMAT_TOO_NEW')) i.state = 'too-new';
      else if (isPitrError(err, 'CORRUPT_DATA', 'TRUNCATED_DATA')) i.state = 'unreadable';
      else throw err;
      i.reason = (err as Error).message;
    }
  });
  return out;
}
