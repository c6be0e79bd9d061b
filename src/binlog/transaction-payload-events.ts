// The events inside a TRANSACTION_PAYLOAD_EVENT (MySQL 8.0.20+ binlog_transaction_compression).
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Transaction__payload__event.html
//
// The decompressed payload is a sequence of ordinary events (BEGIN, TABLE_MAP, rows..., XID) without
// checksum trailers: the enclosing event's CRC32 covers them.

import type { BinlogEvent } from './binlog-event.js';
import { BinlogEventParser } from './binlog-event-parser.js';
import { BinlogFormatError } from './binlog-format-error.js';
import { EventType } from './event-type.js';
import { PayloadCompression } from './transaction-payload-event.js';

/**
 * Decompresses a TRANSACTION_PAYLOAD event with the decompressor of its parser and parses the
 * events inside. Their offsets count from the start of the uncompressed payload.
 *
 * @throws BinlogFormatError (BINLOG_FORMAT) when no decompressor was given for a compressed payload;
 *   CorruptDataError when the payload does not decompress to its declared size or to whole events
 */
export function transactionPayloadEvents(event: BinlogEvent): BinlogEvent[] {
  const data = event.data;
  if (data?.kind !== 'transaction-payload' || event.typeCode !== EventType.TRANSACTION_PAYLOAD) {
    throw new TypeError(
      `transactionPayloadEvents: event at ${event.offset} is ${event.typeName}, not TRANSACTION_PAYLOAD`,
    );
  }
  const object = `${event.context.object} (TRANSACTION_PAYLOAD at offset ${event.offset})`;
  let bytes = data.payload;
  if (data.compressionType !== PayloadCompression.NONE) {
    const decompress = event.context.decompress;
    if (!decompress) {
      throw new BinlogFormatError(
        event.context.object,
        event.offset,
        `TRANSACTION_PAYLOAD with compression type ${data.compressionType} and no decompressor configured`,
      );
    }
    bytes = decompress(data.payload, data.compressionType, data.uncompressedSize);
  }
  if (data.uncompressedSize && bytes.length !== data.uncompressedSize) {
    throw event
      .bodyReader('TRANSACTION_PAYLOAD event')
      .corrupt(`payload decompressed to ${bytes.length} bytes, the event declares ${data.uncompressedSize}`);
  }
  const parser = new BinlogEventParser({
    object,
    mode: 'payload',
    startOffset: 0,
    formatDescription: event.context.fde ?? undefined,
  });
  const events = parser.push(bytes);
  parser.end();
  return events;
}
