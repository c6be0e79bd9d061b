/**
 * mariadb-binlog as the oracle for row-image decoding: `mariadb-binlog -vv --base64-output=decode-rows`
 * prints every column value of every rows event as `###   @N=VALUE /* TYPE ... *\/`. `decodedValueLines`
 * renders mysql-pitr's decoded row images in the same notation, so the two can be compared line by line.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  BinlogEventParser,
  decodeRowsEvent,
  decodeTableMapColumns,
  EventType,
  intValue,
  rowsEventKind,
  rowsEventTableId,
  type BinlogEvent,
  type ColumnValue,
  type RowImage,
  type RowsEventData,
  type TableMapColumns,
} from '../../src/binlog/index.js';

const execFileAsync = promisify(execFile);

/** Every `@N=VALUE` of the oracle, in order, as latin1 text (bytes kept one to one). */
export async function oracleValueLines(file: string, exclude: readonly string[] = []): Promise<string[]> {
  const { stdout } = await execFileAsync('mariadb-binlog', ['-vv', '--base64-output=decode-rows', file], {
    encoding: 'buffer',
    maxBuffer: 1 << 30,
  });
  const out: string[] = [];
  let table = '';
  for (const line of stdout.toString('latin1').split('\n')) {
    const t = /^### (?:INSERT INTO|UPDATE|DELETE FROM) `([^`]+)`\.`([^`]+)`/.exec(line);
    if (t) table = `${t[1]}.${t[2]}`;
    const m = /^### {3}(@\d+=)/.exec(line);
    if (!m || exclude.includes(table)) continue;
    const end = line.lastIndexOf(' /* ');
    out.push(line.slice(line.indexOf('@'), end));
  }
  return out;
}

/** A value as mariadb-binlog -v prints it (log_event_print_value), latin1. */
export function oracleText(v: ColumnValue | null): string {
  if (v === null) return 'NULL';
  switch (v.t) {
    case 'int': {
      const s = intValue(v, false);
      return s < 0n ? `${s} (${v.raw})` : String(s);
    }
    case 'decimal':
      return v.text;
    case 'float':
      return `~${v.value}`;
    case 'year':
      return String(v.value === 0 ? 1900 : v.value); // mariadb-binlog prints the stored byte + 1900
    case 'timestamp': {
      const [sec, frac] = v.text.split('.');
      const seconds = sec === '0000-00-00 00:00:00' ? 0 : Date.parse(`${sec!.replace(' ', 'T')}Z`) / 1000;
      return frac ? `${seconds}.${frac}` : String(seconds);
    }
    case 'date':
      return `'${v.text.replace(/-/g, ':')}'`; // mariadb-binlog prints DATE as YYYY:MM:DD
    case 'time':
    case 'datetime':
      return `'${v.text}'`;
    case 'bit': {
      return `b'${v.value.toString(2).padStart(v.bits, '0')}'`;
    }
    case 'enum':
      return String(v.index);
    case 'set':
      return `b'${v.bits.toString(2).padStart(8 * Math.ceil(v.bits.toString(2).length / 8), '0')}'`;
    case 'string':
    case 'geometry': {
      let s = "'";
      for (const b of v.bytes)
        s += b > 0x1f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
      return `${s}'`;
    }
    case 'json':
      return v.text;
  }
}

/** Decoded rows events of a binlog file (whole bytes), with their table maps. */
export function decodeFileRows(
  bytes: Buffer,
  object = 'fixture',
  chunk?: number,
  exclude: readonly string[] = [],
): { map: TableMapColumns; data: RowsEventData; compressed: boolean }[] {
  const parser = new BinlogEventParser({ object });
  const events: BinlogEvent[] = [];
  if (chunk)
    for (let i = 0; i < bytes.length; i += chunk) events.push(...parser.push(bytes.subarray(i, i + chunk)));
  else events.push(...parser.push(bytes));
  const maps = new Map<number, TableMapColumns>();
  const out: { map: TableMapColumns; data: RowsEventData; compressed: boolean }[] = [];
  for (const e of events) {
    if (e.typeCode === EventType.TABLE_MAP) {
      const m = decodeTableMapColumns(e);
      maps.set(m.tableId, m);
    } else if (rowsEventKind(e.typeCode)) {
      const map = maps.get(rowsEventTableId(e))!;
      if (exclude.includes(`${map.database}.${map.table}`)) continue;
      const compressed =
        e.typeCode >= EventType.MARIADB_WRITE_ROWS_COMPRESSED_V1 &&
        e.typeCode <= EventType.MARIADB_DELETE_ROWS_COMPRESSED;
      out.push({ map, data: decodeRowsEvent(e, map), compressed });
    }
  }
  return out;
}

function imageLines(image: RowImage | undefined, out: string[]): void {
  if (!image) return;
  for (let i = 0; i < image.length; i++) {
    const v = image[i];
    if (v === undefined) continue;
    out.push(`@${i + 1}=${oracleText(v)}`);
  }
}

/** Every decoded value in the oracle's notation and order (UPDATE: before image, then after). */
export function decodedValueLines(rows: { data: RowsEventData }[]): string[] {
  const out: string[] = [];
  for (const { data } of rows) {
    for (const r of data.rows) {
      imageLines(r.before, out);
      imageLines(r.after, out);
    }
  }
  return out;
}

/** Compares decoded lines with the oracle's; floats (`~`) by value to the oracle's printed precision. */
export function firstDifference(ours: string[], oracle: string[]): string | undefined {
  const n = Math.max(ours.length, oracle.length);
  for (let i = 0; i < n; i++) {
    const a = ours[i];
    const b = oracle[i];
    if (a === b) continue;
    if (a !== undefined && b !== undefined) {
      const fa = /^(@\d+=)~(.*)$/.exec(a);
      const fb = /^(@\d+=)(.*)$/.exec(b);
      if (fa && fb && fa[1] === fb[1]) {
        const x = Number(fa[2]);
        const y = Number(fb[2]);
        if (Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(x))) continue;
      }
    }
    return `line ${i}: decoded ${a?.slice(0, 200)} | mariadb-binlog ${b?.slice(0, 200)}`;
  }
  return undefined;
}
