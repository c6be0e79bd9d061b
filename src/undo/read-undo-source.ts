import {
  BinlogEventParser,
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
import { compareBinlogFiles, readBinlogCatalog } from '../catalog/index.js';
import { PitrError } from '../errors/index.js';
import { readArchivedSegments } from '../restore/index.js';
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
}

const DDL_RE = /^\s*(?:\/\*.*?\*\/\s*)*(ALTER|DROP|TRUNCATE|RENAME|CREATE|OPTIMIZE|REPAIR)\b/is;

/**
 * Streams one timeline of the archive (segments verified, prefetched) and collects the row changes of
 * the selected transactions, decoded with their TABLE_MAP definitions, and every DDL statement from
 * the first selected transaction to the end of the archive.
 *
 * @throws PitrError TARGET_OUT_OF_RANGE when the archive is empty or a GTID is not in it;
 *   CorruptDataError / ChecksumMismatchError / BinlogFormatError for damaged or unreadable data
 */
export async function readUndoSource(
  store: ObjectStore,
  selection: UndoSelection,
  opts: { timeline?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<UndoSource> {
  const catalog = await readBinlogCatalog(store, {
    headers: true,
    ...(opts.timeline ? { timeline: opts.timeline } : {}),
  });
  const timeline = opts.timeline
    ? catalog.timelines.find((t) => t.id === opts.timeline)
    : catalog.timelines.filter((t) => t.segments.length > 0).at(-1);
  if (!timeline || timeline.segments.length === 0) {
    throw new PitrError(
      'TARGET_OUT_OF_RANGE',
      opts.timeline
        ? `timeline ${opts.timeline} has no archived binlogs in ${store.describe()}; \`mysql-pitr binlog list\` shows the timelines`
        : `no archived binlogs in ${store.describe()}; run \`mysql-pitr archive\` against the source first`,
    );
  }
  const wanted = 'gtids' in selection ? new Set(selection.gtids) : undefined;
  const table = 'table' in selection ? selection.table.toLowerCase() : undefined;
  const found = new Set<string>();
  const transactions: UndoTransaction[] = [];
  const tableMaps = new Map<string, TableMapColumns>();
  const ddl: DdlStatement[] = [];
  const files = [...new Set(timeline.segments.map((s) => s.file))].sort(compareBinlogFiles);

  for (const file of files) {
    const segs = timeline.segments.filter((s) => s.file === file && s.header);
    if (table && transactions.length === 0 && 'from' in selection) {
      const last = [...segs].reverse().find((s) => s.header!.lastCommit)?.header!.lastCommit;
      if (last && Date.parse(last) < selection.from) continue;
    }
    const parser = new BinlogEventParser({ object: `${timeline.id}/${file}` });
    const tracker = new TransactionTracker(file, { tables: false });
    let events: BinlogEvent[] = [];
    const refs = segs.map((s) => ({ key: s.key, start: s.start, end: s.header!.end }));
    for await (const bytes of readArchivedSegments(store, refs)) {
      opts.signal?.throwIfAborted();
      for (const e of parser.push(bytes)) {
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
        const trx = collect(group, t.gtid, file, t.startOffset, t.endOffset, commitTime, tableMaps, table);
        if (table && trx.changes.length === 0) continue;
        if (t.gtid) found.add(t.gtid);
        transactions.push(trx);
      }
    }
  }
  if (wanted) {
    const missing = [...wanted].filter((g) => !found.has(g));
    if (missing.length > 0) {
      throw new PitrError(
        'TARGET_OUT_OF_RANGE',
        `GTID ${missing.join(', ')} is not in the archive of timeline ${timeline.id} (${store.describe()}); ` +
          'find the transaction with `mysql-pitr timeline search --table DB.TBL` and check the GTID',
      );
    }
  }
  return { timeline: timeline.id, transactions, tableMaps, ddl };
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
      throw new PitrError(
        'UNDO_REFUSED',
        `the transaction at ${file}:${startOffset} has a PARTIAL_UPDATE_ROWS event (binlog_row_value_options=PARTIAL_JSON): ` +
          'its JSON updates are logged as diffs, not row images, so undo cannot reverse it. Nothing was changed; restore ' +
          'the table as of before the transaction instead',
      );
    }
    const kind = rowsEventKind(e.typeCode);
    if (!kind) continue;
    const map = byId.get(rowsEventTableId(e));
    if (!map) {
      throw new PitrError(
        'CORRUPT_DATA',
        `the rows event at ${file}:${e.offset} refers to a table id with no TABLE_MAP before it in its transaction`,
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
        `the row images of ${name} in the transaction at ${file}:${startOffset} cannot be decoded: ${err.message} ` +
          'Nothing was changed; restore the table as of before the transaction instead',
        { cause: err },
      );
    }
    for (const row of data.rows) {
      trx.changes.push({ table: name, kind, before: row.before, after: row.after, file, offset: e.offset });
    }
  }
  return trx;
}
