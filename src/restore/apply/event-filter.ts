// The plug-in point of the event applier: which events apply, and under which schema name.
// TABLE_MAP layout: https://mariadb.com/kb/en/table_map_event/ and
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
// (post-header table_id and flags, then db_len uint8, db, NUL, table_len uint8, table, NUL, metadata).

import {
  EventType,
  crc32,
  postHeaderLength,
  type BinlogEvent,
  type QueryEventData,
  type TableMapEventData,
} from '../../binlog/index.js';
import { PitrError } from '../../errors/index.js';

/** What to do with a QUERY event's statement. */
export type QueryDecision =
  /** Apply it; `schema` replaces the default database, `statement` the statement's bytes. */
  { apply: true; schema?: string; statement?: Buffer } | { apply: false };

/**
 * Decides, event by event, what the EventBinlogApplier applies. The applier calls it for every
 * TABLE_MAP and QUERY event of the range, in binlog order. Rows events follow their TABLE_MAP's
 * decision (a dropped table's rows are dropped, a rewritten table's rows go with the rewritten map).
 * Transaction control (BEGIN, COMMIT, XID, XA) always applies and is not asked about.
 */
export interface EventFilter {
  /**
   * @returns the TABLE_MAP event to apply (`event.raw`, or a rewritten copy such as
   *   rewriteTableMapDatabase gives), or undefined to drop this table's rows events
   */
  tableMap(event: BinlogEvent, map: TableMapEventData): Buffer | undefined;
  /** Whether (and how) to apply a statement other than transaction control. */
  query(event: BinlogEvent, query: QueryEventData): QueryDecision;
}

/** TABLE_MAP post-header length when the FORMAT_DESCRIPTION does not say (binlog v4). */
const TABLE_MAP_HEADER_LEN = 8;

/** Longest schema name a TABLE_MAP can carry (its length is one byte; servers allow 64 characters). */
const MAX_NAME_BYTES = 255;

/**
 * A copy of the TABLE_MAP `event` naming database `database` instead of its own: the name and its
 * length byte replaced, the event size in the header updated, and the CRC32 trailer recomputed
 * when the event has one. Everything else (table id, flags, table name, column metadata) is kept
 * byte for byte.
 *
 * @throws PitrError USAGE for a name longer than 255 bytes; CorruptDataError for a malformed event
 */
export function rewriteTableMapDatabase(event: BinlogEvent, database: string): Buffer {
  const raw = event.raw;
  const name = Buffer.from(database, 'utf8');
  if (name.length > MAX_NAME_BYTES || name.length === 0) {
    throw new PitrError('USAGE', `schema name "${database}" must be 1 to ${MAX_NAME_BYTES} bytes of UTF-8`);
  }
  // db_len follows the post-header (6 bytes in MySQL < 5.1.4, else 8)
  const start =
    event.bodyStart + (postHeaderLength(event.context.fde, EventType.TABLE_MAP) || TABLE_MAP_HEADER_LEN);
  const r = event.bodyReader('TABLE_MAP event');
  r.skip(start - event.bodyStart);
  const oldLength = r.u8();
  r.skip(oldLength + 1);
  const rest = start + 1 + oldLength + 1; // table_len onwards
  const trailer = event.checksumSize;
  const out = Buffer.concat([
    raw.subarray(0, start),
    Buffer.from([name.length]),
    name,
    Buffer.from([0]),
    raw.subarray(rest, raw.length - trailer),
    Buffer.alloc(trailer),
  ]);
  out.writeUInt32LE(out.length, 9); // event_size in the common header
  if (trailer > 0)
    out.writeUInt32LE(crc32(out.subarray(0, out.length - trailer)) >>> 0, out.length - trailer);
  return out;
}

/** `db.table` names, and where each database goes. */
export interface TableFilterOptions {
  /** Tables to apply (`{ database, table }`); rows and statements of others are dropped. */
  tables: readonly { database: string; table: string }[];
  /** Database name -> the name to restore it under (default: its own). */
  renameDatabase?: ReadonlyMap<string, string>;
  /**
   * Decides on statements (DDL and statement-based DML); default: drop every statement, apply only
   * rows events. A table-level restore passes one that recognises DDL on its tables and rewrites it.
   */
  query?: (event: BinlogEvent, query: QueryEventData) => QueryDecision;
}

/**
 * An EventFilter for a table-level restore: rows events of the listed tables only, their
 * TABLE_MAPs rewritten to the renamed database; statements as `options.query` decides.
 */
export class TableEventFilter implements EventFilter {
  private readonly keep: Set<string>;

  constructor(private readonly options: TableFilterOptions) {
    this.keep = new Set(options.tables.map((t) => `${t.database}\u0000${t.table}`));
  }

  tableMap(event: BinlogEvent, map: TableMapEventData): Buffer | undefined {
    if (!this.keep.has(`${map.database}\u0000${map.table}`)) return undefined;
    const to = this.options.renameDatabase?.get(map.database);
    return to === undefined || to === map.database ? event.raw : rewriteTableMapDatabase(event, to);
  }

  query(event: BinlogEvent, query: QueryEventData): QueryDecision {
    return this.options.query ? this.options.query(event, query) : { apply: false };
  }
}
