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
import { compareBinlogFiles, readBinlogCatalog } from '../catalog/index.js';
import { PitrError } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import { readArchivedSegments, type ScannedTransaction } from './apply/archived-segments.js';

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

/** Row counts and statements of the transaction being read. */
class TransactionRows {
  private readonly maps = new Map<number, TableMapColumns>();
  readonly counts = new Map<string, TableRowCounts>();
  statements: string[] = [];

  add(e: BinlogEvent): void {
    const text = statementOf(e);
    if (text !== undefined && this.statements.length < MAX_STATEMENTS) {
      this.statements.push(
        text.length > MAX_STATEMENT_CHARS ? `${text.slice(0, MAX_STATEMENT_CHARS)}...` : text,
      );
    }
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
 * Streams the archive of one timeline, file by file (segments prefetched, memory bounded), and
 * calls `onMatch` for every transaction that matches, with the rows it inserted, updated and deleted
 * per table (its rows events decoded). Files whose commit times lie wholly outside `from`/`to` are
 * skipped; the others are read from their start.
 *
 * @returns transactions examined
 * @throws PitrError TARGET_OUT_OF_RANGE for an unknown timeline or an empty archive; data/storage errors
 */
export async function searchTimeline(
  store: ObjectStore,
  q: TimelineSearchQuery,
  onMatch: (m: TimelineMatch) => void,
  signal?: AbortSignal,
): Promise<number> {
  const catalog = await readBinlogCatalog(store, {
    headers: true,
    ...(q.timeline ? { timeline: q.timeline } : {}),
  });
  const timeline = q.timeline
    ? catalog.timelines.find((t) => t.id === q.timeline)
    : catalog.timelines.filter((t) => t.segments.length > 0).at(-1);
  if (!timeline || timeline.segments.length === 0) {
    throw new PitrError(
      'TARGET_OUT_OF_RANGE',
      q.timeline
        ? `timeline ${q.timeline} has no archived binlogs in ${store.describe()}; \`mysql-pitr binlog list\` shows the timelines`
        : `no archived binlogs in ${store.describe()}; run \`mysql-pitr archive\` against the source first`,
    );
  }
  const table = q.table?.toLowerCase();
  const files = [...new Set(timeline.segments.map((s) => s.file))].sort(compareBinlogFiles);
  let examined = 0;
  for (const file of files) {
    const segs = timeline.segments.filter((s) => s.file === file && s.header);
    if (q.from !== undefined) {
      const last = [...segs].reverse().find((s) => s.header!.lastCommit)?.header!.lastCommit;
      if (last && Date.parse(last) < q.from) continue;
    }
    if (q.to !== undefined) {
      const first = segs.find((s) => s.header!.firstCommit)?.header!.firstCommit;
      if (first && Date.parse(first) > q.to + 999) continue;
    }
    const parser = new BinlogEventParser({ object: `${timeline.id}/${file}` });
    const tracker = new TransactionTracker(file, { tables: false });
    let rows = new TransactionRows();
    const refs = segs.map((s) => ({ key: s.key, start: s.start, end: s.header!.end }));
    for await (const bytes of readArchivedSegments(store, refs)) {
      signal?.throwIfAborted();
      for (const e of parser.push(bytes)) {
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
