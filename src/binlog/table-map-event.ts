// TABLE_MAP_EVENT (type 19): maps a table id to a database and table name before rows events.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
// https://mariadb.com/kb/en/table_map_event/
//
// Post-header (8, or 6 in old servers): table_id uint48 (uint32 when 6), flags uint16.
// Body: db_len uint8, db, 0x00, table_len uint8, table, 0x00, then column metadata (not decoded here).

import type { BinlogEvent } from './binlog-event.js';
import { EventType } from './event-type.js';
import { postHeaderLength } from './format-description-event.js';
import type { ByteReader } from './byte-reader.js';

/** Post-header length of servers with 4-byte table ids (MySQL < 5.1.4). */
const TABLE_MAP_HEADER_LEN_OLD = 6;

/** Decoded TABLE_MAP_EVENT (names only: the indexer searches transactions by table). */
export interface TableMapEventData {
  kind: 'table-map';
  /** The id the following rows events refer to (valid until the table is closed or altered). */
  tableId: number;
  /** Database (schema) name. */
  database: string;
  /** Table name. */
  table: string;
}

/** @throws CorruptDataError when the names run past the body */
export function decodeTableMapEvent(event: BinlogEvent): TableMapEventData {
  const r = event.bodyReader('TABLE_MAP event');
  const phl = postHeaderLength(event.context.fde, EventType.TABLE_MAP) || 8;
  const tableId = phl === TABLE_MAP_HEADER_LEN_OLD ? r.u32() : r.uintN(6);
  r.skip(phl - (phl === TABLE_MAP_HEADER_LEN_OLD ? 4 : 6));
  const database = r.string(r.u8());
  r.skip(1);
  const table = r.string(r.u8());
  r.skip(1);
  return { kind: 'table-map', tableId, database, table };
}

// ---------------------------------------------------------------------------------------------
// Column definitions (for decoding rows events).
// After the names: column_count (packed int), column_type[column_count], metadata_length (packed
// int), metadata (per type, see columnMetaSize), null_bitmap[(column_count + 7) / 8], then MySQL 8 /
// MariaDB 10.5+ optional metadata (binlog_row_metadata): TLV fields (type uint8, length packed int).
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html

/** Column type codes in TABLE_MAP events (enum_field_types), MySQL and MariaDB. */
export const ColumnType = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  /** MySQL 5.6+ / MariaDB 10.1+ temporal types with fractional seconds. */
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  /** MariaDB 10.3+ compressed columns (`COMPRESSED` attribute). */
  MARIADB_BLOB_COMPRESSED: 140,
  MARIADB_VARCHAR_COMPRESSED: 141,
  /** MySQL 9 VECTOR. */
  VECTOR: 242,
  /** MySQL 5.7+ binary JSON (MariaDB's JSON is LONGTEXT, logged as BLOB). */
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** Optional metadata field types (Table_map_event::Optional_metadata_field_type). */
const OptionalMeta = {
  SIGNEDNESS: 1,
  DEFAULT_CHARSET: 2,
  COLUMN_CHARSET: 3,
  COLUMN_NAME: 4,
  SET_STR_VALUE: 5,
  ENUM_STR_VALUE: 6,
  GEOMETRY_TYPE: 7,
  SIMPLE_PRIMARY_KEY: 8,
  PRIMARY_KEY_WITH_PREFIX: 9,
  ENUM_AND_SET_DEFAULT_CHARSET: 10,
  ENUM_AND_SET_COLUMN_CHARSET: 11,
} as const;

/** Collation id 63: the `binary` character set. */
export const BINARY_COLLATION = 63;

/** One column as a TABLE_MAP event describes it. */
export interface TableMapColumn {
  /** Column type code (ColumnType); for STRING columns holding ENUM/SET, the real type. */
  type: number;
  /**
   * Type metadata: FLOAT/DOUBLE/BLOB/JSON/GEOMETRY: bytes (pack length); VARCHAR/VAR_STRING/STRING:
   * maximum length in bytes; NEWDECIMAL: precision; BIT: bits; ENUM/SET: storage bytes;
   * TIMESTAMP2/DATETIME2/TIME2: fractional digits.
   */
  meta: number;
  /** NEWDECIMAL: scale. */
  scale: number;
  nullable: boolean;
  /** From optional metadata (MySQL 8 binlog_row_metadata; MariaDB 10.5+), when logged. */
  name?: string | undefined;
  /** Numeric columns with SIGNEDNESS metadata: true when UNSIGNED. */
  unsigned?: boolean | undefined;
  /** Character columns with charset metadata: the collation id (63 = binary). */
  collation?: number | undefined;
  /** ENUM/SET labels, when logged. */
  labels?: string[] | undefined;
}

/** A TABLE_MAP event with its column definitions. */
export interface TableMapColumns extends TableMapEventData {
  flags: number;
  columns: TableMapColumn[];
  /** Primary key column indexes, when logged (optional metadata). */
  primaryKey?: number[] | undefined;
}

/** Bytes of TABLE_MAP metadata per column type. */
function columnMetaSize(type: number): number {
  switch (type) {
    case ColumnType.FLOAT:
    case ColumnType.DOUBLE:
    case ColumnType.TINY_BLOB:
    case ColumnType.MEDIUM_BLOB:
    case ColumnType.LONG_BLOB:
    case ColumnType.BLOB:
    case ColumnType.GEOMETRY:
    case ColumnType.JSON:
    case ColumnType.TIMESTAMP2:
    case ColumnType.DATETIME2:
    case ColumnType.TIME2:
    case ColumnType.MARIADB_BLOB_COMPRESSED:
    case ColumnType.VECTOR:
      return 1;
    case ColumnType.VARCHAR:
    case ColumnType.VAR_STRING:
    case ColumnType.BIT:
    case ColumnType.NEWDECIMAL:
    case ColumnType.STRING:
    case ColumnType.ENUM:
    case ColumnType.SET:
    case ColumnType.MARIADB_VARCHAR_COMPRESSED:
      return 2;
    default:
      return 0;
  }
}

/** Numeric columns, in the order SIGNEDNESS metadata covers them. */
function isNumeric(type: number): boolean {
  return (
    type === ColumnType.TINY ||
    type === ColumnType.SHORT ||
    type === ColumnType.INT24 ||
    type === ColumnType.LONG ||
    type === ColumnType.LONGLONG ||
    type === ColumnType.NEWDECIMAL ||
    type === ColumnType.FLOAT ||
    type === ColumnType.DOUBLE
  );
}

/** Character columns, in the order DEFAULT_CHARSET / COLUMN_CHARSET metadata covers them. */
function isCharacter(type: number): boolean {
  return (
    type === ColumnType.STRING ||
    type === ColumnType.VAR_STRING ||
    type === ColumnType.VARCHAR ||
    type === ColumnType.BLOB ||
    type === ColumnType.TINY_BLOB ||
    type === ColumnType.MEDIUM_BLOB ||
    type === ColumnType.LONG_BLOB
  );
}

function decodeColumnMeta(type: number, r: ByteReader): { type: number; meta: number; scale: number } {
  switch (columnMetaSize(type)) {
    case 1:
      return { type, meta: r.u8(), scale: 0 };
    case 2:
      break;
    default:
      return { type, meta: 0, scale: 0 };
  }
  if (type === ColumnType.NEWDECIMAL) {
    const precision = r.u8();
    return { type, meta: precision, scale: r.u8() };
  }
  if (type === ColumnType.BIT) {
    const bits = r.u8();
    const bytes = r.u8();
    return { type, meta: bytes * 8 + bits, scale: 0 };
  }
  if (type === ColumnType.STRING || type === ColumnType.ENUM || type === ColumnType.SET) {
    // byte 0: real type; byte 1: length. Lengths above 255 keep two more bits in byte 0
    // (Field_string::do_save_field_metadata): real_type ^ ((length & 0x300) >> 4).
    const b0 = r.u8();
    const b1 = r.u8();
    if ((b0 & 0x30) !== 0x30) return { type: b0 | 0x30, meta: b1 | (((b0 & 0x30) ^ 0x30) << 4), scale: 0 };
    return { type: b0, meta: b1, scale: 0 };
  }
  return { type, meta: r.u16(), scale: 0 };
}

/** Reads one packed-length string list (COLUMN_NAME, ENUM/SET labels). */
function readStrings(r: ByteReader, end: number): string[] {
  const out: string[] = [];
  while (r.pos < end) out.push(r.string(r.packedInt('name length')));
  return out;
}

/**
 * Decodes a TABLE_MAP event fully: names, column types and metadata, nullability and the optional
 * metadata the server logged (signedness, charsets, column names, ENUM/SET labels, primary key).
 *
 * @throws CorruptDataError when the body is malformed
 */
export function decodeTableMapColumns(event: BinlogEvent): TableMapColumns {
  const r = event.bodyReader('TABLE_MAP event');
  const phl = postHeaderLength(event.context.fde, EventType.TABLE_MAP) || 8;
  const tableId = phl === TABLE_MAP_HEADER_LEN_OLD ? r.u32() : r.uintN(6);
  const flags = r.u16();
  r.skip(phl - (phl === TABLE_MAP_HEADER_LEN_OLD ? 4 : 6) - 2);
  const database = r.string(r.u8());
  r.skip(1);
  const table = r.string(r.u8());
  r.skip(1);
  const count = r.packedInt('column count');
  const types = [...r.bytes(count)];
  const metaLen = r.packedInt('metadata length');
  const metaEnd = r.pos + metaLen;
  r.need(metaLen);
  const columns: TableMapColumn[] = types.map((t) => ({ ...decodeColumnMeta(t, r), nullable: false }));
  if (r.pos !== metaEnd)
    throw r.corrupt(
      `column metadata is ${metaLen} bytes, the column types use ${r.pos - (metaEnd - metaLen)}`,
    );
  const nulls = r.bytes((count + 7) >> 3);
  columns.forEach((c, i) => (c.nullable = ((nulls[i >> 3]! >> (i & 7)) & 1) === 1));
  let primaryKey: number[] | undefined;
  while (r.remaining > 0) {
    const field = r.u8();
    const len = r.packedInt('optional metadata length');
    r.need(len);
    const end = r.pos + len;
    switch (field) {
      case OptionalMeta.SIGNEDNESS: {
        const bits = r.bytes(len);
        let k = 0;
        for (const c of columns) {
          if (!isNumeric(c.type)) continue;
          c.unsigned = ((bits[k >> 3]! >> (7 - (k & 7))) & 1) === 1;
          k++;
        }
        break;
      }
      case OptionalMeta.DEFAULT_CHARSET: {
        const def = r.packedInt('default charset');
        const overrides = new Map<number, number>();
        while (r.pos < end) overrides.set(r.packedInt('column index'), r.packedInt('charset'));
        let k = 0;
        for (const c of columns) if (isCharacter(c.type)) c.collation = overrides.get(k++) ?? def;
        break;
      }
      case OptionalMeta.COLUMN_CHARSET: {
        for (const c of columns) if (isCharacter(c.type) && r.pos < end) c.collation = r.packedInt('charset');
        break;
      }
      case OptionalMeta.COLUMN_NAME:
        readStrings(r, end).forEach((n, i) => {
          if (columns[i]) columns[i]!.name = n;
        });
        break;
      case OptionalMeta.ENUM_STR_VALUE:
      case OptionalMeta.SET_STR_VALUE: {
        const want = field === OptionalMeta.ENUM_STR_VALUE ? ColumnType.ENUM : ColumnType.SET;
        const targets = columns.filter((c) => c.type === want);
        for (const c of targets) {
          if (r.pos >= end) break;
          const n = r.packedInt('label count');
          c.labels = Array.from({ length: n }, () => r.string(r.packedInt('label length')));
        }
        break;
      }
      case OptionalMeta.SIMPLE_PRIMARY_KEY:
        primaryKey = [];
        while (r.pos < end) primaryKey.push(r.packedInt('key column'));
        break;
      case OptionalMeta.PRIMARY_KEY_WITH_PREFIX:
        primaryKey = [];
        while (r.pos < end) {
          primaryKey.push(r.packedInt('key column'));
          r.packedInt('key prefix');
        }
        break;
      default:
        break;
    }
    r.pos = end;
  }
  return { kind: 'table-map', tableId, database, table, flags, columns, primaryKey };
}
