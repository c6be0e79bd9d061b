// One binlog event as the parser emits it: where it is, its raw bytes, and (lazily) its header and body.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
// https://mariadb.com/kb/en/1-binlog-events/

import { ByteReader } from './byte-reader.js';
import type { EventData } from './decode-event-data.js';
import { decodeEventData } from './decode-event-data.js';
import { CHECKSUM_SIZE, EVENT_HEADER_SIZE, type EventHeader, readEventHeader } from './event-header.js';
import { EventType, eventTypeName } from './event-type.js';
import type { FormatDescription } from './format-description-event.js';

/**
 * Expands a TRANSACTION_PAYLOAD: given the compressed payload, its compression type (0 = ZSTD,
 * 255 = NONE) and the uncompressed size the event declares, returns the uncompressed bytes. Injected
 * so this layer needs no zstd binding.
 */
export type PayloadDecompressor = (
  payload: Buffer,
  compressionType: number,
  uncompressedSize: number,
) => Buffer;

/** What decoding an event's body needs besides its bytes; one instance is shared by many events. */
export interface EventContext {
  /** File or stream name, for error messages. */
  readonly object: string;
  /** The FORMAT_DESCRIPTION_EVENT in force, if one has been seen or given. */
  readonly fde: FormatDescription | undefined;
  /** Bytes of checksum trailer on events other than the FDE: 4 with CRC32, else 0. */
  readonly checksumSize: number;
  /** Optional decompressor for TRANSACTION_PAYLOAD bodies. */
  readonly decompress?: PayloadDecompressor | undefined;
}

/**
 * A whole binlog event.
 *
 * Lifetime of `raw`: it is a subarray of the chunk passed to `BinlogEventParser.push()` (or of a
 * buffer the parser assembled when the event spanned chunks). It shares memory with that chunk, so
 * do not reuse or mutate a chunk while its events are in use, and copy `raw` (`Buffer.from(raw)`)
 * to keep an event longer than its chunk without pinning the whole chunk in memory.
 *
 * `header` and `data` are decoded on first access and cached.
 */
export class BinlogEvent {
  private cachedHeader: EventHeader | undefined;
  private cachedData: EventData | undefined | null = null;

  /**
   * @param offset 64-bit file offset of the event's first byte, counted by the reader
   * @param endOffset file offset just past the event; equals `offset` for events that are not part
   *   of the file (`inFile` false)
   * @param raw the whole event: header, body and checksum trailer
   * @param typeCode event type (byte 4 of the header), see EventType
   * @param inFile false for events a source sends that are not in its binlog file: heartbeats,
   *   artificial ROTATEs, the FORMAT_DESCRIPTION_EVENT re-sent when a dump starts past offset 4.
   *   Such events do not advance offsets and must not be written to an archived copy of the file.
   * @param context how to decode the body
   * @param data the body when the caller already decoded it (the parser does for FDEs)
   */
  constructor(
    readonly offset: number,
    readonly endOffset: number,
    readonly raw: Buffer,
    readonly typeCode: number,
    readonly inFile: boolean,
    readonly context: EventContext,
    data?: EventData,
  ) {
    if (data !== undefined) this.cachedData = data;
  }

  /** The decoded common header. */
  get header(): EventHeader {
    return (this.cachedHeader ??= readEventHeader(this.raw));
  }

  /** Header timestamp: seconds since the epoch (statement start; for a transaction's last event, its commit time). */
  get timestamp(): number {
    return this.raw.readUInt32LE(0);
  }

  /** Total event size in bytes. */
  get size(): number {
    return this.raw.length;
  }

  /** Bytes of checksum trailer on this event (4 with CRC32, else 0). */
  get checksumSize(): number {
    if (this.typeCode === EventType.FORMAT_DESCRIPTION) {
      const fde = this.data;
      return fde?.kind === 'format-description' && fde.checksumAlgorithm !== undefined ? CHECKSUM_SIZE : 0;
    }
    return this.context.checksumSize;
  }

  /** The event type's name, e.g. `QUERY`, `MARIADB_GTID`, `UNKNOWN_100`. */
  get typeName(): string {
    return eventTypeName(this.typeCode);
  }

  /** Index in `raw` where the post-header starts (after the common header). */
  get bodyStart(): number {
    // FDE and ROTATE always have the minimal 19-byte header (they are read before/without an FDE).
    if (this.typeCode === EventType.FORMAT_DESCRIPTION || this.typeCode === EventType.ROTATE)
      return EVENT_HEADER_SIZE;
    return this.context.fde?.commonHeaderLength ?? EVENT_HEADER_SIZE;
  }

  /** Index in `raw` just past the body (before the checksum trailer). */
  get bodyEnd(): number {
    return this.raw.length - this.checksumSize;
  }

  /**
   * The decoded body for the types this layer knows (see EventData), or undefined for other types
   * (rows events, unknown types). Decoded on first access.
   *
   * @throws CorruptDataError when the body is malformed (too short, impossible lengths)
   */
  get data(): EventData | undefined {
    if (this.cachedData === null) this.cachedData = decodeEventData(this);
    return this.cachedData;
  }

  /** A bounds-checked reader over the body (post-header and payload, without the checksum). */
  bodyReader(what: string): ByteReader {
    return new ByteReader(this.raw, this.bodyStart, this.bodyEnd, this.context.object, this.offset, what);
  }
}
