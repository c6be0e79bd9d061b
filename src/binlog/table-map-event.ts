// TABLE_MAP_EVENT (type 19): maps a table id to a database and table name before rows events.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
// https://mariadb.com/kb/en/table_map_event/
//
// Post-header (8, or 6 in old servers): table_id uint48 (uint32 when 6), flags uint16.
// Body: db_len uint8, db, 0x00, table_len uint8, table, 0x00, then column metadata (not decoded here).

import type { BinlogEvent } from './binlog-event.js';
import { EventType } from './event-type.js';
import { postHeaderLength } from './format-description-event.js';

/** Post-header length of servers with 4-byte table ids (MySQL < 5.1.4). */
const TABLE_MAP_HEADER_LEN_OLD = 6;

/** Decoded TABLE_MAP_EVENT (names only: the indexer searches transactions by table). */
export interface TableMapEventData {
  kind: 'table-map';
  /** The id the following rows events refer to (valid until the table is closed or altered). */
  tableId: number;
  /** Database (schema) name. */
  database: string;
  /** Table name. */
  table: string;
}

/** @throws CorruptDataError when the names run past the body */
export function decodeTableMapEvent(event: BinlogEvent): TableMapEventData {
  const r = event.bodyReader('TABLE_MAP event');
  const phl = postHeaderLength(event.context.fde, EventType.TABLE_MAP) || 8;
  const tableId = phl === TABLE_MAP_HEADER_LEN_OLD ? r.u32() : r.uintN(6);
  r.skip(phl - (phl === TABLE_MAP_HEADER_LEN_OLD ? 4 : 6));
  const database = r.string(r.u8());
  r.skip(1);
  const table = r.string(r.u8());
  r.skip(1);
  return { kind: 'table-map', tableId, database, table };
}
