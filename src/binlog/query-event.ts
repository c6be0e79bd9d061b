// QUERY_EVENT (type 2): a statement (DDL, BEGIN/COMMIT/ROLLBACK, XA statements, statement-based DML).
// MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Query__event.html
// MariaDB: https://mariadb.com/kb/en/query_event/
//
// Post-header (13 bytes in binlog v4):
//   0 thread_id uint32, 4 exec_time uint32, 8 schema_length uint8, 9 error_code uint16,
//  11 status_vars_length uint16
// Body: status_vars[status_vars_length], schema[schema_length], 0x00, statement text (to the body end).

import type { BinlogEvent } from './binlog-event.js';
import { EventType } from './event-type.js';
import { postHeaderLength } from './format-description-event.js';

/** Offset of schema_length in the post-header. */
const OFFSET_SCHEMA_LENGTH = 8;
/** Offset of status_vars_length in the post-header. */
const OFFSET_STATUS_VARS_LENGTH = 11;
/** Post-header length without status_vars_length (binlog v1/v3); v4 adds 2 bytes. */
const QUERY_HEADER_MINIMAL_LEN = 11;

/**
 * What a QUERY statement means for transaction boundaries:
 * - `begin`: BEGIN (opens a transaction);
 * - `commit` / `rollback`: COMMIT / ROLLBACK (close one);
 * - `xa-start`, `xa-end`, `xa-prepare`, `xa-commit`, `xa-rollback`: the XA statements
 *   (`XA START` opens like BEGIN; MariaDB closes a prepared XA transaction with an `XA PREPARE` QUERY);
 * - `ddl-transaction`: MySQL 8.0.21+ `CREATE TABLE ... SELECT`, logged as
 *   `CREATE TABLE ... START TRANSACTION` and followed by rows and an XID: it opens like BEGIN;
 * - `statement`: anything else (DDL, statement-based DML, SAVEPOINT, ROLLBACK TO ...).
 */
export type QueryStatementKind =
  | 'begin'
  | 'commit'
  | 'rollback'
  | 'xa-start'
  | 'xa-end'
  | 'xa-prepare'
  | 'xa-commit'
  | 'xa-rollback'
  | 'ddl-transaction'
  | 'statement';

/** Decoded QUERY_EVENT body. */
export interface QueryEventData {
  kind: 'query';
  /** Thread (connection) id on the source. */
  threadId: number;
  /** Seconds the statement took on the source. */
  execTime: number;
  /** Error code the statement ended with on the source (0 = success). */
  errorCode: number;
  /** Default database when the statement ran (may be empty). */
  schema: string;
  /** The statement text, decoded as UTF-8. */
  statement: string;
  /** What the statement means for transaction boundaries. */
  statementKind: QueryStatementKind;
}

interface StatementSpan {
  start: number;
  end: number;
}

/** Where the statement text lies in `event.raw`; undefined if the body is too short to say. */
function statementSpan(event: BinlogEvent): StatementSpan | undefined {
  const raw = event.raw;
  const body = event.bodyStart;
  const end = event.bodyEnd;
  const phl = postHeaderLength(event.context.fde, EventType.QUERY) || 13;
  if (body + phl > end || phl < QUERY_HEADER_MINIMAL_LEN) return undefined;
  const schemaLength = raw[body + OFFSET_SCHEMA_LENGTH]!;
  const statusVarsLength =
    phl >= QUERY_HEADER_MINIMAL_LEN + 2 ? raw.readUInt16LE(body + OFFSET_STATUS_VARS_LENGTH) : 0;
  const start = body + phl + statusVarsLength + schemaLength + 1;
  if (start > end) return undefined;
  return { start, end };
}

const BEGIN = Buffer.from('BEGIN');
const COMMIT = Buffer.from('COMMIT');
const ROLLBACK = Buffer.from('ROLLBACK');
const XA_PREFIX = 'XA ';
const START_TRANSACTION = ' START TRANSACTION';

function equalsAt(raw: Buffer, start: number, end: number, word: Buffer): boolean {
  return end - start === word.length && raw.compare(word, 0, word.length, start, end) === 0;
}

function lowerAscii(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

/** Case-insensitive ASCII prefix test. */
function startsWithCi(raw: Buffer, start: number, end: number, word: string): boolean {
  if (end - start < word.length) return false;
  for (let i = 0; i < word.length; i++) {
    if (lowerAscii(raw[start + i]!) !== lowerAscii(word.charCodeAt(i))) return false;
  }
  return true;
}

function classify(raw: Buffer, start: number, end: number): QueryStatementKind {
  // The server writes these three exactly (mysqlbinlog's is_begin()/is_commit()/is_rollback() too).
  if (equalsAt(raw, start, end, BEGIN)) return 'begin';
  if (equalsAt(raw, start, end, COMMIT)) return 'commit';
  if (equalsAt(raw, start, end, ROLLBACK)) return 'rollback';
  if (startsWithCi(raw, start, end, XA_PREFIX)) {
    const p = start + XA_PREFIX.length;
    if (startsWithCi(raw, p, end, 'START') || startsWithCi(raw, p, end, 'BEGIN')) return 'xa-start';
    if (startsWithCi(raw, p, end, 'END')) return 'xa-end';
    if (startsWithCi(raw, p, end, 'PREPARE')) return 'xa-prepare';
    if (startsWithCi(raw, p, end, 'COMMIT')) return 'xa-commit';
    if (startsWithCi(raw, p, end, 'ROLLBACK')) return 'xa-rollback';
    return 'statement';
  }
  if (end - start > START_TRANSACTION.length && startsWithCi(raw, start, end, 'CREATE')) {
    const tail = end - START_TRANSACTION.length;
    if (startsWithCi(raw, tail, end, START_TRANSACTION)) return 'ddl-transaction';
  }
  return 'statement';
}

/**
 * What the QUERY event's statement means for transaction boundaries, read from the raw bytes
 * without decoding the statement text (cheap enough for every event). A body too short to hold a
 * statement counts as `statement`.
 */
export function queryStatementKind(event: BinlogEvent): QueryStatementKind {
  const span = statementSpan(event);
  return span ? classify(event.raw, span.start, span.end) : 'statement';
}

/**
 * Decodes a QUERY_EVENT body. Status variables are skipped by their declared length.
 *
 * @throws CorruptDataError when the declared lengths run past the body
 */
export function decodeQueryEvent(event: BinlogEvent): QueryEventData {
  const r = event.bodyReader('QUERY event');
  const phl = postHeaderLength(event.context.fde, EventType.QUERY) || 13;
  if (phl < QUERY_HEADER_MINIMAL_LEN) throw r.corrupt(`post-header length ${phl} is too short`);
  r.need(phl);
  const threadId = r.u32();
  const execTime = r.u32();
  const schemaLength = r.u8();
  const errorCode = r.u16();
  const statusVarsLength = phl >= QUERY_HEADER_MINIMAL_LEN + 2 ? r.u16() : 0;
  r.skip(phl - (r.pos - event.bodyStart));
  r.skip(statusVarsLength);
  const schema = r.string(schemaLength);
  r.skip(1); // NUL after the schema
  const start = r.pos;
  const statement = r.string(r.remaining);
  return {
    kind: 'query',
    threadId,
    execTime,
    errorCode,
    schema,
    statement,
    statementKind: classify(event.raw, start, event.bodyEnd),
  };
}
