// MySQL GTID_LOG_EVENT (33), ANONYMOUS_GTID_LOG_EVENT (34) and GTID_TAGGED_LOG_EVENT (42, 8.3+):
// the first event of every transaction on MySQL 5.6+ (anonymous when gtid_mode=OFF).
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Gtid__event.html
// Serialization format of GTID_TAGGED:
// https://dev.mysql.com/doc/dev/mysql-server/latest/PageLibsMysqlSerialization.html
//
// Types 33/34, fixed layout:
//   gtid_flags uint8, sid byte[16], gno int64                             (5.6: nothing more)
//   lt_type uint8 (= 2), last_committed int64, sequence_number int64      (5.7.6+)
//   immediate_commit_timestamp uint56 (bit 55 set: original_commit_timestamp uint56 follows) (8.0.1+)
//   transaction_length packed int                                         (8.0.2+)
//   immediate_server_version uint32 (bit 31 set: original_server_version uint32 follows)      (8.0.14+)
// Type 42: a format byte (0x02), then a serialized message: payload_size, last_non_ignorable_field_id
// (variable-length integers), then (field_id, value) pairs; see TaggedField below.

import type { BinlogEvent } from './binlog-event.js';
import { EventType } from './event-type.js';

/** Logical clock type code that introduces last_committed/sequence_number. */
const LOGICAL_TIMESTAMP_TYPECODE = 2;
/** Bit 55 of immediate_commit_timestamp: original_commit_timestamp follows. */
const ORIGINAL_COMMIT_TIMESTAMP_FOLLOWS = 2 ** 55;
/** Bit 31 of immediate_server_version: original_server_version follows. */
const ORIGINAL_SERVER_VERSION_FOLLOWS = 0x80000000;
/** First byte of a GTID_TAGGED body (the serialization format version). */
const TAGGED_FORMAT_BYTE = 0x02;
/** Size of the sid (server uuid). */
const SID_LENGTH = 16;

/** Field ids of the GTID_TAGGED message (Gtid_event's field definitions, in order). */
const TaggedField = {
  GTID_FLAGS: 0,
  SID: 1,
  GNO: 2,
  TAG: 3,
  LAST_COMMITTED: 4,
  SEQUENCE_NUMBER: 5,
  IMMEDIATE_COMMIT_TIMESTAMP: 6,
  ORIGINAL_COMMIT_TIMESTAMP: 7,
  TRANSACTION_LENGTH: 8,
  IMMEDIATE_SERVER_VERSION: 9,
  ORIGINAL_SERVER_VERSION: 10,
  COMMIT_GROUP_TICKET: 11,
} as const;

/** Decoded MySQL GTID, ANONYMOUS_GTID or GTID_TAGGED event. */
export interface MysqlGtidEventData {
  kind: 'mysql-gtid';
  /** False for ANONYMOUS_GTID (gtid_mode=OFF): then uuid is all zeros and gno 0. */
  hasGtid: boolean;
  /** gtid_flags; bit 0 = the transaction may contain statement-based events. */
  flags: number;
  /** server_uuid of the origin, lowercase with dashes. */
  uuid: string;
  /** GTID tag (GTID_TAGGED only), '' otherwise. */
  tag: string;
  /** Transaction number. */
  gno: number;
  /** Commit parent for multi-threaded replicas; undefined before MySQL 5.7.6. */
  lastCommitted: number | undefined;
  /** Logical timestamp of the transaction; undefined before MySQL 5.7.6. */
  sequenceNumber: number | undefined;
  /** Commit time on the server that wrote this binlog, microseconds since the epoch (8.0.1+). */
  immediateCommitTimestamp: number | undefined;
  /** Commit time on the origin server, microseconds since the epoch (8.0.1+). */
  originalCommitTimestamp: number | undefined;
  /** Bytes of the whole transaction including this event (8.0.2+); 0 or undefined when unknown. */
  transactionLength: number | undefined;
  /** Version of the server that wrote the event, e.g. 80045 (8.0.14+). */
  immediateServerVersion: number | undefined;
  /** Version of the origin server (8.0.14+). */
  originalServerVersion: number | undefined;
}

/** Formats 16 bytes as a lowercase uuid with dashes. */
export function formatUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** @throws CorruptDataError when the body is too short or a field is out of range */
export function decodeGtidEvent(event: BinlogEvent): MysqlGtidEventData {
  if (event.typeCode === EventType.GTID_TAGGED) return decodeTaggedGtidEvent(event);
  const r = event.bodyReader(event.typeCode === EventType.GTID ? 'GTID event' : 'ANONYMOUS_GTID event');
  const data: MysqlGtidEventData = {
    kind: 'mysql-gtid',
    hasGtid: event.typeCode === EventType.GTID,
    flags: r.u8(),
    uuid: formatUuid(r.bytes(SID_LENGTH)),
    tag: '',
    gno: r.i64('gno'),
    lastCommitted: undefined,
    sequenceNumber: undefined,
    immediateCommitTimestamp: undefined,
    originalCommitTimestamp: undefined,
    transactionLength: undefined,
    immediateServerVersion: undefined,
    originalServerVersion: undefined,
  };
  if (r.remaining === 0 || r.buf[r.pos] !== LOGICAL_TIMESTAMP_TYPECODE) return data;
  r.skip(1);
  data.lastCommitted = r.i64('last_committed');
  data.sequenceNumber = r.i64('sequence_number');
  if (r.remaining >= 7) {
    let immediate = r.u56();
    let original = immediate;
    if (immediate >= ORIGINAL_COMMIT_TIMESTAMP_FOLLOWS) {
      immediate -= ORIGINAL_COMMIT_TIMESTAMP_FOLLOWS;
      original = r.u56();
    }
    data.immediateCommitTimestamp = immediate;
    data.originalCommitTimestamp = original;
  }
  if (r.remaining > 0) data.transactionLength = r.packedInt('transaction_length');
  if (r.remaining >= 4) {
    let immediate = r.u32();
    let original = immediate;
    if (immediate >= ORIGINAL_SERVER_VERSION_FOLLOWS) {
      immediate -= ORIGINAL_SERVER_VERSION_FOLLOWS;
      original = r.u32();
    }
    data.immediateServerVersion = immediate;
    data.originalServerVersion = original;
  }
  return data;
}

function decodeTaggedGtidEvent(event: BinlogEvent): MysqlGtidEventData {
  const r = event.bodyReader('GTID_TAGGED event');
  const format = r.u8();
  if (format !== TAGGED_FORMAT_BYTE)
    throw r.corrupt(`unknown serialization format byte 0x${format.toString(16)}`);
  const messageStart = r.pos - 1;
  const payloadSize = r.varlenUint('payload_size');
  const lastNonIgnorable = r.varlenUint('last_non_ignorable_field_id');
  const end = messageStart + payloadSize;
  if (end > r.end || end < r.pos) throw r.corrupt(`payload size ${payloadSize} does not fit the event body`);
  const data: MysqlGtidEventData = {
    kind: 'mysql-gtid',
    hasGtid: true,
    flags: 0,
    uuid: '',
    tag: '',
    gno: 0,
    lastCommitted: undefined,
    sequenceNumber: undefined,
    immediateCommitTimestamp: undefined,
    originalCommitTimestamp: undefined,
    transactionLength: undefined,
    immediateServerVersion: undefined,
    originalServerVersion: undefined,
  };
  while (r.pos < end) {
    const field = r.varlenUint('field id');
    switch (field) {
      case TaggedField.GTID_FLAGS:
        data.flags = r.varlenUint('gtid_flags');
        break;
      case TaggedField.SID: {
        const sid = new Uint8Array(SID_LENGTH);
        for (let i = 0; i < SID_LENGTH; i++) sid[i] = r.varlenUint('sid byte') & 0xff;
        data.uuid = formatUuid(sid);
        break;
      }
      case TaggedField.GNO:
        data.gno = r.varlenInt('gno');
        break;
      case TaggedField.TAG:
        data.tag = r.string(r.varlenUint('tag length')).toLowerCase();
        break;
      case TaggedField.LAST_COMMITTED:
        data.lastCommitted = r.varlenInt('last_committed');
        break;
      case TaggedField.SEQUENCE_NUMBER:
        data.sequenceNumber = r.varlenInt('sequence_number');
        break;
      case TaggedField.IMMEDIATE_COMMIT_TIMESTAMP:
        data.immediateCommitTimestamp = r.varlenUint('immediate_commit_timestamp');
        break;
      case TaggedField.ORIGINAL_COMMIT_TIMESTAMP:
        data.originalCommitTimestamp = r.varlenUint('original_commit_timestamp');
        break;
      case TaggedField.TRANSACTION_LENGTH:
        data.transactionLength = r.varlenUint('transaction_length');
        break;
      case TaggedField.IMMEDIATE_SERVER_VERSION:
        data.immediateServerVersion = r.varlenUint('immediate_server_version');
        break;
      case TaggedField.ORIGINAL_SERVER_VERSION:
        data.originalServerVersion = r.varlenUint('original_server_version');
        break;
      case TaggedField.COMMIT_GROUP_TICKET:
        r.varlenUint('commit_group_ticket');
        break;
      default:
        if (field <= lastNonIgnorable) throw r.corrupt(`unknown non-ignorable field ${field}`);
        // An ignorable field of a newer server: its length is unknown, so stop here.
        r.pos = end;
    }
  }
  if (r.pos > end) throw r.corrupt('the last field runs past the declared payload size');
  data.originalCommitTimestamp ??= data.immediateCommitTimestamp;
  data.originalServerVersion ??= data.immediateServerVersion;
  return data;
}
