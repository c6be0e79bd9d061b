// MariaDB GTID_EVENT (type 162, MariaDB 10.0+): starts every event group (transaction or DDL).
// https://mariadb.com/kb/en/gtid_event/
//
// Body: seq_no uint64, domain_id uint32, flags2 uint8;
//   with FL_GROUP_COMMIT_ID: commit_id uint64;
//   with FL_PREPARED_XA or FL_COMPLETED_XA: format_id uint32, gtrid_length uint8, bqual_length uint8, data;
//   otherwise the post-header is padded with zeros to 19 bytes;
//   then (10.5+, when bytes remain) flags_extra uint8 and fields it announces (not decoded here).
// The GTID's server_id is the event header's server_id.

import type { BinlogEvent } from './binlog-event.js';
import type { MariadbGtid } from '../gtid/mariadb-gtid-pos.js';

/** flags2 bits of MariaDB's Gtid_log_event. */
export const MariadbGtidFlags = {
  /** The group is one statement with no terminating COMMIT/XID (DDL, non-transactional). */
  STANDALONE: 0x01,
  /** commit_id follows: groups with the same commit_id were group-committed together. */
  GROUP_COMMIT_ID: 0x02,
  /** The group can be rolled back (transactional engines only). */
  TRANSACTIONAL: 0x04,
  /** Replicas may apply the group in parallel. */
  ALLOW_PARALLEL: 0x08,
  /** The transaction waited on a row lock on the source. */
  WAITED: 0x10,
  /** The group is DDL. */
  DDL: 0x20,
  /** First part of an XA transaction, ended by XA PREPARE. */
  PREPARED_XA: 0x40,
  /** XA COMMIT / XA ROLLBACK of a prepared XA transaction. */
  COMPLETED_XA: 0x80,
} as const;

/** The flags by name, once (this decoder runs once per transaction). */
const FLAG_ENTRIES: readonly (readonly [string, number])[] = Object.entries(MariadbGtidFlags);
/** Offset of server_id in the common header. */
const OFFSET_SERVER_ID = 5;

/** Decoded MariaDB GTID event. */
export interface MariadbGtidEventData {
  kind: 'mariadb-gtid';
  /** domain-server-seq of the transaction. */
  gtid: MariadbGtid;
  /** flags2, see MariadbGtidFlags. */
  flags: number;
  /** Group commit id, when FL_GROUP_COMMIT_ID is set. */
  commitId: bigint | undefined;
  /** The XA id as hex `gtrid,bqual,formatId`, for the XA flags. */
  xid: string | undefined;
  /** Names of the set flags, e.g. ['STANDALONE', 'DDL']. */
  flagNames: string[];
}

/** @throws CorruptDataError when the body is too short */
export function decodeMariadbGtidEvent(event: BinlogEvent): MariadbGtidEventData {
  const r = event.bodyReader('MariaDB GTID event');
  const seqNo = r.u64('seq_no');
  const domainId = r.u32();
  const flags = r.u8();
  let commitId: bigint | undefined;
  let xid: string | undefined;
  if (flags & MariadbGtidFlags.GROUP_COMMIT_ID) commitId = r.u64Big();
  if (flags & (MariadbGtidFlags.PREPARED_XA | MariadbGtidFlags.COMPLETED_XA)) {
    const formatId = r.u32();
    const gtridLength = r.u8();
    const bqualLength = r.u8();
    const gtrid = r.bytes(gtridLength).toString('hex');
    xid = `${gtrid},${r.bytes(bqualLength).toString('hex')},${formatId}`;
  }
  const flagNames: string[] = [];
  for (const [name, bit] of FLAG_ENTRIES) if (flags & bit) flagNames.push(name);
  return {
    kind: 'mariadb-gtid',
    // server_id of the common header (offset 5); decoding the whole header would cost more
    gtid: { domainId, serverId: event.raw.readUInt32LE(OFFSET_SERVER_ID), seqNo },
    flags,
    commitId,
    xid,
    flagNames,
  };
}
