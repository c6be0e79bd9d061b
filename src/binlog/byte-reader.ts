// Little-endian cursor over one event's bytes, with the integer encodings binlog events use:
// - fixed-width integers (uint16 ... uint64), as in every event body;
// - "packed" (length-encoded) integers, net_field_length_ll(), as in TRANSACTION_PAYLOAD, HEARTBEAT_V2
//   and the GTID event's transaction_length:
//   https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_dt_integers.html#sect_protocol_basic_dt_int_le
// - the MySQL serialization library's variable-length integers (GTID_TAGGED, tagged PREVIOUS_GTIDS):
//   https://dev.mysql.com/doc/dev/mysql-server/latest/PageLibsMysqlSerialization.html

import { CorruptDataError } from '../errors/index.js';

/** Packed integer prefix: a 2-byte value follows. */
const PACKED_INT_2 = 0xfc;
/** Packed integer prefix: a 3-byte value follows. */
const PACKED_INT_3 = 0xfd;
/** Packed integer prefix: an 8-byte value follows. */
const PACKED_INT_8 = 0xfe;
/** Packed integer prefix 0xfb is SQL NULL in the client protocol; never valid inside binlog events. */
const PACKED_INT_NULL = 0xfb;

const TWO_POW_32 = 2 ** 32;

/**
 * A bounds-checked reader over `buf[start, end)`. Every read past `end` throws a CorruptDataError
 * naming the object and the absolute file offset of the event, so a truncated or damaged body is
 * reported, never read as garbage.
 */
export class ByteReader {
  /** Current read position (index into `buf`). */
  pos: number;

  /**
   * @param buf the bytes (usually one event's raw bytes)
   * @param start first byte to read
   * @param end one past the last readable byte (e.g. the event end minus its checksum)
   * @param object file or stream name for error messages
   * @param fileOffset absolute file offset of `buf[0]`, for error messages
   * @param what what is being decoded, for error messages (e.g. "QUERY event")
   */
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
    readonly object: string,
    readonly fileOffset: number,
    readonly what: string,
  ) {
    this.pos = start;
  }

  /** Bytes left before `end`. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** An error for a malformed body, naming the event and where it starts. */
  corrupt(detail: string): CorruptDataError {
    return new CorruptDataError(
      this.object,
      this.fileOffset,
      `${this.what}: ${detail}. The binlog is damaged or was written by a server this reader does not understand`,
    );
  }

  /** Throws unless `n` more bytes are available. */
  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw this.corrupt(
        `body too short (needed ${n} more bytes at body byte ${this.pos}, have ${this.remaining})`,
      );
    }
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned little-endian integer of 1..6 bytes. */
  uintN(n: number): number {
    this.need(n);
    const v = this.buf.readUIntLE(this.pos, n);
    this.pos += n;
    return v;
  }

  /** Unsigned 56-bit integer (GTID event commit timestamps), as a number (exact below 2^53). */
  u56(): number {
    this.need(7);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUIntLE(this.pos + 4, 3);
    this.pos += 7;
    return hi * TWO_POW_32 + lo;
  }

  /** Unsigned 64-bit integer as a bigint. */
  u64Big(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Unsigned 64-bit integer as a number; throws if it is above Number.MAX_SAFE_INTEGER. */
  u64(field: string): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    if (hi >= 0x200000) {
      throw this.corrupt(
        `${field} is ${(BigInt(hi) << 32n) | BigInt(lo)}, above 2^53, outside the range this reader supports`,
      );
    }
    return hi * TWO_POW_32 + lo;
  }

  /** Signed 64-bit integer as a number (GTID gno, logical timestamps); throws outside the safe range. */
  i64(field: string): number {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw this.corrupt(`${field} ${v} is outside the range this reader supports (|n| < 2^53)`);
    }
    return Number(v);
  }

  /** A subarray of `n` bytes (shares memory with `buf`). */
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** `n` bytes decoded as UTF-8 (schema, table and file names, statement text). */
  string(n: number): string {
    this.need(n);
    const v = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** A packed (length-encoded) integer as MySQL's net_field_length_ll() reads it. */
  packedInt(field: string): number {
    const first = this.u8();
    if (first < PACKED_INT_NULL) return first;
    if (first === PACKED_INT_2) return this.uintN(2);
    if (first === PACKED_INT_3) return this.uintN(3);
    if (first === PACKED_INT_8) return this.u64(field);
    throw this.corrupt(`${field}: invalid packed integer prefix 0x${first.toString(16)}`);
  }

  /**
   * An unsigned variable-length integer of the MySQL serialization library: the number of trailing
   * one bits of the first byte, plus one, is the encoded length (1-9 bytes); the value follows.
   */
  varlenUint(field: string): number {
    const first = this.u8();
    let n = 1;
    while (n < 9 && (first >> (n - 1)) & 1) n++;
    if (n === 1) return first >> 1;
    this.need(n - 1);
    let rest = 0;
    let mul = 1;
    for (let i = 0; i < n - 1; i++) {
      rest += this.buf[this.pos + i]! * mul;
      mul *= 256;
    }
    this.pos += n - 1;
    // For n <= 8 the value is (first >> n) | rest << (8 - n); for n == 9 the 8 bytes are the value.
    const value = n === 9 ? rest : Math.floor(first / 2 ** n) + rest * 2 ** (8 - n);
    if (value > Number.MAX_SAFE_INTEGER) {
      throw this.corrupt(`${field} is above 2^53, outside the range this reader supports`);
    }
    return value;
  }

  /** A signed variable-length integer of the MySQL serialization library (sign in the lowest bit). */
  varlenInt(field: string): number {
    const u = this.varlenUint(field);
    const magnitude = Math.floor(u / 2);
    return u % 2 === 1 ? -magnitude - 1 : magnitude;
  }
}
