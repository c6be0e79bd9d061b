// HEARTBEAT_LOG_EVENT (27) and HEARTBEAT_LOG_EVENT_V2 (41, MySQL 8.0.26+): sent by a source to an
// idle replica; never stored in a binlog file.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Heartbeat__event.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Heartbeat__event__v2.html
//
// v1 body: the current binlog file name (the header's log_pos is the position, 32-bit).
// v2 body: (type, length, value) fields with packed integers: 1 = file name, 2 = position
// (packed integer, 64-bit), 0 = end of the header fields.

import type { BinlogEvent } from './binlog-event.js';
import { EventType } from './event-type.js';

/** v2 field types. */
const HeartbeatField = { END: 0, LOG_FILENAME: 1, LOG_POSITION: 2 } as const;

/** Decoded heartbeat. */
export interface HeartbeatEventData {
  kind: 'heartbeat';
  /** The source's current binlog file. */
  file: string;
  /** The source's position in it (v1: the 32-bit header log_pos). */
  position: number;
}

/** @throws CorruptDataError when a v2 field runs past the body */
export function decodeHeartbeatEvent(event: BinlogEvent): HeartbeatEventData {
  const r = event.bodyReader(
    event.typeCode === EventType.HEARTBEAT ? 'HEARTBEAT event' : 'HEARTBEAT_V2 event',
  );
  if (event.typeCode === EventType.HEARTBEAT) {
    return { kind: 'heartbeat', file: r.string(r.remaining), position: event.header.logPos };
  }
  let file = '';
  let position = 0;
  while (r.remaining > 0) {
    const type = r.packedInt('field type');
    if (type === HeartbeatField.END) break;
    const length = r.packedInt('field length');
    const valueEnd = r.pos + length;
    r.need(length);
    if (type === HeartbeatField.LOG_FILENAME) file = r.string(length);
    else if (type === HeartbeatField.LOG_POSITION) position = r.packedInt('log position');
    r.pos = valueEnd;
  }
  return { kind: 'heartbeat', file, position };
}
