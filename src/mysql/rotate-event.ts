// ROTATE_EVENT body: 8-byte position of the first event in the next file, then the file name
// (not NUL-terminated), then the CRC32 trailer when the binlog has checksums.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rotate__event.html
// https://mariadb.com/kb/en/rotate_event/
import { crc32 } from 'node:zlib';
import { CHECKSUM_SIZE, EVENT_HEADER_SIZE } from '../binlog/event-header.js';
import { CorruptDataError } from '../errors/index.js';

/** A decoded ROTATE event. */
export interface RotateEvent {
  /** Where events continue in `file` (4 for a fresh file). */
  position: number;
  /** The binlog file name. */
  file: string;
}

/** Size of the ROTATE post-header (the 8-byte position). */
const ROTATE_POSITION_SIZE = 8;

/** True when the last 4 bytes of `event` are the CRC32 of the bytes before them. */
export function hasValidCrc32(event: Buffer): boolean {
  if (event.length < EVENT_HEADER_SIZE + CHECKSUM_SIZE) return false;
  const end = event.length - CHECKSUM_SIZE;
  return crc32(event.subarray(0, end)) === event.readUInt32LE(end);
}

/**
 * Decodes a ROTATE event (header included). Whether it carries a CRC32 trailer is decided by the
 * trailer itself: a name whose last 4 bytes happen to be the CRC32 of the rest has odds of 2^-32,
 * and this lets the artificial ROTATE (which comes before any FORMAT_DESCRIPTION) be read without
 * knowing the checksum setting. Pass `checksum` when it is known.
 *
 * @throws CorruptDataError when the event is too short
 */
export function readRotateEvent(event: Buffer, checksum?: boolean): RotateEvent {
  const withCrc = checksum ?? hasValidCrc32(event);
  const end = event.length - (withCrc ? CHECKSUM_SIZE : 0);
  const nameStart = EVENT_HEADER_SIZE + ROTATE_POSITION_SIZE;
  if (end < nameStart) {
    throw new CorruptDataError('ROTATE event', undefined, `event of ${event.length} bytes is too short`);
  }
  return {
    position: Number(event.readBigUInt64LE(EVENT_HEADER_SIZE)),
    file: event.toString('latin1', nameStart, end),
  };
}
