// The checksum algorithm a binlog file uses, from its FORMAT_DESCRIPTION_EVENT.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Format__description__event.html
// https://mariadb.com/kb/en/format_description_event/
//
// Body: 2 binlog_version, 50 server_version (NUL-padded), 4 create_timestamp, 1 header_length,
// n post-header lengths, then (servers from MySQL 5.6.1 / MariaDB 5.3 on) 1 checksum algorithm and
// a 4-byte checksum value that is there even when the algorithm is OFF.
import { CHECKSUM_SIZE, EVENT_HEADER_SIZE } from '../binlog/event-header.js';

/** BINLOG_CHECKSUM_ALG_OFF: events carry no checksum. */
export const BINLOG_CHECKSUM_ALG_OFF = 0;
/** BINLOG_CHECKSUM_ALG_CRC32: every event ends with the CRC32 of the rest of it. */
export const BINLOG_CHECKSUM_ALG_CRC32 = 1;

const SERVER_VERSION_OFFSET = EVENT_HEADER_SIZE + 2;
const SERVER_VERSION_SIZE = 50;

/** True for server versions that write the checksum algorithm byte (MySQL >= 5.6.1, MariaDB >= 5.3). */
function writesChecksumAlgorithm(serverVersion: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(serverVersion);
  if (!m) return true;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (/mariadb/i.test(serverVersion)) return major > 5 || (major === 5 && minor >= 3);
  if (major !== 5) return major > 5;
  if (minor !== 6) return minor > 6;
  return patch >= 1;
}

/**
 * The checksum algorithm of the file a FORMAT_DESCRIPTION_EVENT (header included) heads:
 * BINLOG_CHECKSUM_ALG_OFF or BINLOG_CHECKSUM_ALG_CRC32 (other values are returned as they are).
 */
export function checksumAlgorithmOf(fde: Buffer): number {
  if (fde.length < SERVER_VERSION_OFFSET + SERVER_VERSION_SIZE + CHECKSUM_SIZE + 1)
    return BINLOG_CHECKSUM_ALG_OFF;
  const raw = fde.toString('latin1', SERVER_VERSION_OFFSET, SERVER_VERSION_OFFSET + SERVER_VERSION_SIZE);
  const version = raw.replace(/\0.*$/s, '');
  if (!writesChecksumAlgorithm(version)) return BINLOG_CHECKSUM_ALG_OFF;
  return fde.readUInt8(fde.length - CHECKSUM_SIZE - 1);
}
