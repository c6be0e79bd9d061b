// INTVAR_EVENT (type 5): the LAST_INSERT_ID() or the first auto-increment value (INSERT_ID) a
// statement-based statement used on the source; it precedes that QUERY event.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Intvar__event.html
// https://mariadb.com/kb/en/intvar_event/
//
// Body: type uint8, value uint64.

import type { BinlogEvent } from './binlog-event.js';

/** INTVAR types. */
export const IntvarType = {
  /** LAST_INSERT_ID() of the statement: `SET LAST_INSERT_ID = v` before it. */
  LAST_INSERT_ID: 1,
  /** The first auto-increment value the statement generated: `SET INSERT_ID = v` before it. */
  INSERT_ID: 2,
} as const;

/** Decoded INTVAR_EVENT. */
export interface IntvarEventData {
  kind: 'intvar';
  /** See IntvarType. */
  type: number;
  /** The value, unsigned 64-bit. */
  value: bigint;
}

/** @throws CorruptDataError when the body is shorter than 9 bytes */
export function decodeIntvarEvent(event: BinlogEvent): IntvarEventData {
  const r = event.bodyReader('INTVAR event');
  const type = r.u8();
  return { kind: 'intvar', type, value: r.u64Big() };
}
