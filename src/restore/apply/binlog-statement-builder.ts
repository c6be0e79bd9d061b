// `BINLOG '<base64>'` statements from raw binlog events: how row events are applied exactly.
// https://mariadb.com/kb/en/binlog/ (the BINLOG statement, and `BINLOG @binlog_fragment_0,
// @binlog_fragment_1` for an event larger than one packet) and
// https://dev.mysql.com/doc/refman/8.0/en/binlog.html
//
// The server decodes the base64 and runs the events in it as a replica would. The events go as the
// binlog holds them, CRC32 trailer included: the server strips the trailer according to the
// FORMAT_DESCRIPTION it was given first (as mariadb-binlog prints them). A BINLOG statement's table
// maps do not outlive it: rows events whose TABLE_MAP was in an earlier BINLOG statement are
// silently ignored by the server, so every statement built here carries the table maps again.

import { PitrError } from '../../errors/index.js';

const BINLOG_OPEN = Buffer.from("BINLOG '");
const BINLOG_CLOSE = Buffer.from("'");
/** Bytes a `BINLOG '...'` statement adds to its base64. */
const BINLOG_OVERHEAD = BINLOG_OPEN.length + BINLOG_CLOSE.length;
const FRAGMENT_SET = (i: number): string => `SET @binlog_fragment_${i}='`;
/** The statement that applies the two fragments. */
export const BINLOG_FRAGMENTS_SQL = 'BINLOG @binlog_fragment_0, @binlog_fragment_1';
/** Frees the fragments' memory once applied. */
export const BINLOG_FRAGMENTS_FREE_SQL = 'SET @binlog_fragment_0=NULL, @binlog_fragment_1=NULL';

/** Length of the base64 text of `n` bytes. */
export const base64Length = (n: number): number => Math.ceil(n / 3) * 4;

/** `BINLOG '<base64 of the events, back to back>'`. */
export function binlogStatement(events: readonly Buffer[]): Buffer {
  const b64 = Buffer.concat(events as Buffer[]).toString('base64');
  return Buffer.concat([BINLOG_OPEN, Buffer.from(b64, 'latin1'), BINLOG_CLOSE]);
}

/** An event (or events) too large for a BINLOG statement on this target. */
export class BinlogEventTooBigError extends PitrError {
  constructor(
    /** Bytes of the events that must go in one statement (table maps and one rows event). */
    readonly eventBytes: number,
    /** The largest statement the target accepts (its max_allowed_packet less a margin). */
    readonly maxStatementBytes: number,
    /** A max_allowed_packet large enough for these events. */
    readonly neededPacket: number,
  ) {
    super(
      'RESTORE_APPLY_FAILED',
      `a rows event with its table maps is ${eventBytes} bytes: even split in two fragments its base64 does not fit ` +
        `in a ${maxStatementBytes}-byte statement. Raise max_allowed_packet on the target to at least ${neededPacket} ` +
        `(SET GLOBAL max_allowed_packet=${neededPacket}, then reconnect)`,
    );
  }
}

/**
 * The statements that apply one row group (the TABLE_MAPs of a statement and its rows events, in
 * binlog order), each at most `maxStatementBytes`:
 * - one `BINLOG '...'` when it fits;
 * - else several, each with all the table maps and as many rows events as fit (the rows events
 *   before the last carry no STMT_END_F, so the server keeps the tables open between them);
 * - a rows event that does not fit even alone goes in two fragments:
 *   `SET @binlog_fragment_0='...'`, `SET @binlog_fragment_1='...'`,
 *   `BINLOG @binlog_fragment_0, @binlog_fragment_1`, then the fragments are freed.
 *
 * @throws BinlogEventTooBigError when a rows event with the table maps exceeds two fragments
 */
export function rowGroupStatements(
  tableMaps: readonly Buffer[],
  rows: readonly Buffer[],
  maxStatementBytes: number,
): Buffer[] {
  const mapBytes = tableMaps.reduce((a, b) => a + b.length, 0);
  const fits = (bytes: number): boolean => base64Length(bytes) + BINLOG_OVERHEAD <= maxStatementBytes;
  if (rows.length === 0) return tableMaps.length > 0 ? [binlogStatement(tableMaps)] : [];
  const out: Buffer[] = [];
  let part: Buffer[] = [];
  let partBytes = mapBytes;
  const flush = (): void => {
    if (part.length > 0) out.push(binlogStatement([...tableMaps, ...part]));
    part = [];
    partBytes = mapBytes;
  };
  for (const r of rows) {
    if (fits(partBytes + r.length)) {
      part.push(r);
      partBytes += r.length;
      continue;
    }
    flush();
    if (fits(mapBytes + r.length)) {
      part.push(r);
      partBytes += r.length;
      continue;
    }
    out.push(...fragmentStatements([...tableMaps, r], maxStatementBytes));
  }
  flush();
  return out;
}

/** The four statements that apply `events` through two user-variable fragments. */
function fragmentStatements(events: Buffer[], maxStatementBytes: number): Buffer[] {
  const bytes = events.reduce((a, b) => a + b.length, 0);
  const b64 = Buffer.concat(events).toString('base64');
  const half = Math.ceil(b64.length / 2);
  const setOverhead = FRAGMENT_SET(0).length + 1;
  if (half + setOverhead > maxStatementBytes) {
    // each fragment's SET must fit in a packet: the packet needs half the base64 plus the margin
    const needed = Math.ceil((half + setOverhead + 1024) / 1024) * 1024 + 1024;
    throw new BinlogEventTooBigError(bytes, maxStatementBytes, needed);
  }
  return [
    Buffer.from(`${FRAGMENT_SET(0)}${b64.slice(0, half)}'`, 'latin1'),
    Buffer.from(`${FRAGMENT_SET(1)}${b64.slice(half)}'`, 'latin1'),
    Buffer.from(BINLOG_FRAGMENTS_SQL),
    Buffer.from(BINLOG_FRAGMENTS_FREE_SQL),
  ];
}

/** True for a statement this module built that runs events (`BINLOG '...'` or `BINLOG @...`). */
export function isBinlogStatement(sql: Buffer): boolean {
  return sql.length > 7 && sql.subarray(0, 7).toString('latin1') === 'BINLOG ';
}
