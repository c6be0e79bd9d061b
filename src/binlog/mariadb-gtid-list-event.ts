// MariaDB GTID_LIST_EVENT (type 163, MariaDB 10.0+): the binlog state (last GTID of each
// domain/server pair) at the start of the file, written after the FORMAT_DESCRIPTION_EVENT.
// https://mariadb.com/kb/en/gtid_list_event/
//
// Body: count_and_flags uint32 (count in the low 28 bits, flags in the top 4), then count x
// (domain_id uint32, server_id uint32, seq_no uint64).

import type { BinlogEvent } from './binlog-event.js';
import { MariadbGtidPos, type MariadbGtid } from '../gtid/mariadb-gtid-pos.js';

/** The low 28 bits of count_and_flags are the count. */
const GTID_COUNT_MASK = 0x0fffffff;
/** Bytes per GTID. */
const GTID_ENTRY_SIZE = 16;

/** Decoded GTID_LIST event. */
export interface MariadbGtidListEventData {
  kind: 'mariadb-gtid-list';
  /** The GTIDs as listed (one per domain and server). */
  gtids: MariadbGtid[];
  /** The same reduced to one GTID per domain (the highest sequence number). */
  position: MariadbGtidPos;
  /** The top 4 bits of count_and_flags. */
  flags: number;
}

/** @throws CorruptDataError when the count does not fit the body */
export function decodeMariadbGtidListEvent(event: BinlogEvent): MariadbGtidListEventData {
  const r = event.bodyReader('MariaDB GTID_LIST event');
  const countAndFlags = r.u32();
  const count = countAndFlags & GTID_COUNT_MASK;
  r.need(count * GTID_ENTRY_SIZE);
  const gtids: MariadbGtid[] = [];
  for (let i = 0; i < count; i++) {
    const domainId = r.u32();
    const serverId = r.u32();
    gtids.push({ domainId, serverId, seqNo: r.u64('seq_no') });
  }
  return {
    kind: 'mariadb-gtid-list',
    gtids,
    position: MariadbGtidPos.fromGtids(gtids),
    flags: countAndFlags >>> 28,
  };
}
