// ROTATE_EVENT (type 4): the last event of a file that continues in another, or (from a source) the
// name of the file a dump continues in.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rotate__event.html
// https://mariadb.com/kb/en/rotate_event/
//
// Post-header (8): position uint64, the offset in the next file (4). Body: the next file name, to the end.

import type { BinlogEvent } from './binlog-event.js';

/** Decoded ROTATE_EVENT. */
export interface RotateEventData {
  kind: 'rotate';
  /** Where the next file continues (4 for a fresh file). */
  position: number;
  /** Name of the next binlog file, e.g. `mysql-bin.000124`. */
  nextFile: string;
}

/** @throws CorruptDataError when the body is shorter than the position field */
export function decodeRotateEvent(event: BinlogEvent): RotateEventData {
  const r = event.bodyReader('ROTATE event');
  const position = r.u64('position');
  return { kind: 'rotate', position, nextFile: r.string(r.remaining) };
}
