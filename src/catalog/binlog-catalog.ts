import { isPitrError } from '../errors/index.js';
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
}

/** One timeline of the archive. */
export interface CatalogTimeline {
  id: string;
  /** Undefined when the record is missing (a foreign or damaged repository). */
  record: TimelineRecord | undefined;
  /** Ordered by file (sequence number) then start offset. */
  segments: CatalogSegment[];
  gaps: BinlogGap[];
}

/** Everything the repository holds about archived binlogs. */
export interface BinlogCatalog {
  /** Oldest timeline first. */
  timelines: CatalogTimeline[];
}

/** Options of readBinlogCatalog. */
export interface ReadBinlogCatalogOptions {
  /** Read the header of every segment (one ranged GET each). Default false. */
  headers?: boolean;
  /** Only this timeline. */
  timeline?: string;
  /** Parallel header reads (default 8). */
  concurrency?: number;
}

/** Orders segments by file sequence, then start offset. */
export function compareSegments(
  a: { file: string; start: number },
  b: { file: string; start: number },
): number {
  return compareBinlogFiles(a.file, b.file) || a.start - b.start;
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

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
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
  for await (const o of store.list(segPrefix)) {
    const parts = parseSegmentKey(o.key);
    if (!parts) continue;
    timeline(parts.timeline).segments.push({
      key: o.key,
      ...parts,
      size: o.size,
      lastModified: o.lastModified,
    });
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
  for (const t of timelines) {
    t.segments.sort(compareSegments);
    t.gaps.sort((a, b) => compareBinlogFiles(a.file, b.file));
    if (opts.headers) {
      const headers = await mapLimit(t.segments, opts.concurrency ?? 8, async (s) => {
        try {
          return (await readSegmentHeader(store, s.key)).header;
        } catch (err) {
          if (isPitrError(err, 'OBJECT_NOT_FOUND')) return undefined;
          throw err;
        }
      });
      t.segments = t.segments.flatMap((s, i) => (headers[i] ? [{ ...s, header: headers[i] }] : []));
    }
  }
  return { timelines };
}
