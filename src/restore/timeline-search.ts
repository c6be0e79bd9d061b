import {
  BinlogEventParser,
  decodeRowsEvent,
  decodeTableMapColumns,
  EventType,
  rowsEventKind,
  rowsEventTableId,
  TransactionTracker,
  type BinlogEvent,
  type TableMapColumns,
  type TableMapEventData,
} from '../binlog/index.js';
import {
  compareBinlogFiles,
  readBinlogCatalog,
  type CatalogSegment,
  type CatalogTimeline,
} from '../catalog/index.js';
import { CorruptDataError, PitrError, TargetOutOfRangeError } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import { keepStatement, readArchivedSegments, type ScannedTransaction } from './apply/archived-segments.js';
import { segmentsInTimeRange } from './segment-window.js';

/** Events that begin a transaction in a binlog with GTIDs. */
const TRANSACTION_START = new Set<number>([
  EventType.GTID,
  EventType.ANONYMOUS_GTID,
  EventType.GTID_TAGGED,
  EventType.MARIADB_GTID,
]);

/** What reading segments cost, counted by archivedFileEvents. */
export interface SegmentReadCounts {
  /** Segments fetched and verified (a file's first segment read only for its FORMAT_DESCRIPTION counts too). */
  segments: number;
  /** Their binlog bytes (uncompressed). */
  bytes: number;
  /** Segments in the timeline (set by searchTimeline). */
  total?: number;
}

/**
 * The events of archived binlog file `file` in the segments `segs[first..end)` (one file's segments
 * with headers, in `start` order, joining up), parsed in order, one array per chunk of bytes.
 * When `first` is above 0 (from segmentsInTimeRange or transactionStartIndex; the file must have
 * GTID events), the events before the first transaction start (a GTID event) are dropped, and the
 * file's first segment is read too, for the FORMAT_DESCRIPTION_EVENT the parser needs. Every segment
 * is verified before its bytes are parsed.
 *
 * @throws CorruptDataError / ChecksumMismatchError for damaged data; StorageError
 */
export async function* archivedFileEvents(
  store: ObjectStore,
  timeline: string,
  file: string,
  segs: readonly CatalogSegment[],
  first: number,
  end: number,
  counts?: SegmentReadCounts,
): AsyncGenerator<BinlogEvent[]> {
  if (first >= end) return;
  const object = `${timeline}/${file}`;
  const ref = (s: CatalogSegment): { key: string; start: number; end: number } => ({
    key: s.key,
    start: s.start,
    end: s.header!.end,
  });
  let parser: BinlogEventParser;
  if (first > 0) {
    const head = new BinlogEventParser({ object });
    if (counts) counts.segments++;
    for await (const bytes of readArchivedSegments(store, [ref(segs[0]!)], 0)) {
      if (counts) counts.bytes += bytes.length;
      head.push(bytes);
      if (head.formatDescription) break;
    }
    if (!head.formatDescription) {
      throw new CorruptDataError(
        segs[0]!.key,
        0,
        `the first segment of ${object} holds no FORMAT_DESCRIPTION_EVENT, which the rest of the file needs to be read`,
      );
    }
    parser = new BinlogEventParser({
      object,
      startOffset: segs[first]!.start,
      formatDescription: head.formatDescription,
    });
  } else parser = new BinlogEventParser({ object });
  // Started inside the file: drop the tail of a transaction begun before, up to the next GTID event.
  let synced = first === 0;
  const refs = segs.slice(first, end).map(ref);
  for await (const bytes of readArchivedSegments(store, refs)) {
    if (counts) counts.bytes += bytes.length;
    const events = parser.push(bytes);
    if (synced) {
      yield events;
      continue;
    }
    const at = events.findIndex((e) => TRANSACTION_START.has(e.typeCode));
    if (at < 0) continue;
    synced = true;
    yield events.slice(at);
  }
  if (counts) counts.segments += refs.length;
}

/** What to look for. Transactions must match every criterion given. */
export interface TimelineSearchQuery {
  /** Matched against each statement text (QUERY, ANNOTATE_ROWS, ROWS_QUERY). */
  query?: RegExp | undefined;
  /** `db.table` touched (TABLE_MAP), compared case-insensitively. */
  table?: string | undefined;
  /** Commit time bounds, ms since the epoch, inclusive. */
  from?: number | undefined;
  to?: number | undefined;
  /** Timeline (default: the newest with segments). */
  timeline?: string | undefined;
}

/** Rows a transaction inserted, updated and deleted in one table (from its rows events). */
export interface TableRowCounts {
  /** `db.table`. */
  table: string;
  inserted: number;
  updated: number;
  deleted: number;
  /**
   * Set when some of its rows events could not be decoded (a MariaDB COMPRESSED column, an unknown
   * column type): the counts cover the other events only.
   */
  undecoded?: true;
}

/** One transaction found. */
export interface TimelineMatch extends ScannedTransaction {
  timeline: string;
  /** Per table it wrote with row events, in order of first appearance. */
  rows: TableRowCounts[];
}

/** Row counts and statements of the transaction being read. */
class TransactionRows {
  private readonly maps = new Map<number, TableMapColumns>();
  readonly counts = new Map<string, TableRowCounts>();
  statements: string[] = [];

  add(e: BinlogEvent): void {
    keepStatement(this.statements, e);
    if (e.typeCode === EventType.TABLE_MAP) {
      let m: TableMapColumns | undefined;
      try {
        m = decodeTableMapColumns(e);
      } catch (err) {
        // Column definitions this reader does not know: name the table, count its rows as unknown.
        if (!(err instanceof PitrError)) throw err;
      }
      const names = m ?? (e.data as TableMapEventData);
      const name = `${names.database}.${names.table}`;
      if (!this.counts.has(name)) this.counts.set(name, { table: name, inserted: 0, updated: 0, deleted: 0 });
      if (m) this.maps.set(m.tableId, m);
      else {
        this.counts.get(name)!.undecoded = true;
        this.maps.delete(names.tableId);
      }
      return;
    }
    const kind = rowsEventKind(e.typeCode);
    if (!kind) return;
    const map = this.maps.get(rowsEventTableId(e));
    if (!map) return;
    const c = this.counts.get(`${map.database}.${map.table}`)!;
    let n: number;
    try {
      n = decodeRowsEvent(e, map).rows.length;
    } catch (err) {
      // Counting is informational: a table whose row images cannot be decoded must not stop the search.
      if (!(err instanceof PitrError)) throw err;
      c.undecoded = true;
      return;
    }
    if (kind === 'insert') c.inserted += n;
    else if (kind === 'update') c.updated += n;
    else c.deleted += n;
  }
}

/**
 * The timeline `timeline search` and `undo` read: `id`, else the newest one with archived segments.
 *
 * @throws TargetOutOfRangeError `unknown-timeline` (with `timeline`) when `id` has no archived
 *   segments, `no-archive` when the repository has none at all
 */
export function timelineToSearch(
  timelines: readonly CatalogTimeline[],
  id: string | undefined,
  store: ObjectStore,
): CatalogTimeline {
  const timeline = id
    ? timelines.find((t) => t.id === id)
    : timelines.filter((t) => t.segments.length > 0).at(-1);
  if (timeline && timeline.segments.length > 0) return timeline;
  throw id
    ? new TargetOutOfRangeError(
        'unknown-timeline',
        `timeline ${id} has no archived binlogs in ${store.describe()}; \`mysql-pitr binlog list\` shows the timelines`,
        { timeline: id },
      )
    : new TargetOutOfRangeError(
        'no-archive',
        `no archived binlogs in ${store.describe()}; run \`mysql-pitr archive\` against the source first`,
      );
}

/**
 * Streams the archive of one timeline, file by file (segments prefetched, memory bounded), and
 * calls `onMatch` for every transaction that matches, with the rows it inserted, updated and deleted
 * per table (its rows events decoded). With `from`/`to`, only the segments whose headers' commit
 * times may hold such transactions are read (segmentsInTimeRange): whole files and the segments of
 * a file before and after the range are skipped.
 *
 * @returns transactions examined
 * @throws TargetOutOfRangeError `unknown-timeline` (with `timeline`) or `no-archive`; data/storage errors
 */
export async function searchTimeline(
  store: ObjectStore,
  q: TimelineSearchQuery,
  onMatch: (m: TimelineMatch) => void,
  signal?: AbortSignal,
  counts?: SegmentReadCounts,
): Promise<number> {
  const catalog = await readBinlogCatalog(store, {
    headers: true,
    ...(q.timeline ? { timeline: q.timeline } : {}),
  });
  const timeline = timelineToSearch(catalog.timelines, q.timeline, store);
  if (counts) counts.total = timeline.segments.length;
  const table = q.table?.toLowerCase();
  const files = [...new Set(timeline.segments.map((s) => s.file))].sort(compareBinlogFiles);
  let examined = 0;
  for (const file of files) {
    const segs = timeline.segments.filter((s) => s.file === file && s.header);
    const { first, end } = segmentsInTimeRange(segs, q.from, q.to);
    const tracker = new TransactionTracker(file, { tables: false });
    let rows = new TransactionRows();
    for await (const events of archivedFileEvents(store, timeline.id, file, segs, first, end, counts)) {
      signal?.throwIfAborted();
      for (const e of events) {
        rows.add(e);
        const t = tracker.add(e);
        if (!t) {
          if (!tracker.inTransaction) rows = new TransactionRows();
          continue;
        }
        const done = rows;
        rows = new TransactionRows();
        examined += 1;
        const commitTime = Math.floor(t.commitTimestamp / 1000);
        if (q.from !== undefined && commitTime < q.from) continue;
        if (q.to !== undefined && commitTime > q.to) continue;
        const tables = [...done.counts.keys()];
        if (table && !tables.some((x) => x.toLowerCase() === table)) continue;
        if (q.query && !done.statements.some((s) => q.query!.test(s))) continue;
        onMatch({
          file,
          startOffset: t.startOffset,
          endOffset: t.endOffset,
          gtid: t.gtid,
          commitTime,
          tables,
          statements: done.statements,
          rows: [...done.counts.values()],
          timeline: timeline.id,
        });
      }
    }
  }
  return examined;
}
