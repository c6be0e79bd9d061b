// FORMAT_DESCRIPTION_EVENT (type 15), the first event of every binlog v4 file.
// MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Format__description__event.html
// MariaDB: https://mariadb.com/kb/en/format_description_event/
//
// Body (after the 19-byte common header):
//   0  binlog_version      uint16  (4)
//   2  server_version      char[50], NUL-padded
//  52  create_timestamp    uint32
//  56  header_length       uint8   common header length of the other events (19)
//  57  post_header_len     uint8[n], one per event type, indexed by type code - 1
//      checksum_alg        uint8   only from MySQL 5.6.1 / MariaDB 5.3 on (0 = OFF, 1 = CRC32)
//      checksum            uint32  present whenever checksum_alg is: the FDE is always checksummed,
//                                  even when the events that follow are not (binlog_checksum=NONE)

import { ChecksumMismatchError, CorruptDataError } from '../errors/index.js';
import { BinlogChecksumAlg, type ChecksumAlgorithm, eventCrc32Matches } from './binlog-checksum.js';
import { BinlogFormatError } from './binlog-format-error.js';
import { CHECKSUM_SIZE, EVENT_HEADER_SIZE } from './event-header.js';
import { EventType } from './event-type.js';

/** The binlog format version this reader supports (MySQL 5.0+ and every MariaDB). */
export const BINLOG_VERSION_4 = 4;
/** Length of the server_version field. */
const SERVER_VERSION_LENGTH = 50;
/** Offset of header_length in the FDE body. */
const OFFSET_HEADER_LENGTH = 2 + SERVER_VERSION_LENGTH + 4;
/** Offset of the post-header length table in the FDE body. */
const OFFSET_POST_HEADER_LENGTHS = OFFSET_HEADER_LENGTH + 1;
/** Size of the checksum-algorithm byte. */
const CHECKSUM_ALG_SIZE = 1;

/** First MySQL version whose FDE carries the checksum-algorithm byte (checksum_version_split). */
const MYSQL_CHECKSUM_VERSION: Version = [5, 6, 1];
/** First MariaDB version whose FDE carries it (MariaDB's checksum_version_split_mariadb). */
const MARIADB_CHECKSUM_VERSION: Version = [5, 3, 0];

type Version = readonly [number, number, number];

/** Which server family wrote the binlog, from the FDE's server version string. */
export type ServerFlavor = 'mysql' | 'mariadb';

/** A decoded FORMAT_DESCRIPTION_EVENT: what a reader needs to decode the events that follow. */
export interface FormatDescription {
  /** Binlog format version; always 4 (older formats are rejected with BINLOG_FORMAT). */
  binlogVersion: number;
  /** Server version string, e.g. `8.0.45` or `10.11.19-MariaDB-0+deb12u1-log`. */
  serverVersion: string;
  /** `mariadb` when the version string contains "MariaDB" (or "-maria-"), else `mysql`. */
  flavor: ServerFlavor;
  /** major.minor.patch from the version string; [0, 0, 0] when it cannot be parsed (as the server does). */
  versionSplit: readonly [number, number, number];
  /** Seconds since the epoch when the file was created at server startup; 0 for files created by rotation. */
  createTimestamp: number;
  /** Length of the common header of the other events (19 for v4). */
  commonHeaderLength: number;
  /** Post-header length per event type: `postHeaderLengths[typeCode - 1]`. */
  postHeaderLengths: Uint8Array;
  /**
   * Checksum algorithm of the events that follow: `CRC32`, `OFF`, or `undefined` for a server that
   * predates checksums (MySQL < 5.6.1, MariaDB < 5.3), whose FDE has no algorithm byte.
   */
  checksumAlgorithm: ChecksumAlgorithm | undefined;
}

/** The server family from a version string (MariaDB's contain "MariaDB"; some builds "-maria-"). */
export function serverFlavorOf(serverVersion: string): ServerFlavor {
  return serverVersion.includes('MariaDB') || serverVersion.includes('-maria-') ? 'mariadb' : 'mysql';
}

/**
 * major.minor.patch as the server splits it (do_server_version_split): each part must be below 256,
 * otherwise the version is treated as unknown, [0, 0, 0].
 */
export function splitServerVersion(serverVersion: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(serverVersion);
  if (!m) return [0, 0, 0];
  const parts = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
  return parts.every((p) => p < 256) ? parts : [0, 0, 0];
}

function versionProduct(v: Version): number {
  return (v[0] * 256 + v[1]) * 256 + v[2];
}

/**
 * Whether an FDE written by this server version ends with the checksum-algorithm byte and a CRC32:
 * MySQL from 5.6.1 on, MariaDB from 5.3 on (Format_description_log_event::is_version_before_checksum).
 */
export function fdeHasChecksumAlgorithm(serverVersion: string): boolean {
  const split = splitServerVersion(serverVersion);
  const first =
    serverFlavorOf(serverVersion) === 'mariadb' ? MARIADB_CHECKSUM_VERSION : MYSQL_CHECKSUM_VERSION;
  return versionProduct(split) >= versionProduct(first);
}

/**
 * Most post-header lengths a FORMAT_DESCRIPTION_EVENT of a server from before checksums carries
 * (MySQL 5.5 has 27 event types, 5.6.1 introduced checksums with 35).
 */
const MAX_PRE_CHECKSUM_TYPES = 34;

/**
 * True when the FDE ends with a checksum-algorithm byte the reader knows and a CRC32 that matches:
 * then it is checksummed whatever its version string says (an unparseable version splits as 0.0.0,
 * which the server would take for a pre-checksum one).
 */
function checksummedByContent(raw: Buffer): boolean {
  const alg = raw[raw.length - CHECKSUM_SIZE - CHECKSUM_ALG_SIZE];
  return (alg === BinlogChecksumAlg.OFF || alg === BinlogChecksumAlg.CRC32) && eventCrc32Matches(raw, true);
}

/**
 * The one rule for whether the FDE in `raw` (whole event) ends with a checksum-algorithm byte and a
 * CRC32: its server version is one that writes them, or its last bytes are a known algorithm and a
 * matching CRC32 whatever the version string says.
 */
function carriesChecksumAlgorithm(raw: Buffer, serverVersion: string): boolean {
  return fdeHasChecksumAlgorithm(serverVersion) || checksummedByContent(raw);
}

/** The server version string of the FDE in `raw` (whole event; the body must hold the field). */
function serverVersionOf(raw: Buffer): string {
  const versionBytes = raw.subarray(EVENT_HEADER_SIZE + 2, EVENT_HEADER_SIZE + 2 + SERVER_VERSION_LENGTH);
  const nul = versionBytes.indexOf(0);
  return versionBytes.toString('latin1', 0, nul === -1 ? versionBytes.length : nul);
}

/**
 * Whether the events after the FORMAT_DESCRIPTION_EVENT in `raw` (header included) end with a
 * CRC32, by the same rule decodeFormatDescriptionEvent applies, without decoding the rest: for the
 * replication stream and the file reader, which only need this. An event too short to be an FDE,
 * or one with an unknown algorithm byte, says no (decodeFormatDescriptionEvent reports those).
 */
export function fdeSaysEventsChecksummed(raw: Buffer): boolean {
  if (raw.length < EVENT_HEADER_SIZE + OFFSET_POST_HEADER_LENGTHS + CHECKSUM_ALG_SIZE + CHECKSUM_SIZE)
    return false;
  if (!carriesChecksumAlgorithm(raw, serverVersionOf(raw))) return false;
  return raw[raw.length - CHECKSUM_SIZE - CHECKSUM_ALG_SIZE] === BinlogChecksumAlg.CRC32;
}

/**
 * Decodes the FORMAT_DESCRIPTION_EVENT in `raw` (the whole event, header included).
 *
 * The FDE of every server since MySQL 5.6.1 / MariaDB 5.3 carries a CRC32 even when the events
 * after it do not (binlog_checksum=NONE); it is verified here, with LOG_EVENT_BINLOG_IN_USE_F masked.
 *
 * @throws BinlogFormatError (BINLOG_FORMAT) for a binlog version other than 4 or an unknown
 *   checksum algorithm; CorruptDataError (CORRUPT_DATA) when the event is too short;
 *   ChecksumMismatchError (CHECKSUM_MISMATCH) when its CRC32 does not match.
 */
export function decodeFormatDescriptionEvent(raw: Buffer, object: string, offset: number): FormatDescription {
  const bodyLength = raw.length - EVENT_HEADER_SIZE;
  if (bodyLength < OFFSET_POST_HEADER_LENGTHS) {
    throw new CorruptDataError(
      object,
      offset,
      `FORMAT_DESCRIPTION_EVENT of ${raw.length} bytes is too short (at least ${EVENT_HEADER_SIZE + OFFSET_POST_HEADER_LENGTHS} expected); the file does not start with a valid binlog header`,
    );
  }
  const body = EVENT_HEADER_SIZE;
  const binlogVersion = raw.readUInt16LE(body);
  if (binlogVersion !== BINLOG_VERSION_4) {
    throw new BinlogFormatError(
      object,
      offset,
      `binlog format version ${binlogVersion} is not supported (only version 4, written by MySQL 5.0+ and MariaDB)`,
    );
  }
  const serverVersion = serverVersionOf(raw);
  const createTimestamp = raw.readUInt32LE(body + 2 + SERVER_VERSION_LENGTH);
  const commonHeaderLength = raw[body + OFFSET_HEADER_LENGTH]!;
  if (commonHeaderLength < EVENT_HEADER_SIZE) {
    throw new CorruptDataError(
      object,
      offset,
      `FORMAT_DESCRIPTION_EVENT declares a common header of ${commonHeaderLength} bytes (at least ${EVENT_HEADER_SIZE} expected)`,
    );
  }
  const hasAlg = carriesChecksumAlgorithm(raw, serverVersion);
  if (hasAlg && !eventCrc32Matches(raw, true)) {
    throw new ChecksumMismatchError(
      object,
      offset,
      `the CRC32 of the FORMAT_DESCRIPTION_EVENT (server ${JSON.stringify(serverVersion)}) does not match its bytes`,
    );
  }
  if (!hasAlg && raw.length - EVENT_HEADER_SIZE - OFFSET_POST_HEADER_LENGTHS > MAX_PRE_CHECKSUM_TYPES) {
    // A server from before checksums (MySQL 5.0-5.6.0) knows at most ~30 event types. A longer table
    // means the version string is damaged in a checksummed FDE (e.g. "8.0.45" became "0.0.45"): were
    // it taken at its word, no event of the file would be verified.
    throw new ChecksumMismatchError(
      object,
      offset,
      `the FORMAT_DESCRIPTION_EVENT names server ${JSON.stringify(serverVersion)}, which predates binlog checksums, ` +
        `but its ${raw.length} bytes fit a checksummed FDE whose CRC32 does not match`,
    );
  }
  let tableEnd = raw.length;
  let checksumAlgorithm: ChecksumAlgorithm | undefined;
  if (hasAlg) {
    tableEnd = raw.length - CHECKSUM_SIZE - CHECKSUM_ALG_SIZE;
    if (tableEnd < body + OFFSET_POST_HEADER_LENGTHS) {
      throw new CorruptDataError(
        object,
        offset,
        'FORMAT_DESCRIPTION_EVENT is too short for its checksum fields',
      );
    }
    const alg = raw[tableEnd]!;
    if (alg === BinlogChecksumAlg.CRC32) checksumAlgorithm = 'CRC32';
    else if (alg === BinlogChecksumAlg.OFF) checksumAlgorithm = 'OFF';
    else {
      throw new BinlogFormatError(
        object,
        offset,
        `unknown binlog checksum algorithm ${alg} in FORMAT_DESCRIPTION_EVENT (known: 0 = NONE, 1 = CRC32)`,
      );
    }
  }
  // Copy the (small) table so the FDE does not keep the chunk it came from alive.
  const postHeaderLengths = Uint8Array.from(raw.subarray(body + OFFSET_POST_HEADER_LENGTHS, tableEnd));
  return {
    binlogVersion,
    serverVersion,
    flavor: serverFlavorOf(serverVersion),
    versionSplit: splitServerVersion(serverVersion),
    createTimestamp,
    commonHeaderLength,
    postHeaderLengths,
    checksumAlgorithm,
  };
}

/**
 * Post-header lengths of MySQL 5.6-8.x / MariaDB 10+ for the types this reader decodes, used when no
 * FDE has been seen (a stream that starts mid-file without one) or the FDE's table is too short.
 */
const DEFAULT_POST_HEADER_LENGTHS: ReadonlyMap<number, number> = new Map<number, number>([
  [EventType.QUERY, 13],
  [EventType.ROTATE, 8],
  [EventType.TABLE_MAP, 8],
  [EventType.GTID, 42],
  [EventType.ANONYMOUS_GTID, 42],
  [EventType.MARIADB_GTID, 19],
  [EventType.MARIADB_GTID_LIST, 4],
  [EventType.BINLOG_CHECKPOINT, 4],
]);

/** The post-header length of `typeCode` under `fde` (or the usual default when unknown). */
export function postHeaderLength(fde: FormatDescription | undefined, typeCode: number): number {
  const fromTable = fde?.postHeaderLengths[typeCode - 1];
  return fromTable ?? DEFAULT_POST_HEADER_LENGTHS.get(typeCode) ?? 0;
}
