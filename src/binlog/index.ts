export {
  BinlogEventParser,
  FIRST_EVENT_OFFSET,
  type BinlogEventParserOptions,
  type BinlogParserMode,
} from './binlog-event-parser.js';
export { BinlogEvent, type EventContext, type PayloadDecompressor } from './binlog-event.js';
export { BinlogFormatError } from './binlog-format-error.js';
export { FramedEventReader, type FramedEventReaderOptions } from './framed-event-reader.js';
export { BinlogChecksumAlg, type ChecksumAlgorithm, crc32, eventCrc32Matches } from './binlog-checksum.js';
export type { EventData, FormatDescriptionEventData, StopEventData } from './decode-event-data.js';
export {
  BINLOG_MAGIC,
  CHECKSUM_SIZE,
  ENCRYPTED_BINLOG_MAGIC,
  EVENT_HEADER_SIZE,
  LOG_EVENT_ARTIFICIAL_F,
  LOG_EVENT_BINLOG_IN_USE_F,
  readEventHeader,
  type EventHeader,
} from './event-header.js';
export { EventType, eventTypeName, type EventTypeCode } from './event-type.js';
export { postHeaderLength, type FormatDescription, type ServerFlavor } from './format-description-event.js';
export {
  QueryFlags2,
  QueryStatusCode,
  type QueryEventData,
  type QueryStatementKind,
  type QueryStatusVars,
} from './query-event.js';
export { IntvarType, type IntvarEventData } from './intvar-event.js';
export type { RandEventData } from './rand-event.js';
export { UserVarType, binaryDecimalToString, type UserVarEventData } from './user-var-event.js';
export { readRotateEvent, hasValidCrc32, type RotateEvent, type RotateEventData } from './rotate-event.js';
export type { XidEventData } from './xid-event.js';
export type { XaPrepareEventData } from './xa-prepare-event.js';
export {
  BINARY_COLLATION,
  ColumnType,
  decodeTableMapColumns,
  type TableMapColumn,
  type TableMapColumns,
  type TableMapEventData,
} from './table-map-event.js';
export {
  decodeRowsEvent,
  rowsEventKind,
  rowsEventTableId,
  type RowChange,
  type RowImage,
  type RowsEventData,
  type RowsEventKind,
} from './rows-event.js';
export { decodeColumnValue, decodeDecimal, intValue, type ColumnValue } from './column-value-decoder.js';
export { decodeMysqlJson } from './mysql-json-decoder.js';
export type { RowsQueryEventData } from './rows-query-event.js';
export { formatUuid, type MysqlGtidEventData } from './gtid-event.js';
export type { PreviousGtidsEventData } from './previous-gtids-event.js';
export { MariadbGtidFlags, type MariadbGtidEventData } from './mariadb-gtid-event.js';
export type { MariadbGtidListEventData } from './mariadb-gtid-list-event.js';
export type { BinlogCheckpointEventData } from './binlog-checkpoint-event.js';
export type { HeartbeatEventData } from './heartbeat-event.js';
export { Incident, type IncidentEventData } from './incident-event.js';
export { PayloadCompression, type TransactionPayloadEventData } from './transaction-payload-event.js';
export { transactionPayloadEvents } from './transaction-payload-events.js';
export {
  TransactionTracker,
  type BinlogTransaction,
  type OpenTransaction,
  type TransactionEnd,
} from './transaction-tracker.js';
