// Binlog event checksums (binlog_checksum = NONE | CRC32, MySQL 5.6.1+ and MariaDB 5.3+).
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
// https://mariadb.com/kb/en/2-binlog-event-header/ (the 4-byte CRC32 trailer after the body)
//
// The checksum is the zlib CRC32 of the whole event (header and body) except the 4-byte trailer,
// stored little-endian in that trailer.

import * as zlib from 'node:zlib';
import { CHECKSUM_SIZE, LOG_EVENT_BINLOG_IN_USE_F, OFFSET_FLAGS } from './event-header.js';

/** Checksum algorithm byte values in FORMAT_DESCRIPTION_EVENT (enum_binlog_checksum_alg). */
export const BinlogChecksumAlg = {
  /** binlog_checksum=NONE: events have no checksum trailer (the FDE itself still has one). */
  OFF: 0,
  /** binlog_checksum=CRC32: every event ends with a 4-byte CRC32. */
  CRC32: 1,
  /** "Undefined": a pre-checksum server (MySQL < 5.6.1, MariaDB < 5.3); never stored on disk. */
  UNDEF: 255,
} as const;

/** How the events of a binlog are checksummed. `undefined` in the API means "no checksum-alg byte" (old server). */
export type ChecksumAlgorithm = 'OFF' | 'CRC32';

type Crc32Fn = (data: Uint8Array, value?: number) => number;

/** zlib.crc32 exists from Node 20.15 / 22.2; older runtimes get the table-driven one below. */
const nativeCrc32: Crc32Fn | undefined = (zlib as unknown as { crc32?: Crc32Fn }).crc32;

/**
 * Slicing-by-8 tables of the reflected zlib polynomial 0xedb88320: table k (at k * 256) advances
 * the CRC by one byte followed by k zero bytes, so eight bytes are folded with eight lookups.
 */
const TABLES = ((): Int32Array => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n]!;
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/**
 * CRC32 (zlib polynomial) in JavaScript, slicing-by-8. For the short events that make up most of
 * an OLTP binlog (GTID 42 bytes, TABLE_MAP about 60, XID 31, rows about 200) it is about twice as fast as
 * zlib.crc32, whose cost there is the call into C++ rather than the bytes.
 */
export function crc32Js(data: Uint8Array, value = 0): number {
  const t = TABLES;
  let c = ~value | 0;
  let i = 0;
  const n = data.length;
  for (const end8 = n - 7; i < end8; i += 8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Below this many bytes crc32Js beats the native call (measured on Node 20, x86-64). */
const JS_CRC32_MAX = 256;

/** CRC32 (zlib polynomial) of `data`, continuing from `value`: JavaScript for short inputs, zlib otherwise. */
export const crc32: Crc32Fn = nativeCrc32
  ? (data, value = 0) => (data.length < JS_CRC32_MAX ? crc32Js(data, value) : nativeCrc32(data, value))
  : crc32Js;

const maskedFlags = Buffer.alloc(2);

/**
 * The CRC32 a server computed for the event in `raw` (the whole event including its 4-byte trailer).
 *
 * With `maskInUse`, the LOG_EVENT_BINLOG_IN_USE_F bit of the header flags is treated as clear: the
 * server sets that bit in the FORMAT_DESCRIPTION_EVENT of the active file on disk after computing
 * the checksum with it clear (and clears it again on close, or in what the dump thread sends), so
 * the active file differs from the one on disk by one bit and both must verify. Checked against
 * MariaDB 10.11: the active file's FDE on disk has the flag set and verifies only with it masked
 * (test/integration/binlog-inspect-cli.test.ts asserts this).
 */
export function computeEventCrc32(raw: Buffer, maskInUse: boolean): number {
  const end = raw.length - CHECKSUM_SIZE;
  if (!maskInUse || (raw[OFFSET_FLAGS]! & LOG_EVENT_BINLOG_IN_USE_F) === 0) {
    return crc32(raw.subarray(0, end));
  }
  maskedFlags[0] = raw[OFFSET_FLAGS]! & ~LOG_EVENT_BINLOG_IN_USE_F;
  maskedFlags[1] = raw[OFFSET_FLAGS + 1]!;
  let crc = crc32(raw.subarray(0, OFFSET_FLAGS));
  crc = crc32(maskedFlags, crc);
  return crc32(raw.subarray(OFFSET_FLAGS + 2, end), crc);
}

/** The checksum stored in the event's 4-byte trailer. */
export function storedEventCrc32(raw: Buffer): number {
  return raw.readUInt32LE(raw.length - CHECKSUM_SIZE);
}

/**
 * CRC-32 residue: the CRC32 of any message followed by its own little-endian CRC32. Checking the
 * whole event against it verifies the trailer without slicing the event (no allocation).
 */
const CRC32_RESIDUE = 0x2144df1c;

/**
 * True when the event's trailer matches its bytes. With `maskInUse` (pass it for
 * FORMAT_DESCRIPTION_EVENTs only) the in-use flag is masked as computeEventCrc32 describes.
 */
export function eventCrc32Matches(raw: Buffer, maskInUse: boolean): boolean {
  if (crc32(raw) === CRC32_RESIDUE) return true;
  if (!maskInUse || (raw[OFFSET_FLAGS]! & LOG_EVENT_BINLOG_IN_USE_F) === 0) return false;
  return computeEventCrc32(raw, true) === storedEventCrc32(raw);
}
