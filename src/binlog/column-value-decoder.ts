// Column values in rows events: the storage format of each column type in a row image.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rows__event.html
// https://mariadb.com/kb/en/rows_event_v1v2-rows_compressed_event_v1/
// (Field::pack of each type in sql/field.cc: integers little-endian; DECIMAL, TIME2, DATETIME2,
// TIMESTAMP2, BIT and ENUM/SET as described at each decoder below.)

import type { ByteReader } from './byte-reader.js';
import { ColumnType, type TableMapColumn } from './table-map-event.js';
import { decodeMysqlJson, setJsonDecimalDecoder } from './mysql-json-decoder.js';

/**
 * One decoded column value. Integers keep their raw two's-complement bits (`raw`, unsigned) and
 * width: MariaDB does not log signedness, so a consumer applies `unsigned` from the TABLE_MAP
 * metadata or from the table definition (signedValue). Temporal values are their SQL text
 * (`YYYY-MM-DD HH:MM:SS.ffffff`); a TIMESTAMP is UTC.
 */
export type ColumnValue =
  | { t: 'int'; raw: bigint; bytes: number }
  | { t: 'decimal'; text: string }
  | { t: 'float'; value: number; bytes: 4 | 8 }
  | { t: 'year'; value: number }
  | { t: 'date' | 'time' | 'datetime' | 'timestamp'; text: string }
  | { t: 'bit'; value: bigint; bits: number }
  | { t: 'enum'; index: number }
  | { t: 'set'; bits: bigint }
  | { t: 'string'; bytes: Buffer }
  | { t: 'json'; text: string }
  | { t: 'geometry'; bytes: Buffer };

/** The value of a raw integer read as signed (two's complement over `bytes`) or unsigned. */
export function intValue(v: { raw: bigint; bytes: number }, unsigned: boolean): bigint {
  if (unsigned) return v.raw;
  const bits = BigInt(v.bytes * 8);
  return BigInt.asIntN(Number(bits), v.raw);
}

/** digits -> bytes for the leftover (< 9) digits of a DECIMAL group. */
const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
const DIG_PER_DEC = 9;

/** Bytes of a DECIMAL(precision, scale) in the binary format (decimal2bin). */
export function decimalBinarySize(precision: number, scale: number): number {
  const intg = precision - scale;
  return (
    Math.floor(intg / DIG_PER_DEC) * 4 +
    DIG2BYTES[intg % DIG_PER_DEC]! +
    Math.floor(scale / DIG_PER_DEC) * 4 +
    DIG2BYTES[scale % DIG_PER_DEC]!
  );
}

/**
 * DECIMAL binary format (strings/decimal.c decimal2bin): groups of 9 digits in 4 big-endian bytes,
 * the leftover digits first (integer part) / last (fraction) in 1-4 bytes; the first bit is set for
 * non-negative values, and a negative value has every byte inverted.
 */
export function decodeDecimal(src: Buffer, precision: number, scale: number): string {
  const b = Buffer.from(src);
  const negative = (b[0]! & 0x80) === 0;
  b[0]! ^= 0x80;
  if (negative) for (let i = 0; i < b.length; i++) b[i] = b[i]! ^ 0xff;
  let pos = 0;
  const group = (n: number): number => {
    const v = n === 0 ? 0 : b.readUIntBE(pos, n);
    pos += n;
    return v;
  };
  const intg = precision - scale;
  let intText = '';
  const lead = DIG2BYTES[intg % DIG_PER_DEC]!;
  if (lead) intText += String(group(lead));
  for (let i = 0; i < Math.floor(intg / DIG_PER_DEC); i++) {
    const g = String(group(4));
    intText += intText ? g.padStart(9, '0') : g;
  }
  intText = intText.replace(/^0+/, '') || '0';
  let frac = '';
  for (let i = 0; i < Math.floor(scale / DIG_PER_DEC); i++) frac += String(group(4)).padStart(9, '0');
  const tail = scale % DIG_PER_DEC;
  if (tail) frac += String(group(DIG2BYTES[tail]!)).padStart(tail, '0');
  const text = frac ? `${intText}.${frac}` : intText;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}

const pad = (n: number | bigint, w = 2): string => String(n).padStart(w, '0');

/** Fractional seconds of the v2 temporal types: (fsp + 1) / 2 big-endian bytes. */
function readFraction(r: ByteReader, fsp: number): number {
  if (fsp <= 0) return 0;
  const n = (fsp + 1) >> 1;
  const v = r.bytes(n).readUIntBE(0, n);
  return v * 100 ** (3 - n);
}

function fractionText(micros: number, fsp: number): string {
  return fsp > 0 ? `.${pad(micros, 6).slice(0, fsp)}` : '';
}

/** TIME2: 3 bytes integer part + fraction, offset 0x800000 / 0x800000000000 (my_time.cc). */
function decodeTime2(r: ByteReader, fsp: number): string {
  const TIMEF_OFS = 0x800000000000n;
  const TIMEF_INT_OFS = 0x800000n;
  let packed: bigint;
  const intBytes = r.bytes(3);
  let intpart = BigInt(intBytes.readUIntBE(0, 3)) - TIMEF_INT_OFS;
  if (fsp === 0) packed = intpart << 24n;
  else if (fsp <= 2) {
    let frac = BigInt(r.u8());
    if (intpart < 0n && frac !== 0n) {
      intpart += 1n;
      frac -= 0x100n;
    }
    packed = (intpart << 24n) + frac * 10000n;
  } else if (fsp <= 4) {
    let frac = BigInt(r.bytes(2).readUInt16BE(0));
    if (intpart < 0n && frac !== 0n) {
      intpart += 1n;
      frac -= 0x10000n;
    }
    packed = (intpart << 24n) + frac * 100n;
  } else {
    const fb = r.bytes(3);
    packed = ((BigInt(intBytes.readUIntBE(0, 3)) << 24n) | BigInt(fb.readUIntBE(0, 3))) - TIMEF_OFS;
  }
  const negative = packed < 0n;
  if (negative) packed = -packed;
  const hms = packed >> 24n;
  const micros = Number(packed % (1n << 24n));
  const hour = (hms >> 12n) % (1n << 10n);
  const minute = (hms >> 6n) % 64n;
  const second = hms % 64n;
  return `${negative ? '-' : ''}${pad(hour)}:${pad(minute)}:${pad(second)}${fractionText(micros, fsp)}`;
}

/** DATETIME2: 5 bytes big-endian, offset 0x8000000000: 17 bits ymd, 17 bits hms (my_time.cc). */
function decodeDatetime2(r: ByteReader, fsp: number): string {
  const v = BigInt(r.bytes(5).readUIntBE(0, 5)) - 0x8000000000n;
  const micros = readFraction(r, fsp);
  const ymd = v >> 17n;
  const hms = v % (1n << 17n);
  const ym = ymd >> 5n;
  const text =
    `${pad(ym / 13n, 4)}-${pad(ym % 13n)}-${pad(ymd % 32n)} ` +
    `${pad(hms >> 12n)}:${pad((hms >> 6n) % 64n)}:${pad(hms % 64n)}`;
  return text + fractionText(micros, fsp);
}

/** Seconds since the epoch as UTC `YYYY-MM-DD HH:MM:SS`; 0 is the zero timestamp. */
function utcText(seconds: number): string {
  if (seconds === 0) return '0000-00-00 00:00:00';
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Length-prefixed bytes (1-4 byte little-endian length). */
function lengthPrefixed(r: ByteReader, lenBytes: number): Buffer {
  return r.bytes(r.uintN(lenBytes));
}

/** Thrown for a column type the decoder cannot read (the caller names the table and column). */
export class UnsupportedColumnTypeError extends Error {
  constructor(readonly columnType: number) {
    super(`column type ${columnType} is not supported in row images`);
  }
}

/**
 * Reads one non-NULL column value of `column` at the reader's position.
 *
 * @throws CorruptDataError (from the reader) when the value runs past the event;
 *   UnsupportedColumnTypeError for old pre-5.0 DECIMAL and MariaDB COMPRESSED columns
 */
export function decodeColumnValue(r: ByteReader, column: TableMapColumn): ColumnValue {
  const { type, meta } = column;
  switch (type) {
    case ColumnType.TINY:
      return { t: 'int', raw: BigInt(r.u8()), bytes: 1 };
    case ColumnType.SHORT:
      return { t: 'int', raw: BigInt(r.u16()), bytes: 2 };
    case ColumnType.INT24:
      return { t: 'int', raw: BigInt(r.uintN(3)), bytes: 3 };
    case ColumnType.LONG:
      return { t: 'int', raw: BigInt(r.u32()), bytes: 4 };
    case ColumnType.LONGLONG:
      return { t: 'int', raw: r.u64Big(), bytes: 8 };
    case ColumnType.FLOAT:
      return { t: 'float', value: r.bytes(4).readFloatLE(0), bytes: 4 };
    case ColumnType.DOUBLE:
      return { t: 'float', value: r.bytes(8).readDoubleLE(0), bytes: 8 };
    case ColumnType.NEWDECIMAL:
      return {
        t: 'decimal',
        text: decodeDecimal(r.bytes(decimalBinarySize(meta, column.scale)), meta, column.scale),
      };
    case ColumnType.YEAR: {
      const y = r.u8();
      return { t: 'year', value: y === 0 ? 0 : 1900 + y };
    }
    case ColumnType.DATE:
    case ColumnType.NEWDATE: {
      const v = r.uintN(3);
      return { t: 'date', text: `${pad(v >> 9, 4)}-${pad((v >> 5) & 15)}-${pad(v & 31)}` };
    }
    case ColumnType.TIME: {
      // Old TIME: signed 3-byte integer HHMMSS.
      let v = r.uintN(3);
      if (v & 0x800000) v -= 0x1000000;
      const a = Math.abs(v);
      return {
        t: 'time',
        text: `${v < 0 ? '-' : ''}${pad(Math.floor(a / 10000))}:${pad(Math.floor(a / 100) % 100)}:${pad(a % 100)}`,
      };
    }
    case ColumnType.TIME2:
      return { t: 'time', text: decodeTime2(r, meta) };
    case ColumnType.DATETIME: {
      // Old DATETIME: uint64 YYYYMMDDhhmmss.
      const s = String(r.u64Big()).padStart(14, '0');
      return {
        t: 'datetime',
        text: `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)} ${s.slice(8, 10)}:${s.slice(10, 12)}:${s.slice(12, 14)}`,
      };
    }
    case ColumnType.DATETIME2:
      return { t: 'datetime', text: decodeDatetime2(r, meta) };
    case ColumnType.TIMESTAMP:
      return { t: 'timestamp', text: utcText(r.u32()) };
    case ColumnType.TIMESTAMP2: {
      const seconds = r.bytes(4).readUInt32BE(0);
      const micros = readFraction(r, meta);
      return { t: 'timestamp', text: utcText(seconds) + fractionText(micros, meta) };
    }
    case ColumnType.BIT: {
      const n = (meta + 7) >> 3;
      const b = r.bytes(n);
      let v = 0n;
      for (const x of b) v = (v << 8n) | BigInt(x);
      return { t: 'bit', value: v, bits: meta };
    }
    case ColumnType.ENUM:
      return { t: 'enum', index: meta === 1 ? r.u8() : r.u16() };
    case ColumnType.SET: {
      const b = r.bytes(meta);
      let v = 0n;
      for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
      return { t: 'set', bits: v };
    }
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
      return { t: 'string', bytes: lengthPrefixed(r, meta < 256 ? 1 : 2) };
    case ColumnType.STRING:
      return { t: 'string', bytes: lengthPrefixed(r, meta < 256 ? 1 : 2) };
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.BLOB:
      return { t: 'string', bytes: lengthPrefixed(r, meta) };
    case ColumnType.GEOMETRY:
      return { t: 'geometry', bytes: lengthPrefixed(r, meta) };
    case ColumnType.JSON: {
      const bytes = lengthPrefixed(r, meta);
      return { t: 'json', text: decodeMysqlJson(bytes, (detail) => r.corrupt(`JSON value: ${detail}`)) };
    }
    default:
      throw new UnsupportedColumnTypeError(type);
  }
}

setJsonDecimalDecoder(decodeDecimal);
