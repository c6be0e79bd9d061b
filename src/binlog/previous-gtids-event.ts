// PREVIOUS_GTIDS_LOG_EVENT (type 35, MySQL 5.6+): gtid_executed as of the start of the file
// (the GTIDs of all earlier files), written after the FORMAT_DESCRIPTION_EVENT.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Previous__gtids__event.html
//
// Body (Gtid_set::encode): n_sids uint64, whose top byte is the format (0 untagged; 1 tagged, 8.3+,
// then n_sids is bits 8..55); per sid: uuid byte[16], [tagged: tag length (variable-length integer)
// and tag], n_intervals uint64, intervals of (start int64, end int64 exclusive).

import type { BinlogEvent } from './binlog-event.js';
import { formatUuid } from './gtid-event.js';
import { MysqlGtidSet, type GnoInterval } from '../gtid/mysql-gtid-set.js';

/** Format byte of the tagged encoding (top byte of n_sids). */
const GTID_FORMAT_TAGGED = 1;
/** Format byte of the classic encoding. */
const GTID_FORMAT_UNTAGGED = 0;
/** Bytes per interval: start and end, int64 each. */
const INTERVAL_SIZE = 16;

/** Decoded PREVIOUS_GTIDS event. */
export interface PreviousGtidsEventData {
  kind: 'previous-gtids';
  /** The GTID set of all earlier files. */
  gtids: MysqlGtidSet;
}

/** @throws CorruptDataError when counts or intervals are impossible */
export function decodePreviousGtidsEvent(event: BinlogEvent): PreviousGtidsEventData {
  const r = event.bodyReader('PREVIOUS_GTIDS event');
  const header = r.u64Big();
  const format = Number(header >> 56n);
  let nSids: number;
  if (format === GTID_FORMAT_UNTAGGED) nSids = Number(header);
  else if (format === GTID_FORMAT_TAGGED) nSids = Number((header >> 8n) & 0xffffffffffffn);
  else throw r.corrupt(`unknown GTID set format ${format}`);
  const entries: { uuid: string; tag: string; intervals: GnoInterval[] }[] = [];
  for (let i = 0; i < nSids; i++) {
    const uuid = formatUuid(r.bytes(16));
    const tag = format === GTID_FORMAT_TAGGED ? r.string(r.varlenUint('tag length')) : '';
    const nIntervals = r.u64('n_intervals');
    r.need(nIntervals * INTERVAL_SIZE);
    const intervals: GnoInterval[] = [];
    for (let j = 0; j < nIntervals; j++) {
      const start = r.i64('interval start');
      const endExclusive = r.i64('interval end');
      if (start < 1 || endExclusive <= start)
        throw r.corrupt(`impossible interval [${start}, ${endExclusive})`);
      intervals.push({ start, end: endExclusive - 1 });
    }
    entries.push({ uuid, tag, intervals });
  }
  return { kind: 'previous-gtids', gtids: MysqlGtidSet.fromEntries(entries) };
}
