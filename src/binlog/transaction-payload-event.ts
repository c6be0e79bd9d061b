// TRANSACTION_PAYLOAD_EVENT (type 40, MySQL 8.0.20+ with binlog_transaction_compression=ON): a whole
// transaction's events, compressed, after its GTID event.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Transaction__payload__event.html
//
// Body: header fields as (type, length, value) with packed integers, the values packed integers too:
// 1 = payload size, 2 = compression type (0 = ZSTD, 255 = NONE), 3 = uncompressed size, 0 = end of
// header; then the payload bytes to the end of the body.

import type { BinlogEvent } from './binlog-event.js';

/** Header field types. */
const PayloadField = { END: 0, PAYLOAD_SIZE: 1, COMPRESSION_TYPE: 2, UNCOMPRESSED_SIZE: 3 } as const;

/** Compression types of the payload (mysql::binlog::event::compression::type). */
export const PayloadCompression = {
  ZSTD: 0,
  NONE: 255,
} as const;

/** Decoded TRANSACTION_PAYLOAD event (the payload itself is not expanded here). */
export interface TransactionPayloadEventData {
  kind: 'transaction-payload';
  /** See PayloadCompression. */
  compressionType: number;
  /** Size of the events once decompressed. */
  uncompressedSize: number;
  /** The compressed payload (a subarray of the event's raw bytes). */
  payload: Buffer;
}

/** @throws CorruptDataError when the header fields are malformed or the payload size is wrong */
export function decodeTransactionPayloadEvent(event: BinlogEvent): TransactionPayloadEventData {
  const r = event.bodyReader('TRANSACTION_PAYLOAD event');
  let payloadSize: number | undefined;
  let compressionType: number = PayloadCompression.NONE;
  let uncompressedSize = 0;
  for (;;) {
    const type = r.packedInt('field type');
    if (type === PayloadField.END) break;
    const length = r.packedInt('field length');
    r.need(length);
    const valueEnd = r.pos + length;
    if (type === PayloadField.PAYLOAD_SIZE) payloadSize = r.packedInt('payload size');
    else if (type === PayloadField.COMPRESSION_TYPE) compressionType = r.packedInt('compression type');
    else if (type === PayloadField.UNCOMPRESSED_SIZE) uncompressedSize = r.packedInt('uncompressed size');
    if (r.pos > valueEnd) throw r.corrupt(`header field ${type} is longer than its declared ${length} bytes`);
    r.pos = valueEnd;
  }
  if (payloadSize !== undefined && payloadSize !== r.remaining) {
    throw r.corrupt(`payload size field says ${payloadSize} bytes but ${r.remaining} follow`);
  }
  return { kind: 'transaction-payload', compressionType, uncompressedSize, payload: r.bytes(r.remaining) };
}
