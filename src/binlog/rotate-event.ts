// ROTATE_EVENT (type 4): the last event of a file that continues in another, or (from a source) the
// name of the file a dump continues in.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rotate__event.html
// https://mariadb.com/kb/en/rotate_event/
//
// Always the minimal 19-byte common header. Post-header (8): position uint64, the offset in the
// next file (4). Body: the next file name (not NUL-terminated) to the end, then the CRC32 trailer
// when the binlog has checksums.

import { CHECKSUM_SIZE, EVENT_HEADER_SIZE } from './event-header.js';
import { eventCrc32Matches } from './binlog-checksum.js';
import type { BinlogEvent } from './binlog-event.js';
import { ByteReader } from './byte-reader.js';

/** A ROTATE event read from its raw bytes. */
export interface RotateEvent {
  /** Where events continue in `file` (4 for a fresh file). */
  position: number;
  /** The binlog file name, e.g. `mysql-bin.000124`. */
  file: string;
}

/** Decoded ROTATE_EVENT. */
export interface RotateEventData {
  kind: 'rotate';
  /** Where the next file continues (4 for a fresh file). */
  position: number;
  /** Name of the next binlog file, e.g. `mysql-bin.000124`. */
  nextFile: string;
}

/** True when the last 4 bytes of `event` are the CRC32 of the bytes before them. */
export function hasValidCrc32(event: Buffer): boolean {
  return event.length >= EVENT_HEADER_SIZE + CHECKSUM_SIZE && eventCrc32Matches(event, false);
}

/**
 * The one byte rule of ROTATE: decodes the event in `raw` (header included). The name is read as
 * latin1, byte for byte, as COM_BINLOG_DUMP writes it back (src/mysql/replication-packets.ts).
 *
 * Whether it carries a CRC32 trailer is decided by the trailer itself unless `checksum` says: a
 * name whose last 4 bytes happen to be the CRC32 of the rest has odds of 2^-32, and this lets the
 * artificial ROTATE (which comes before any FORMAT_DESCRIPTION) be read without knowing the
 * checksum setting.
 *
 * @param where the object and file offset of the event, for error messages
 * @throws CorruptDataError when the event is shorter than its position field
 */
export function readRotateEvent(
  raw: Buffer,
  checksum?: boolean,
  where: { object: string; offset: number } = { object: 'ROTATE event', offset: 0 },
): RotateEvent {
  const withCrc = checksum ?? hasValidCrc32(raw);
  const end = Math.max(EVENT_HEADER_SIZE, raw.length - (withCrc ? CHECKSUM_SIZE : 0));
  const r = new ByteReader(raw, EVENT_HEADER_SIZE, end, where.object, where.offset, 'ROTATE event');
  const position = r.u64('position');
  return { position, file: raw.toString('latin1', r.pos, end) };
}

/** @throws CorruptDataError when the body is shorter than the position field */
export function decodeRotateEvent(event: BinlogEvent): RotateEventData {
  const { position, file } = readRotateEvent(event.raw, event.context.checksumSize > 0, {
    object: event.context.object,
    offset: event.offset,
  });
  return { kind: 'rotate', position, nextFile: file };
}
