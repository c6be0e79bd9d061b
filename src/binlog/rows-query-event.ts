// The statement text logged next to row events:
// - ROWS_QUERY_LOG_EVENT (type 29, MySQL 5.6+ with binlog_rows_query_log_events=ON):
//   https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rows__query__event.html
//   Body: length uint8 (the statement length truncated to 255, ignored), then the statement to the end.
// - ANNOTATE_ROWS_EVENT (type 160, MariaDB with binlog_annotate_row_events=ON, the default since 10.2):
//   https://mariadb.com/kb/en/annotate_rows_event/
//   Body: the statement, to the end.

import type { BinlogEvent } from './binlog-event.js';
import { EventType } from './event-type.js';

/** Decoded ROWS_QUERY (MySQL) or ANNOTATE_ROWS (MariaDB) event. */
export interface RowsQueryEventData {
  kind: 'rows-query';
  /** The SQL statement that produced the following row events. */
  statement: string;
}

/** @throws CorruptDataError when a ROWS_QUERY body is empty */
export function decodeRowsQueryEvent(event: BinlogEvent): RowsQueryEventData {
  const r = event.bodyReader(
    event.typeCode === EventType.ROWS_QUERY ? 'ROWS_QUERY event' : 'ANNOTATE_ROWS event',
  );
  if (event.typeCode === EventType.ROWS_QUERY) r.skip(1);
  return { kind: 'rows-query', statement: r.string(r.remaining) };
}
