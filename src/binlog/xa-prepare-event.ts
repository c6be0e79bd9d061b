// XA_PREPARE_LOG_EVENT (type 38): ends the first part of an XA transaction (XA PREPARE), MySQL
// 5.7.7+ and MariaDB 10.5+.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1XA__prepare__event.html
//
// Body: one_phase uint8, format_id uint32, gtrid_length uint32, bqual_length uint32, data[gtrid+bqual].

import type { BinlogEvent } from './binlog-event.js';

/** Largest gtrid or bqual (XIDDATASIZE / 2). */
const MAX_XID_PART = 64;

/** Decoded XA_PREPARE_LOG_EVENT. */
export interface XaPrepareEventData {
  kind: 'xa-prepare';
  /** XA COMMIT ... ONE PHASE: the transaction is committed by this event. */
  onePhase: boolean;
  formatId: number;
  /** Global transaction id part, as hex. */
  gtrid: string;
  /** Branch qualifier part, as hex. */
  bqual: string;
}

/** @throws CorruptDataError when the lengths are impossible or run past the body */
export function decodeXaPrepareEvent(event: BinlogEvent): XaPrepareEventData {
  const r = event.bodyReader('XA_PREPARE event');
  const onePhase = r.u8() !== 0;
  const formatId = r.u32();
  const gtridLength = r.u32();
  const bqualLength = r.u32();
  if (gtridLength > MAX_XID_PART || bqualLength > MAX_XID_PART) {
    throw r.corrupt(`gtrid/bqual lengths ${gtridLength}/${bqualLength} exceed ${MAX_XID_PART}`);
  }
  const gtrid = r.bytes(gtridLength).toString('hex');
  const bqual = r.bytes(bqualLength).toString('hex');
  return { kind: 'xa-prepare', onePhase, formatId, gtrid, bqual };
}
