// WRITE_ROWS / UPDATE_ROWS / DELETE_ROWS events (v1: types 23-25, v2: 30-32; MariaDB compressed
// 166-171): the row images of row-based replication.
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rows__event.html
// https://mariadb.com/kb/en/rows_event_v1v2-rows_compressed_event_v1/
//
// Post-header: table_id uint48 (uint32 with a 6-byte post-header), flags uint16, and in v2
// extra_data_length uint16 (counting itself) followed by that many bytes less two.
// Body: column_count (packed int), columns_present bitmap, for UPDATE a second bitmap for the after
// image, then rows: each image is a NULL bitmap over the present columns, then the present non-NULL
// values (column-value-decoder.ts); an UPDATE row is the before image followed by the after image.
// MariaDB's compressed events hold the rows part zlib-compressed behind a header byte
// (0x80 | length-of-length) and the big-endian uncompressed length.

import { inflateSync } from 'node:zlib';
import type { BinlogEvent } from './binlog-event.js';
import { BinlogFormatError } from './binlog-format-error.js';
import { ByteReader } from './byte-reader.js';
import { decodeColumnValue, UnsupportedColumnTypeError, type ColumnValue } from './column-value-decoder.js';
import { EventType } from './event-type.js';
import { postHeaderLength } from './format-description-event.js';
import type { TableMapColumns } from './table-map-event.js';

/** What a rows event does to its rows. */
export type RowsEventKind = 'insert' | 'update' | 'delete';

/** Post-header length of servers with 4-byte table ids (MySQL < 5.1.4). */
const ROWS_HEADER_LEN_OLD = 6;

const KINDS = new Map<number, { kind: RowsEventKind; v2: boolean; compressed: boolean }>([
  [EventType.WRITE_ROWS_V1, { kind: 'insert', v2: false, compressed: false }],
  [EventType.UPDATE_ROWS_V1, { kind: 'update', v2: false, compressed: false }],
  [EventType.DELETE_ROWS_V1, { kind: 'delete', v2: false, compressed: false }],
  [EventType.WRITE_ROWS_V2, { kind: 'insert', v2: true, compressed: false }],
  [EventType.UPDATE_ROWS_V2, { kind: 'update', v2: true, compressed: false }],
  [EventType.DELETE_ROWS_V2, { kind: 'delete', v2: true, compressed: false }],
  [EventType.MARIADB_WRITE_ROWS_COMPRESSED_V1, { kind: 'insert', v2: false, compressed: true }],
  [EventType.MARIADB_UPDATE_ROWS_COMPRESSED_V1, { kind: 'update', v2: false, compressed: true }],
  [EventType.MARIADB_DELETE_ROWS_COMPRESSED_V1, { kind: 'delete', v2: false, compressed: true }],
  [EventType.MARIADB_WRITE_ROWS_COMPRESSED, { kind: 'insert', v2: true, compressed: true }],
  [EventType.MARIADB_UPDATE_ROWS_COMPRESSED, { kind: 'update', v2: true, compressed: true }],
  [EventType.MARIADB_DELETE_ROWS_COMPRESSED, { kind: 'delete', v2: true, compressed: true }],
]);

/** The kind of a rows event type, or undefined for other types (PARTIAL_UPDATE_ROWS included). */
export function rowsEventKind(typeCode: number): RowsEventKind | undefined {
  return KINDS.get(typeCode)?.kind;
}

/**
 * A row image: one entry per table column; `undefined` for a column not in the image (MINIMAL or
 * NOBLOB row images), `null` for SQL NULL.
 */
export type RowImage = (ColumnValue | null | undefined)[];

/** One row change: `after` for inserts, `before` for deletes, both for updates. */
export interface RowChange {
  before?: RowImage;
  after?: RowImage;
}

/** A decoded rows event. */
export interface RowsEventData {
  kind: 'rows';
  rowsKind: RowsEventKind;
  tableId: number;
  flags: number;
  /** Columns in the table (the event's width). */
  columnCount: number;
  /** Columns present in the before image (UPDATE, DELETE) or the after image (WRITE). */
  present: boolean[];
  /** UPDATE: columns present in the after image. */
  presentAfter: boolean[] | undefined;
  rows: RowChange[];
}

/** Header fields only: enough to find the TABLE_MAP a rows event refers to. */
export function rowsEventTableId(event: BinlogEvent): number {
  const r = event.bodyReader('rows event');
  const phl = postHeaderLength(event.context.fde, event.typeCode);
  return phl === ROWS_HEADER_LEN_OLD ? r.u32() : r.uintN(6);
}

function readBitmap(r: ByteReader, n: number): boolean[] {
  const b = r.bytes((n + 7) >> 3);
  return Array.from({ length: n }, (_, i) => ((b[i >> 3]! >> (i & 7)) & 1) === 1);
}

function uncompressRows(r: ByteReader): Buffer {
  const head = r.u8();
  const lenLen = head & 0x07;
  if (lenLen < 1 || lenLen > 4) throw r.corrupt(`compressed rows header byte 0x${head.toString(16)}`);
  const size = r.bytes(lenLen).readUIntBE(0, lenLen);
  let out: Buffer;
  try {
    out = inflateSync(r.bytes(r.remaining));
  } catch (err) {
    throw r.corrupt(`compressed rows do not inflate: ${(err as Error).message}`);
  }
  if (out.length !== size)
    throw r.corrupt(`compressed rows inflate to ${out.length} bytes, the header says ${size}`);
  return out;
}

/**
 * Decodes a rows event into row images using its TABLE_MAP's column definitions.
 *
 * @param table the decoded TABLE_MAP (decodeTableMapColumns) the event's table id refers to
 * @throws CorruptDataError when the body is malformed or does not fit the table's columns;
 *   BinlogFormatError for a column type row images cannot be read for (old DECIMAL, MariaDB
 *   COMPRESSED columns) or a table id that does not match `table`
 */
export function decodeRowsEvent(event: BinlogEvent, table: TableMapColumns): RowsEventData {
  const info = KINDS.get(event.typeCode);
  const what = `${event.typeName} event of ${table.database}.${table.table}`;
  let r = event.bodyReader(what);
  if (!info) throw r.corrupt('not a rows event');
  const phl = postHeaderLength(event.context.fde, event.typeCode);
  const tableId = phl === ROWS_HEADER_LEN_OLD ? r.u32() : r.uintN(6);
  const flags = r.u16();
  if (info.v2) {
    const extra = r.u16();
    if (extra < 2) throw r.corrupt(`extra data length ${extra} is below 2`);
    r.skip(extra - 2);
  }
  if (tableId !== table.tableId) {
    throw new BinlogFormatError(
      event.context.object,
      event.offset,
      `${what} refers to table id ${tableId}, the TABLE_MAP before it maps ${table.tableId}`,
    );
  }
  const columnCount = r.packedInt('column count');
  if (columnCount !== table.columns.length) {
    throw r.corrupt(`the event has ${columnCount} columns, its TABLE_MAP ${table.columns.length}`);
  }
  const present = readBitmap(r, columnCount);
  const presentAfter = info.kind === 'update' ? readBitmap(r, columnCount) : undefined;
  if (info.compressed) {
    const rows = uncompressRows(r);
    r = new ByteReader(
      rows,
      0,
      rows.length,
      event.context.object,
      event.offset,
      `${what} (uncompressed rows)`,
    );
  }
  const readImage = (mask: boolean[]): RowImage => {
    const cols = mask.reduce((n, p) => n + (p ? 1 : 0), 0);
    const nulls = r.bytes((cols + 7) >> 3);
    const image: RowImage = new Array<ColumnValue | null | undefined>(columnCount);
    let k = 0;
    for (let i = 0; i < columnCount; i++) {
      if (!mask[i]) continue;
      if ((nulls[k >> 3]! >> (k & 7)) & 1) image[i] = null;
      else {
        try {
          image[i] = decodeColumnValue(r, table.columns[i]!);
        } catch (err) {
          if (!(err instanceof UnsupportedColumnTypeError)) throw err;
          throw new BinlogFormatError(
            event.context.object,
            event.offset,
            `column ${i + 1} of ${table.database}.${table.table} has type ${err.columnType}, which row images cannot be ` +
              'decoded for (pre-5.0 DECIMAL, or a MariaDB COMPRESSED column)',
          );
        }
      }
      k++;
    }
    return image;
  };
  const rows: RowChange[] = [];
  while (r.remaining > 0) {
    if (info.kind === 'insert') rows.push({ after: readImage(present) });
    else if (info.kind === 'delete') rows.push({ before: readImage(present) });
    else {
      const before = readImage(present);
      rows.push({ before, after: readImage(presentAfter!) });
    }
  }
  return { kind: 'rows', rowsKind: info.kind, tableId, flags, columnCount, present, presentAfter, rows };
}
