// USER_VAR_EVENT (type 14): the value of a user variable (`@name`) the next statement-based
// statement reads.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1User__var__event.html
// https://mariadb.com/kb/en/user_var_event/
//
// Body: name_length uint32, name, is_null uint8; unless null: value_type uint8, charset uint32
// (collation id), value_length uint32, value; then (MySQL 5.5+, MariaDB 10.0+) flags uint8 when bytes
// remain (UNSIGNED_F). A DECIMAL value is precision uint8, scale uint8, then the binary decimal.

import type { BinlogEvent } from './binlog-event.js';

/** Item_result of the value (the server's numbering). */
export const UserVarType = {
  STRING: 0,
  REAL: 1,
  INT: 2,
  ROW: 3,
  DECIMAL: 4,
} as const;

/** flags bit: the INT value is unsigned. */
const UNSIGNED_F = 0x01;

/** Decoded USER_VAR_EVENT. */
export interface UserVarEventData {
  kind: 'user-var';
  /** The variable's name, without `@`. */
  name: string;
  /** null for SQL NULL. */
  value:
    | null
    | { type: 'string'; collation: number; bytes: Buffer }
    | { type: 'real'; value: number }
    | { type: 'int'; value: bigint }
    | { type: 'decimal'; text: string };
}

/** Bytes of a binary decimal group of n digits (n < 9); 9 digits take 4 bytes. */
const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
const DIGITS_PER_GROUP = 9;

/**
 * The text of a binary DECIMAL(precision, scale) value (the server's decimal2bin format: big-endian
 * groups of 9 digits, the sign in the first bit, negative values stored inverted).
 */
export function binaryDecimalToString(bytes: Buffer, precision: number, scale: number): string {
  const intg = precision - scale;
  const intFull = Math.floor(intg / DIGITS_PER_GROUP);
  const intRest = intg % DIGITS_PER_GROUP;
  const fracFull = Math.floor(scale / DIGITS_PER_GROUP);
  const fracRest = scale % DIGITS_PER_GROUP;
  const size = intFull * 4 + DIG2BYTES[intRest]! + fracFull * 4 + DIG2BYTES[fracRest]!;
  const b = Buffer.from(bytes.subarray(0, size));
  if (b.length < size) throw new RangeError(`binary DECIMAL(${precision},${scale}) needs ${size} bytes`);
  const negative = (b[0]! & 0x80) === 0;
  b[0]! ^= 0x80;
  if (negative) for (let i = 0; i < b.length; i++) b[i] = ~b[i]! & 0xff;
  let pos = 0;
  const group = (n: number, digits: number): string => {
    const v = n === 0 ? 0 : b.readUIntBE(pos, n);
    pos += n;
    return String(v).padStart(digits, '0');
  };
  let int = '';
  if (intRest) int += group(DIG2BYTES[intRest]!, intRest);
  for (let i = 0; i < intFull; i++) int += group(4, DIGITS_PER_GROUP);
  let frac = '';
  for (let i = 0; i < fracFull; i++) frac += group(4, DIGITS_PER_GROUP);
  if (fracRest) frac += group(DIG2BYTES[fracRest]!, fracRest);
  int = int.replace(/^0+(?=\d)/, '') || '0';
  return `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

/** @throws CorruptDataError when the lengths run past the body */
export function decodeUserVarEvent(event: BinlogEvent): UserVarEventData {
  const r = event.bodyReader('USER_VAR event');
  const name = r.string(r.u32());
  const isNull = r.u8() !== 0;
  if (isNull) return { kind: 'user-var', name, value: null };
  const type = r.u8();
  const collation = r.u32();
  const bytes = r.bytes(r.u32());
  const flags = r.remaining > 0 ? r.u8() : 0;
  switch (type) {
    case UserVarType.STRING:
      return { kind: 'user-var', name, value: { type: 'string', collation, bytes } };
    case UserVarType.REAL:
      if (bytes.length !== 8) throw r.corrupt(`a REAL value of ${bytes.length} bytes`);
      return { kind: 'user-var', name, value: { type: 'real', value: bytes.readDoubleLE(0) } };
    case UserVarType.INT:
      if (bytes.length !== 8) throw r.corrupt(`an INT value of ${bytes.length} bytes`);
      return {
        kind: 'user-var',
        name,
        value: {
          type: 'int',
          value: flags & UNSIGNED_F ? bytes.readBigUInt64LE(0) : bytes.readBigInt64LE(0),
        },
      };
    case UserVarType.DECIMAL: {
      if (bytes.length < 2) throw r.corrupt('a DECIMAL value without precision and scale');
      try {
        return {
          kind: 'user-var',
          name,
          value: { type: 'decimal', text: binaryDecimalToString(bytes.subarray(2), bytes[0]!, bytes[1]!) },
        };
      } catch (e) {
        throw r.corrupt((e as Error).message);
      }
    }
    default:
      throw r.corrupt(`value type ${type} is not STRING, REAL, INT or DECIMAL`);
  }
}
