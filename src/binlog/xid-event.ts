// XID_EVENT (type 16): commit of a transaction of a transactional engine (InnoDB), with its XA id.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1XID__event.html
// https://mariadb.com/kb/en/xid_event/
//
// Body: xid uint64 (no post-header).

import type { BinlogEvent } from './binlog-event.js';

/** Decoded XID_EVENT. */
export interface XidEventData {
  kind: 'xid';
  /** The internal XA transaction id (a bigint: it uses all 64 bits on busy servers). */
  xid: bigint;
}

/** @throws CorruptDataError when the body is shorter than 8 bytes */
export function decodeXidEvent(event: BinlogEvent): XidEventData {
  return { kind: 'xid', xid: event.bodyReader('XID event').u64Big() };
}
