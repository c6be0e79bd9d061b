// RAND_EVENT (type 13): the seeds of RAND() for the next statement-based statement.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rand__event.html
// https://mariadb.com/kb/en/rand_event/
//
// Body: seed1 uint64, seed2 uint64.

import type { BinlogEvent } from './binlog-event.js';

/** Decoded RAND_EVENT: replayed as `SET @@RAND_SEED1 = seed1, @@RAND_SEED2 = seed2`. */
export interface RandEventData {
  kind: 'rand';
  seed1: bigint;
  seed2: bigint;
}

/** @throws CorruptDataError when the body is shorter than 16 bytes */
export function decodeRandEvent(event: BinlogEvent): RandEventData {
  const r = event.bodyReader('RAND event');
  const seed1 = r.u64Big();
  return { kind: 'rand', seed1, seed2: r.u64Big() };
}
