// Dispatch from an event's type code to the decoder of its body.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html

import type { BinlogEvent } from './binlog-event.js';
import { type BinlogCheckpointEventData, decodeBinlogCheckpointEvent } from './binlog-checkpoint-event.js';
import { EventType } from './event-type.js';
import { decodeFormatDescriptionEvent, type FormatDescription } from './format-description-event.js';
import { decodeGtidEvent, type MysqlGtidEventData } from './gtid-event.js';
import { decodeIntvarEvent, type IntvarEventData } from './intvar-event.js';
import { decodeRandEvent, type RandEventData } from './rand-event.js';
import { decodeUserVarEvent, type UserVarEventData } from './user-var-event.js';
import { decodeHeartbeatEvent, type HeartbeatEventData } from './heartbeat-event.js';
import { decodeMariadbGtidEvent, type MariadbGtidEventData } from './mariadb-gtid-event.js';
import { decodeMariadbGtidListEvent, type MariadbGtidListEventData } from './mariadb-gtid-list-event.js';
import { decodePreviousGtidsEvent, type PreviousGtidsEventData } from './previous-gtids-event.js';
import { decodeQueryEvent, type QueryEventData } from './query-event.js';
import { decodeRotateEvent, type RotateEventData } from './rotate-event.js';
import { decodeRowsQueryEvent, type RowsQueryEventData } from './rows-query-event.js';
import { decodeTableMapEvent, type TableMapEventData } from './table-map-event.js';
import {
  decodeTransactionPayloadEvent,
  type TransactionPayloadEventData,
} from './transaction-payload-event.js';
import { decodeXaPrepareEvent, type XaPrepareEventData } from './xa-prepare-event.js';
import { decodeXidEvent, type XidEventData } from './xid-event.js';

/** A decoded FORMAT_DESCRIPTION_EVENT. */
export type FormatDescriptionEventData = FormatDescription & { kind: 'format-description' };

/** A STOP_EVENT (type 3, the server shut down; the file ends here): no body. */
export interface StopEventData {
  kind: 'stop';
}

/** The decoded body of every event type this layer understands, told apart by `kind`. */
export type EventData =
  | FormatDescriptionEventData
  | QueryEventData
  | RotateEventData
  | StopEventData
  | XidEventData
  | XaPrepareEventData
  | TableMapEventData
  | RowsQueryEventData
  | MysqlGtidEventData
  | PreviousGtidsEventData
  | MariadbGtidEventData
  | MariadbGtidListEventData
  | BinlogCheckpointEventData
  | TransactionPayloadEventData
  | HeartbeatEventData
  | IntvarEventData
  | RandEventData
  | UserVarEventData;

/**
 * Decodes the body of `event`, or returns undefined for types this layer does not decode (rows
 * events, INTVAR, unknown types: an archiver copies them by size).
 *
 * @throws CorruptDataError (CORRUPT_DATA) when the body is malformed; BinlogFormatError or
 *   ChecksumMismatchError for a bad FORMAT_DESCRIPTION_EVENT
 */
export function decodeEventData(event: BinlogEvent): EventData | undefined {
  switch (event.typeCode) {
    case EventType.FORMAT_DESCRIPTION:
      return {
        kind: 'format-description',
        ...decodeFormatDescriptionEvent(event.raw, event.context.object, event.offset),
      };
    case EventType.QUERY:
      return decodeQueryEvent(event);
    case EventType.ROTATE:
      return decodeRotateEvent(event);
    case EventType.STOP:
      return { kind: 'stop' };
    case EventType.XID:
      return decodeXidEvent(event);
    case EventType.XA_PREPARE:
      return decodeXaPrepareEvent(event);
    case EventType.TABLE_MAP:
      return decodeTableMapEvent(event);
    case EventType.ROWS_QUERY:
    case EventType.ANNOTATE_ROWS:
      return decodeRowsQueryEvent(event);
    case EventType.GTID:
    case EventType.ANONYMOUS_GTID:
    case EventType.GTID_TAGGED:
      return decodeGtidEvent(event);
    case EventType.PREVIOUS_GTIDS:
      return decodePreviousGtidsEvent(event);
    case EventType.MARIADB_GTID:
      return decodeMariadbGtidEvent(event);
    case EventType.MARIADB_GTID_LIST:
      return decodeMariadbGtidListEvent(event);
    case EventType.BINLOG_CHECKPOINT:
      return decodeBinlogCheckpointEvent(event);
    case EventType.TRANSACTION_PAYLOAD:
      return decodeTransactionPayloadEvent(event);
    case EventType.INTVAR:
      return decodeIntvarEvent(event);
    case EventType.RAND:
      return decodeRandEvent(event);
    case EventType.USER_VAR:
      return decodeUserVarEvent(event);
    case EventType.HEARTBEAT:
    case EventType.HEARTBEAT_V2:
      return decodeHeartbeatEvent(event);
    default:
      return undefined;
  }
}
