// SQL text for undo: exact literals for row-image values, the expressions that read a column back in
// the same canonical text, and the statements that reverse row changes. Pure.

import { intValue, type ColumnValue } from '../binlog/index.js';
import type { TargetColumn, TargetTable } from './target-table.js';

/** `name` as a quoted identifier. */
export function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** `db`.`table`. */
export function qualifiedName(t: Pick<TargetTable, 'database' | 'table'>): string {
  return `${quoteIdent(t.database)}.${quoteIdent(t.table)}`;
}

const STRING_TYPES = new Set([
  'char',
  'varchar',
  'binary',
  'varbinary',
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'inet6',
  'uuid',
]);

/** Charsets whose text is written as a readable quoted literal when it is printable UTF-8. */
const UTF8_CHARSETS = new Set(['utf8mb4', 'utf8mb3', 'utf8']);

/** Compared as numbers: the text forms of a FLOAT/DOUBLE may differ in notation, not in value. */
export function isFloatColumn(c: TargetColumn): boolean {
  return c.dataType === 'float' || c.dataType === 'double' || c.dataType === 'real';
}

/**
 * An expression that reads column `c` back as the same canonical text valueText() makes from a row
 * image value: HEX for strings, BLOBs and geometry; the number for BIT, ENUM (index) and SET (bits);
 * the double for FLOAT/DOUBLE; CAST AS CHAR otherwise (temporal values need time_zone '+00:00').
 */
export function readExpr(c: TargetColumn): string {
  const col = quoteIdent(c.name);
  if (STRING_TYPES.has(c.dataType)) return `HEX(${col})`;
  if (c.dataType === 'bit' || c.dataType === 'enum' || c.dataType === 'set')
    return `CAST(${col} + 0 AS CHAR)`;
  if (isFloatColumn(c)) return `CAST(${col} + 0e0 AS CHAR)`;
  return `CAST(${col} AS CHAR)`;
}

function hexOf(bytes: Buffer, c: TargetColumn): string {
  let b = bytes;
  // BINARY(n) is stored zero-padded; a row image holds it without the trailing zero bytes.
  if (c.dataType === 'binary' && c.octetLength && b.length < c.octetLength) {
    b = Buffer.concat([b, Buffer.alloc(c.octetLength - b.length)]);
  }
  return b.toString('hex').toUpperCase();
}

/** The canonical text of a row-image value (see readExpr); null for SQL NULL. */
export function valueText(v: ColumnValue | null, c: TargetColumn): string | null {
  if (v === null) return null;
  switch (v.t) {
    case 'int':
      return String(intValue(v, c.unsigned));
    case 'decimal':
    case 'date':
    case 'time':
    case 'datetime':
    case 'timestamp':
      return v.text;
    case 'float':
      return String(v.value);
    case 'year':
      return v.value === 0 ? '0000' : String(v.value);
    case 'bit':
      return String(v.value);
    case 'enum':
      return String(v.index);
    case 'set':
      return String(v.bits);
    case 'string':
      return STRING_TYPES.has(c.dataType) ? hexOf(v.bytes, c) : v.bytes.toString('utf8');
    case 'geometry':
      return hexOf(v.bytes, c);
    case 'json':
      return v.text;
  }
}

/** True when the text read back from the target (readExpr) equals the row-image value's text. */
export function sameValue(expected: string | null, found: string | null, c: TargetColumn): boolean {
  if (expected === null || found === null) return expected === found;
  if (isFloatColumn(c)) return Number(expected) === Number(found);
  return expected === found;
}

/** A canonical text as an operator reads it: string columns as quoted text when printable. */
export function displayText(text: string | null, c: TargetColumn): string {
  if (text === null) return 'NULL';
  if (STRING_TYPES.has(c.dataType) && c.charset) {
    const s = Buffer.from(text, 'hex').toString('utf8');
    if (Buffer.from(s, 'utf8').toString('hex').toUpperCase() === text && !/[\p{Cc}]/u.test(s)) {
      return `'${s.length > 80 ? `${s.slice(0, 80)}...` : s}'`;
    }
  }
  if (STRING_TYPES.has(c.dataType)) return `0x${text.length > 160 ? `${text.slice(0, 160)}...` : text}`;
  return text;
}

/** True when every byte is printable ASCII other than the backslash. */
function printableAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b >= 0x7f || b === 0x5c) return false;
  }
  return true;
}

function stringLiteral(bytes: Buffer, c: TargetColumn): string {
  const charset = c.charset;
  if (!charset || charset === 'binary') return `X'${bytes.toString('hex').toUpperCase()}'`;
  // Printable ASCII is the same text in every charset the server converts from utf8mb4.
  if (printableAscii(bytes)) return `'${bytes.toString('latin1').replace(/'/g, "''")}'`;
  if (UTF8_CHARSETS.has(charset)) {
    const s = bytes.toString('utf8');
    // Readable only without backslashes (their meaning depends on NO_BACKSLASH_ESCAPES) and control
    // characters, and only when the bytes are exactly that UTF-8 text.
    if (!/[\\\p{Cc}]/u.test(s) && Buffer.from(s, 'utf8').equals(bytes)) return `'${s.replace(/'/g, "''")}'`;
  }
  return `_${charset} X'${bytes.toString('hex').toUpperCase()}'`;
}

/** The exact SQL literal of a row-image value for column `c`. */
export function valueLiteral(v: ColumnValue | null, c: TargetColumn): string {
  if (v === null) return 'NULL';
  switch (v.t) {
    case 'int':
      return String(intValue(v, c.unsigned));
    case 'decimal':
      return v.text;
    case 'float':
      // The shortest exponent form that reads back as exactly this double (a FLOAT's value widens
      // exactly to a double and narrows back to the same FLOAT).
      return v.value.toExponential();
    case 'year':
      return String(v.value);
    case 'date':
    case 'time':
    case 'datetime':
    case 'timestamp':
      return `'${v.text}'`;
    case 'bit':
      return `b'${v.value.toString(2)}'`;
    case 'enum':
      return String(v.index);
    case 'set':
      return String(v.bits);
    case 'string':
      return stringLiteral(v.bytes, c);
    case 'geometry':
      return `X'${v.bytes.toString('hex').toUpperCase()}'`;
    case 'json': {
      const inner = /[\\\p{Cc}]/u.test(v.text)
        ? `_utf8mb4 X'${Buffer.from(v.text, 'utf8').toString('hex').toUpperCase()}'`
        : `'${v.text.replace(/'/g, "''")}'`;
      return `CAST(${inner} AS JSON)`;
    }
  }
}
