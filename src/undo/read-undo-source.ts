import {
  BinlogFormatError,
  decodeRowsEvent,
  decodeTableMapColumns,
  EventType,
  rowsEventKind,
  rowsEventTableId,
  TransactionTracker,
  type BinlogEvent,
  type RowsEventKind,
  type RowImage,
  type TableMapColumns,
} from '../binlog/index.js';
import { compareBinlogFiles, readBinlogCatalog, type CatalogSegment } from '../catalog/index.js';
import { CorruptDataError, TargetOutOfRangeError } from '../errors/index.js';
// The two files, not src/restore/index.js: undo must start without loading the restore pipeline.
import {
  hasGtids,
  segmentMayHoldGtid,
  segmentsInTimeRange,
  transactionStartIndex,
} from '../restore/segment-window.js';
import { archivedFileEvents, timelineToSearch, type SegmentReadCounts } from '../restore/timeline-search.js';
import type { ObjectStore } from '../storage/index.js';
import { tableName } from './target-table.js';
import { UndoRefusedError } from './undo-error.js';

/** Which transactions to undo. */
export type UndoSelection =
  | { gtids: readonly string[] }
  | {
      /** `db.table`: its row changes in transactions committed in [from, to] (ms since the epoch). */
      table: string;
      from: number;
      to: number;
    };

/** One row change of an undone transaction. */
export interface UndoRowChange {
  /** `db.table`. */
  table: string;
  kind: RowsEventKind;
  before?: RowImage | undefined;
  after?: RowImage | undefined;
  /** Where its rows event is, for messages. */
  file: string;
  offset: number;
}

/** A transaction to undo, with its row changes in binlog order. */
export interface UndoTransaction {
  gtid: string | undefined;
  file: string;
  startOffset: number;
  endOffset: number;
  /** Commit time, ms since the epoch (second resolution). */
  commitTime: number;
  changes: UndoRowChange[];
  /** Statements that are not transaction control (statement-based writes, DDL), which undo cannot reverse. */
  statements: string[];
}

/** A DDL statement found at or after the first undone transaction. */
export interface DdlStatement {
  gtid: string | undefined;
  file: string;
  offset: number;
  statement: string;
}

/** What the archive says about the transactions to undo. */
export interface UndoSource {
  timeline: string;
  transactions: UndoTransaction[];
  /** TABLE_MAP definitions of the affected tables (the last seen per table). */
  tableMaps: Map<string, TableMapColumns>;
  /** DDL (and other non-transactional statements) from the first undone transaction on. */
  ddl: DdlStatement[];
  /** What reading cost (for `--json` and bench/undo.sh); absent for a source built by hand. */
  stats?: UndoReadStats | undefined;
}

/** What reading the archive for an undo cost. */
export interface UndoReadStats {
  /** Seconds listing the timeline and reading its segment headers. */
  catalogSeconds: number;
  /** Seconds fetching, verifying and parsing segments (row-image decoding included). */
  segmentSeconds: number;
  /** Of segmentSeconds, seconds decoding row images. */
  decodeSeconds: number;
  /** Segments in the timeline, and segments fetched. */
  segmentsInTimeline: number;
  segmentsRead: number;
  /** Binlog bytes read (uncompressed). */
  bytesRead: number;
}

const DDL_RE = /^\s*(?:\/\*.*?\*\/\s*)*(ALTER|DROP|TRUNCATE|RENAME|CREATE|OPTIMIZE|REPAIR)\b/is;

/**
 * Reads one timeline of the archive (segments verified, prefetched) and collects the row changes of
 * the selected transactions, decoded with their TABLE_MAP definitions, and every DDL statement from
 * the first selected transaction to the end of the archive.
 *
 * Only what is needed is fetched. With `gtids`, reading starts at the first segment whose header
 * says it may hold one of them (segmentMayHoldGtid, walked back by transactionStartIndex); if a
 * GTID is then not found (headers that do not say, GTIDs out of order), the whole timeline is read
 * again from its start before reporting it missing. With `table`/`from`, segments whose commit times
 * all lie before `from` are skipped (segmentsInTimeRange). Everything after the start is read: the
 * DDL check needs it.
 *
 * @throws TargetOutOfRangeError when the archive is empty (`no-archive`), the timeline has no
 *   archived binlogs (`unknown-timeline`) or a GTID is not in it (`not-archived`, with `gtids`);
 *   UndoRefusedError for PARTIAL_JSON or undecodable row images;
 *   CorruptDataError / ChecksumMismatchError / BinlogFormatError for damaged or unreadable data
 */
export async function readUndoSource(
  store: ObjectStore,
  selection: UndoSelection,
  opts: { timeline?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<UndoSource> {
  const t0 = performance.now();
  const catalog = await readBinlogCatalog(store, {
    headers: true,
    ...(opts.timeline ? { timeline: opts.timeline } : {}),
  });
  const timeline = timelineToSearch(catalog.timelines, opts.timeline, store);
  const t1 = performance.now();
  const files = [...new Set(timeline.segments.map((s) => s.file))].sort(compareBinlogFiles);
  const byFile = new Map(files.map((f) => [f, timeline.segments.filter((s) => s.file === f && s.header)]));
  const stats: UndoReadStats = {
    catalogSeconds: (t1 - t0) / 1000,
    segmentSeconds: 0,
    decodeSeconds: 0,
    segmentsInTimeline: timeline.segments.length,
    segmentsRead: 0,
    bytesRead: 0,
  };
  const counts: SegmentReadCounts = { segments: 0, bytes: 0 };
  let source: UndoSource;
  if ('gtids' in selection) {
    const start = gtidStart(files, byFile, selection.gtids);
    source = await scan(store, timeline.id, files, byFile, selection, start, stats, counts, opts.signal);
    const missing = (s: UndoSource): string[] => {
      const found = new Set(s.transactions.map((t) => t.gtid));
      return selection.gtids.filter((g) => !found.has(g));
    };
    if (missing(source).length > 0 && start) {
      // The headers pointed past a GTID (or not at all): read everything before giving up.
      source = await scan(
        store,
        timeline.id,
        files,
        byFile,
        selection,
        undefined,
        stats,
        counts,
        opts.signal,
      );
    }
    const lost = missing(source);
    if (lost.length > 0) {
      throw new TargetOutOfRangeError(
        'not-archived',
        `GTID ${lost.join(', ')} is not in the archive of timeline ${timeline.id} (${store.describe()}); ` +
          'find the transaction with `mysql-pitr timeline search --table DB.TBL` and check the GTID',
        { timeline: timeline.id, gtids: lost },
      );
    }
  } else {
    source = await scan(store, timeline.id, files, byFile, selection, undefined, stats, counts, opts.signal);
  }
  stats.segmentSeconds = (performance.now() - t1) / 1000;
  stats.segmentsRead = counts.segments;
  stats.bytesRead = counts.bytes;
  return { ...source, stats };
}

/** Where reading for `gtids` may start: the file and segment index, or undefined for the start. */
function gtidStart(
  files: readonly string[],
  byFile: ReadonlyMap<string, CatalogSegment[]>,
  gtids: readonly string[],
): { file: string; index: number } | undefined {
  for (const file of files) {
    const segs = byFile.get(file)!;
    if (!hasGtids(segs)) continue;
    const i = segs.findIndex((s) => gtids.some((g) => segmentMayHoldGtid(s.header!, g)));
    if (i >= 0) return { file, index: transactionStartIndex(segs, i) };
  }
  return undefined;
}

/** Reads from `start` (or the timeline's start) to its end and collects what readUndoSource returns. */
async function scan(
  store: ObjectStore,
  timelineId: string,
  files: readonly string[],
  byFile: ReadonlyMap<string, CatalogSegment[]>,
  selection: UndoSelection,
  start: { file: string; index: number } | undefined,
  stats: UndoReadStats,
  counts: SegmentReadCounts,
  signal: AbortSignal | undefined,
): Promise<UndoSource> {
  const wanted = 'gtids' in selection ? new Set(selection.gtids) : undefined;
  const table = 'table' in selection ? selection.table.toLowerCase() : undefined;
  const transactions: UndoTransaction[] = [];
  const tableMaps = new Map<string, TableMapColumns>();
  const ddl: DdlStatement[] = [];
  const from = start ? files.indexOf(start.file) : 0;
  for (const file of files.slice(from)) {
    const segs = byFile.get(file)!;
    let first = start && file === start.file ? start.index : 0;
    // Until the first selected transaction, skip what lies wholly before --from.
    if (transactions.length === 0 && 'from' in selection) {
      first = Math.max(first, segmentsInTimeRange(segs, selection.from, undefined).first);
    }
    const tracker = new TransactionTracker(file, { tables: false });
    let events: BinlogEvent[] = [];
    for await (const batch of archivedFileEvents(store, timelineId, file, segs, first, segs.length, counts)) {
      signal?.throwIfAborted();
      for (const e of batch) {
        const t = tracker.add(e);
        if (!t) {
          if (tracker.inTransaction) events.push(e);
          else events = [];
          continue;
        }
        events.push(e);
        const group = events;
        events = [];
        const commitTime = Math.floor(t.commitTimestamp / 1000);
        const selected = wanted
          ? t.gtid !== undefined && wanted.has(t.gtid)
          : commitTime >= (selection as { from: number }).from &&
            commitTime <= (selection as { to: number }).to;
        if (selected || transactions.length > 0) {
          for (const q of group) {
            const d = q.typeCode === EventType.QUERY ? q.data : undefined;
            if (d?.kind === 'query' && d.statementKind === 'statement' && DDL_RE.test(d.statement)) {
              ddl.push({ gtid: t.gtid, file, offset: q.offset, statement: d.statement });
            }
          }
        }
        if (!selected) continue;
        const d0 = performance.now();
        const trx = collect(group, t.gtid, file, t.startOffset, t.endOffset, commitTime, tableMaps, table);
        stats.decodeSeconds += (performance.now() - d0) / 1000;
        if (table && trx.changes.length === 0) continue;
        transactions.push(trx);
      }
    }
  }
  return { timeline: timelineId, transactions, tableMaps, ddl };
}

function collect(
  group: BinlogEvent[],
  gtid: string | undefined,
  file: string,
  startOffset: number,
  endOffset: number,
  commitTime: number,
  tableMaps: Map<string, TableMapColumns>,
  onlyTable: string | undefined,
): UndoTransaction {
  const byId = new Map<number, TableMapColumns>();
  const trx: UndoTransaction = {
    gtid,
    file,
    startOffset,
    endOffset,
    commitTime,
    changes: [],
    statements: [],
  };
  for (const e of group) {
    if (e.typeCode === EventType.TABLE_MAP) {
      const m = decodeTableMapColumns(e);
      byId.set(m.tableId, m);
      continue;
    }
    if (e.typeCode === EventType.QUERY) {
      const d = e.data;
      if (d?.kind === 'query' && d.statementKind === 'statement') trx.statements.push(d.statement);
      continue;
    }
    if (e.typeCode === EventType.PARTIAL_UPDATE_ROWS) {
      throw new UndoRefusedError(
        'partial-json',
        `the transaction at ${file}:${startOffset} has a PARTIAL_UPDATE_ROWS event (binlog_row_value_options=PARTIAL_JSON): ` +
          'its JSON updates are logged as diffs, not row images, so undo cannot reverse it. Nothing was changed; restore ' +
          'the table as of before the transaction instead',
      );
    }
    const kind = rowsEventKind(e.typeCode);
    if (!kind) continue;
    const map = byId.get(rowsEventTableId(e));
    if (!map) {
      throw new CorruptDataError(
        file,
        e.offset,
        'a rows event refers to a table id with no TABLE_MAP before it in its transaction',
      );
    }
    const name = tableName(map.database, map.table);
    if (onlyTable && name.toLowerCase() !== onlyTable) continue;
    tableMaps.set(name, map);
    let data;
    try {
      data = decodeRowsEvent(e, map);
    } catch (err) {
      if (!(err instanceof BinlogFormatError)) throw err;
      throw new UndoRefusedError(
        'undecodable-rows',
        `the row images of ${name} in the transaction at ${file}:${startOffset} cannot be decoded: ${err.message} ` +
          'Nothing was changed; restore the table as of before the transaction instead',
        { cause: err, table: name },
      );
    }
    for (const row of data.rows) {
      trx.changes.push({ table: name, kind, before: row.before, after: row.after, file, offset: e.offset });
    }
  }
  return trx;
}
