// Events that arrive already framed (one replication packet = one whole event) as BinlogEvents.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
// https://mariadb.com/kb/en/2-binlog-event-header/
//
// A replication stream hands over each event whole, with its position already known to the
// stream (src/mysql counts it), so re-framing the bytes in BinlogEventParser only repeats work.
// This reader keeps what decoding a body needs (the FORMAT_DESCRIPTION_EVENT in force and whether
// events carry a checksum trailer) and wraps each event without copying or checking its CRC32
// (the stream verified it). Bodies stay lazy: a caller that looks only at GTID and terminating
// events decodes only those.

import { BinlogEvent, type EventContext } from './binlog-event.js';
import type { ChecksumAlgorithm } from './binlog-checksum.js';
import { CorruptDataError } from '../errors/index.js';
import type { FormatDescriptionEventData } from './decode-event-data.js';
import { CHECKSUM_SIZE, EVENT_HEADER_SIZE, OFFSET_TYPE, peekEventSize } from './event-header.js';
import { EventType, eventTypeName } from './event-type.js';
import { decodeFormatDescriptionEvent } from './format-description-event.js';

/** Options of FramedEventReader. */
export interface FramedEventReaderOptions {
  /** Stream name for error messages, e.g. `binlog stream from mysql://repl@db1:3306`. */
  object: string;
  /**
   * Checksum algorithm of events that arrive before any FORMAT_DESCRIPTION_EVENT (the source's
   * @@binlog_checksum): decides whether they have a 4-byte trailer.
   */
  checksumAlgorithm?: ChecksumAlgorithm;
}

/**
 * Wraps whole, already framed events (the items of a replication stream) as {@link BinlogEvent}s,
 * as `BinlogEventParser` in `stream` mode would emit them, at a fraction of the per-event cost:
 * no chunk buffering, no re-framing, no copy, no CRC32 (verify it where the event is received).
 * A FORMAT_DESCRIPTION_EVENT (in the file or re-sent) is decoded at once, because it decides how
 * the events after it are decoded.
 *
 * ```ts
 * const reader = new FramedEventReader({ object: 'binlog stream from db1', checksumAlgorithm: 'CRC32' });
 * const event = reader.read(item.buffer, item.position, item.kind === 'event');
 * ```
 */
export class FramedEventReader {
  readonly #object: string;
  #context: EventContext;

  constructor(options: FramedEventReaderOptions) {
    this.#object = options.object;
    this.#context = this.#makeContext(undefined, options.checksumAlgorithm);
  }

  /** The FORMAT_DESCRIPTION_EVENT in force, once one was read. */
  get formatDescription(): FormatDescriptionEventData | undefined {
    return this.#context.fde as FormatDescriptionEventData | undefined;
  }

  /**
   * Wraps `raw` (exactly one event: header, body, checksum) found at `offset` of its file.
   * `inFile` false marks an event that is not part of the file (artificial ROTATE, re-sent FDE,
   * heartbeat): its `endOffset` equals its `offset`, as the parser does.
   *
   * @throws CorruptDataError (CORRUPT_DATA) when the header's event_size is not the length of
   *   `raw` or is too small for the event; BinlogFormatError / CorruptDataError for a bad
   *   FORMAT_DESCRIPTION_EVENT
   */
  read(raw: Buffer, offset: number, inFile: boolean): BinlogEvent {
    if (raw.length < EVENT_HEADER_SIZE) this.#badSize(raw, offset, raw.length);
    const typeCode = raw[OFFSET_TYPE]!;
    const size = peekEventSize(raw);
    if (size !== raw.length) this.#badSize(raw, offset, size);
    if (typeCode === EventType.FORMAT_DESCRIPTION) {
      const data: FormatDescriptionEventData = {
        kind: 'format-description',
        ...decodeFormatDescriptionEvent(raw, this.#object, offset),
      };
      this.#context = this.#makeContext(data, data.checksumAlgorithm);
      return new BinlogEvent(
        offset,
        inFile ? offset + size : offset,
        raw,
        typeCode,
        inFile,
        this.#context,
        data,
      );
    }
    if (size < EVENT_HEADER_SIZE + this.#context.checksumSize) this.#badSize(raw, offset, size);
    return new BinlogEvent(offset, inFile ? offset + size : offset, raw, typeCode, inFile, this.#context);
  }

  #makeContext(
    fde: FormatDescriptionEventData | undefined,
    alg: ChecksumAlgorithm | undefined,
  ): EventContext {
    return { object: this.#object, fde, checksumSize: alg === 'CRC32' ? CHECKSUM_SIZE : 0 };
  }

  #badSize(raw: Buffer, offset: number, size: number): never {
    const type = raw.length > OFFSET_TYPE ? eventTypeName(raw[OFFSET_TYPE]!) : 'unknown';
    throw new CorruptDataError(
      this.#object,
      offset,
      `a ${raw.length}-byte ${type} event declares a size of ${size} bytes; the stream delivered a damaged ` +
        'event. Restart from the last position written',
    );
  }
}
