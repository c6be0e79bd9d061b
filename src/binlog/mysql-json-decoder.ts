// MySQL's binary JSON format (JSON columns in MySQL 5.7+ row images), decoded to JSON text.
// https://dev.mysql.com/doc/dev/mysql-server/latest/json__binary_8h.html
// (MariaDB stores JSON as LONGTEXT: its row images hold the text itself.)

/** Value type bytes of the binary JSON format. */
const JsonType = {
  SMALL_OBJECT: 0x00,
  LARGE_OBJECT: 0x01,
  SMALL_ARRAY: 0x02,
  LARGE_ARRAY: 0x03,
  LITERAL: 0x04,
  INT16: 0x05,
  UINT16: 0x06,
  INT32: 0x07,
  UINT32: 0x08,
  INT64: 0x09,
  UINT64: 0x0a,
  DOUBLE: 0x0b,
  STRING: 0x0c,
  OPAQUE: 0x0f,
} as const;

/** LITERAL values. */
const JsonLiteral = { NULL: 0x00, TRUE: 0x01, FALSE: 0x02 } as const;

/** Field types of OPAQUE values this decoder renders (enum_field_types). */
const OPAQUE_NEWDECIMAL = 246;
const OPAQUE_DATE = 10;
const OPAQUE_TIME = 11;
const OPAQUE_DATETIME = 12;
const OPAQUE_TIMESTAMP = 7;

type Fail = (detail: string) => Error;

function varLength(b: Buffer, pos: number, fail: Fail): [number, number] {
  let len = 0;
  for (let i = 0; i < 5; i++) {
    if (pos + i >= b.length) throw fail('string length runs past the value');
    const byte = b[pos + i]!;
    len += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return [len, pos + i + 1];
  }
  throw fail('string length longer than 5 bytes');
}

/** A packed temporal (my_time.cc TIME_to_longlong_*_packed) in an OPAQUE value, as text. */
function packedTemporal(fieldType: number, packed: bigint): string {
  const negative = packed < 0n;
  const p = negative ? -packed : packed;
  const micros = Number(p % (1n << 24n));
  const frac = micros ? `.${String(micros).padStart(6, '0')}` : '';
  const two = (n: bigint): string => String(n).padStart(2, '0');
  if (fieldType === OPAQUE_TIME) {
    const hms = p >> 24n;
    return `${negative ? '-' : ''}${two((hms >> 12n) % 1024n)}:${two((hms >> 6n) % 64n)}:${two(hms % 64n)}${frac}`;
  }
  const ymdhms = p >> 24n;
  const ymd = ymdhms >> 17n;
  const hms = ymdhms % (1n << 17n);
  const ym = ymd >> 5n;
  const date = `${String(ym / 13n).padStart(4, '0')}-${two(ym % 13n)}-${two(ymd % 32n)}`;
  if (fieldType === OPAQUE_DATE) return date;
  return `${date} ${two(hms >> 12n)}:${two((hms >> 6n) % 64n)}:${two(hms % 64n)}${frac}`;
}

function decodeValue(b: Buffer, type: number, pos: number, end: number, fail: Fail): string {
  const need = (n: number): void => {
    if (pos + n > end) throw fail(`value of type 0x${type.toString(16)} runs past the document`);
  };
  switch (type) {
    case JsonType.SMALL_OBJECT:
    case JsonType.LARGE_OBJECT:
    case JsonType.SMALL_ARRAY:
    case JsonType.LARGE_ARRAY:
      return decodeContainer(b, type, pos, end, fail);
    case JsonType.LITERAL:
      need(1);
      if (b[pos] === JsonLiteral.NULL) return 'null';
      if (b[pos] === JsonLiteral.TRUE) return 'true';
      if (b[pos] === JsonLiteral.FALSE) return 'false';
      throw fail(`unknown literal ${b[pos]}`);
    case JsonType.INT16:
      need(2);
      return String(b.readInt16LE(pos));
    case JsonType.UINT16:
      need(2);
      return String(b.readUInt16LE(pos));
    case JsonType.INT32:
      need(4);
      return String(b.readInt32LE(pos));
    case JsonType.UINT32:
      need(4);
      return String(b.readUInt32LE(pos));
    case JsonType.INT64:
      need(8);
      return String(b.readBigInt64LE(pos));
    case JsonType.UINT64:
      need(8);
      return String(b.readBigUInt64LE(pos));
    case JsonType.DOUBLE: {
      need(8);
      const d = b.readDoubleLE(pos);
      return Number.isInteger(d) && Math.abs(d) < 1e15 ? d.toFixed(1) : String(d);
    }
    case JsonType.STRING: {
      const [len, start] = varLength(b, pos, fail);
      if (start + len > end) throw fail('string runs past the document');
      return JSON.stringify(b.toString('utf8', start, start + len));
    }
    case JsonType.OPAQUE: {
      need(1);
      const fieldType = b[pos]!;
      const [len, start] = varLength(b, pos + 1, fail);
      if (start + len > end) throw fail('opaque value runs past the document');
      const data = b.subarray(start, start + len);
      if (fieldType === OPAQUE_NEWDECIMAL && len >= 2) {
        return decodeDecimalOpaque(data);
      }
      if (
        (fieldType === OPAQUE_DATE ||
          fieldType === OPAQUE_TIME ||
          fieldType === OPAQUE_DATETIME ||
          fieldType === OPAQUE_TIMESTAMP) &&
        len >= 8
      ) {
        return JSON.stringify(packedTemporal(fieldType, data.readBigInt64LE(0)));
      }
      return JSON.stringify(`base64:type${fieldType}:${data.toString('base64')}`);
    }
    default:
      throw fail(`unknown value type 0x${type.toString(16)}`);
  }
}

let decimalDecoder: ((src: Buffer, precision: number, scale: number) => string) | undefined;

/** Set by column-value-decoder.ts (avoids an import cycle). */
export function setJsonDecimalDecoder(f: (src: Buffer, precision: number, scale: number) => string): void {
  decimalDecoder = f;
}

function decodeDecimalOpaque(data: Buffer): string {
  const precision = data[0]!;
  const scale = data[1]!;
  return decimalDecoder ? decimalDecoder(data.subarray(2), precision, scale) : '0';
}

function decodeContainer(b: Buffer, type: number, base: number, end: number, fail: Fail): string {
  const large = type === JsonType.LARGE_OBJECT || type === JsonType.LARGE_ARRAY;
  const isObject = type === JsonType.SMALL_OBJECT || type === JsonType.LARGE_OBJECT;
  const w = large ? 4 : 2;
  const read = (p: number): number => {
    if (p + w > end) throw fail('container header runs past the document');
    return large ? b.readUInt32LE(p) : b.readUInt16LE(p);
  };
  const count = read(base);
  const size = read(base + w);
  if (base + size > end) throw fail(`container of ${size} bytes runs past the document`);
  const limit = base + size;
  let p = base + 2 * w;
  const keys: string[] = [];
  if (isObject) {
    for (let i = 0; i < count; i++) {
      const off = read(p);
      if (p + w + 2 > limit) throw fail('key entry runs past the container');
      const len = b.readUInt16LE(p + w);
      if (base + off + len > limit) throw fail('key runs past the container');
      keys.push(b.toString('utf8', base + off, base + off + len));
      p += w + 2;
    }
  }
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 1 + w > limit) throw fail('value entry runs past the container');
    const vt = b[p]!;
    const inlined =
      vt === JsonType.LITERAL ||
      vt === JsonType.INT16 ||
      vt === JsonType.UINT16 ||
      (large && (vt === JsonType.INT32 || vt === JsonType.UINT32));
    values.push(
      inlined
        ? decodeValue(b, vt, p + 1, p + 1 + w, fail)
        : decodeValue(b, vt, base + read(p + 1), limit, fail),
    );
    p += 1 + w;
  }
  if (isObject) return `{${keys.map((k, i) => `${JSON.stringify(k)}: ${values[i]}`).join(', ')}}`;
  return `[${values.join(', ')}]`;
}

/**
 * The JSON text of a binary JSON document, formatted as MySQL prints it (`{"a": 1, "b": [true]}`).
 * An empty document (a JSON column set to SQL NULL is not logged as one) is `null`.
 *
 * @param fail makes the error for a malformed document
 */
export function decodeMysqlJson(doc: Buffer, fail: Fail): string {
  if (doc.length === 0) return 'null';
  return decodeValue(doc, doc[0]!, 1, doc.length, fail);
}
