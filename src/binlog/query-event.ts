// QUERY_EVENT (type 2): a statement (DDL, BEGIN/COMMIT/ROLLBACK, XA statements, statement-based DML).
// MySQL: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Query__event.html
// MariaDB: https://mariadb.com/kb/en/query_event/
//
// Post-header (13 bytes in binlog v4):
//   0 thread_id uint32, 4 exec_time uint32, 8 schema_length uint8, 9 error_code uint16,
//  11 status_vars_length uint16
// Body: status_vars[status_vars_length], schema[schema_length], 0x00, statement text (to the body end).
// Status variables (the session context of the statement):
// https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Query__event.html
// (see "Query_event_status_vars") and https://mariadb.com/kb/en/query_event/ (MariaDB adds 128-130).

import type { BinlogEvent } from './binlog-event.js';
import type { ByteReader } from './byte-reader.js';
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
  /** The statement's exact bytes (a view of `event.raw`: copy it to keep it past the chunk). */
  statementBytes: Buffer;
  /** The session context the source logged with the statement. */
  status: QueryStatusVars;
}

/**
 * Status variable codes (one byte each, in growing order in the event).
 * MySQL: `Query_event::Query_event_status_vars` (libs/mysql/binlog/event/statement_events.h);
 * MariaDB: sql/log_event.h (`Q_HRNOW` and up are MariaDB's own).
 */
export const QueryStatusCode = {
  FLAGS2: 0,
  SQL_MODE: 1,
  /** MySQL 5.0.0-5.0.3: length, name, NUL. */
  CATALOG: 2,
  AUTO_INCREMENT: 3,
  CHARSET: 4,
  TIME_ZONE: 5,
  CATALOG_NZ: 6,
  LC_TIME_NAMES: 7,
  CHARSET_DATABASE: 8,
  TABLE_MAP_FOR_UPDATE: 9,
  MASTER_DATA_WRITTEN: 10,
  INVOKER: 11,
  /** MySQL. */
  UPDATED_DB_NAMES: 12,
  /** MySQL. */
  MICROSECONDS: 13,
  /** MySQL: never written (its length is undefined); reading stops here as the server does. */
  COMMIT_TS: 14,
  COMMIT_TS2: 15,
  /** MySQL 8.0. */
  EXPLICIT_DEFAULTS_FOR_TIMESTAMP: 16,
  DDL_LOGGED_WITH_XID: 17,
  DEFAULT_COLLATION_FOR_UTF8MB4: 18,
  SQL_REQUIRE_PRIMARY_KEY: 19,
  DEFAULT_TABLE_ENCRYPTION: 20,
  /** MariaDB: microseconds of the statement's start. */
  HRNOW: 128,
  /** MariaDB: the XID of a DDL statement. */
  XID: 129,
  /** MariaDB 10.8+: extra GTID flags (and the START ALTER sequence number). */
  GTID_FLAGS3: 130,
} as const;

/** Q_UPDATED_DB_NAMES count meaning "too many databases to list". */
const OVER_MAX_DBS_IN_EVENT_MTS = 254;
/** Q_GTID_FLAGS3 bits that announce an 8-byte START ALTER sequence number (FL_COMMIT_ALTER_E1, FL_ROLLBACK_ALTER_E1). */
const GTID_FLAGS3_ALTER_SEQ = 0x04 | 0x08;

/**
 * The decoded status variables of a QUERY event; a field is undefined when the event does not
 * carry it. Unknown codes stop the decoding (the server does the same: codes come in growing order),
 * and `unknownCode` names the first one.
 */
export interface QueryStatusVars {
  /** Q_FLAGS2_CODE: the session's option bits (see QueryFlags2). */
  flags2?: number;
  /** Q_SQL_MODE_CODE: the session's sql_mode bits (the server's own numbering). */
  sqlMode?: bigint;
  /** Q_CATALOG(_NZ)_CODE. */
  catalog?: string;
  /** Q_AUTO_INCREMENT. */
  autoIncrementIncrement?: number;
  autoIncrementOffset?: number;
  /** Q_CHARSET_CODE: collation ids of character_set_client, collation_connection, collation_server. */
  charsetClient?: number;
  collationConnection?: number;
  collationServer?: number;
  /** Q_TIME_ZONE_CODE: the session's time_zone name. */
  timeZone?: string;
  /** Q_LC_TIME_NAMES_CODE: locale number. */
  lcTimeNames?: number;
  /** Q_CHARSET_DATABASE_CODE: collation id of the default database. */
  collationDatabase?: number;
  /** Q_TABLE_MAP_FOR_UPDATE_CODE. */
  tableMapForUpdate?: bigint;
  /** Q_MASTER_DATA_WRITTEN_CODE. */
  masterDataWritten?: number;
  /** Q_INVOKER: the user and host the statement ran as (CURRENT_USER). */
  invoker?: { user: string; host: string };
  /** Q_UPDATED_DB_NAMES (MySQL); undefined also when there were too many to list. */
  updatedDbNames?: string[];
  /** Q_MICROSECONDS (MySQL) or Q_HRNOW (MariaDB): microseconds of the statement's start. */
  microseconds?: number;
  /** Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP (MySQL 8.0). */
  explicitDefaultsForTimestamp?: boolean;
  /** Q_DDL_LOGGED_WITH_XID (MySQL 8.0). */
  ddlXid?: bigint;
  /** Q_DEFAULT_COLLATION_FOR_UTF8MB4 (MySQL 8.0). */
  defaultCollationForUtf8mb4?: number;
  /** Q_SQL_REQUIRE_PRIMARY_KEY (MySQL 8.0). */
  sqlRequirePrimaryKey?: boolean;
  /** Q_DEFAULT_TABLE_ENCRYPTION (MySQL 8.0). */
  defaultTableEncryption?: boolean;
  /** Q_XID (MariaDB). */
  xid?: bigint;
  /** Q_GTID_FLAGS3 (MariaDB). */
  gtidFlags3?: number;
  /** The first code this reader does not know; the rest of the block is skipped. */
  unknownCode?: number;
}

/** Bits of Q_FLAGS2_CODE (the session's `option_bits` that the source logs). */
export const QueryFlags2 = {
  /** sql_auto_is_null=1. */
  AUTO_IS_NULL: 1 << 14,
  /** MariaDB: check_constraint_checks=0. */
  NO_CHECK_CONSTRAINT_CHECKS: 1 << 15,
  /** autocommit=0. */
  NOT_AUTOCOMMIT: 1 << 19,
  /** foreign_key_checks=0. */
  NO_FOREIGN_KEY_CHECKS: 1 << 26,
  /** unique_checks=0. */
  RELAXED_UNIQUE_CHECKS: 1 << 27,
} as const;

/**
 * Decodes the status variable block of a QUERY event.
 *
 * @throws CorruptDataError when a variable runs past the block
 */
function decodeStatusVars(r: ByteReader, length: number): QueryStatusVars {
  const end = r.pos + length;
  const s: QueryStatusVars = {};
  const str = (): string => r.string(r.u8());
  while (r.pos < end) {
    const code = r.u8();
    switch (code) {
      case QueryStatusCode.FLAGS2:
        s.flags2 = r.u32();
        break;
      case QueryStatusCode.SQL_MODE:
        s.sqlMode = r.u64Big();
        break;
      case QueryStatusCode.CATALOG:
        s.catalog = str();
        r.skip(1);
        break;
      case QueryStatusCode.AUTO_INCREMENT:
        s.autoIncrementIncrement = r.u16();
        s.autoIncrementOffset = r.u16();
        break;
      case QueryStatusCode.CHARSET:
        s.charsetClient = r.u16();
        s.collationConnection = r.u16();
        s.collationServer = r.u16();
        break;
      case QueryStatusCode.TIME_ZONE:
        s.timeZone = str();
        break;
      case QueryStatusCode.CATALOG_NZ:
        s.catalog = str();
        break;
      case QueryStatusCode.LC_TIME_NAMES:
        s.lcTimeNames = r.u16();
        break;
      case QueryStatusCode.CHARSET_DATABASE:
        s.collationDatabase = r.u16();
        break;
      case QueryStatusCode.TABLE_MAP_FOR_UPDATE:
        s.tableMapForUpdate = r.u64Big();
        break;
      case QueryStatusCode.MASTER_DATA_WRITTEN:
        s.masterDataWritten = r.u32();
        break;
      case QueryStatusCode.INVOKER: {
        const user = str();
        s.invoker = { user, host: str() };
        break;
      }
      case QueryStatusCode.UPDATED_DB_NAMES: {
        const n = r.u8();
        if (n === OVER_MAX_DBS_IN_EVENT_MTS) break;
        const names: string[] = [];
        for (let i = 0; i < n; i++) {
          const at = r.buf.indexOf(0, r.pos);
          if (at < 0 || at >= end) throw r.corrupt('Q_UPDATED_DB_NAMES runs past the status variables');
          names.push(r.string(at - r.pos));
          r.skip(1);
        }
        s.updatedDbNames = names;
        break;
      }
      case QueryStatusCode.MICROSECONDS:
      case QueryStatusCode.HRNOW:
        s.microseconds = r.uintN(3);
        break;
      case QueryStatusCode.EXPLICIT_DEFAULTS_FOR_TIMESTAMP:
        s.explicitDefaultsForTimestamp = r.u8() !== 0;
        break;
      case QueryStatusCode.DDL_LOGGED_WITH_XID:
        s.ddlXid = r.u64Big();
        break;
      case QueryStatusCode.DEFAULT_COLLATION_FOR_UTF8MB4:
        s.defaultCollationForUtf8mb4 = r.u16();
        break;
      case QueryStatusCode.SQL_REQUIRE_PRIMARY_KEY:
        s.sqlRequirePrimaryKey = r.u8() !== 0;
        break;
      case QueryStatusCode.DEFAULT_TABLE_ENCRYPTION:
        s.defaultTableEncryption = r.u8() !== 0;
        break;
      case QueryStatusCode.XID:
        s.xid = r.u64Big();
        break;
      case QueryStatusCode.GTID_FLAGS3:
        s.gtidFlags3 = r.u8();
        if (s.gtidFlags3 & GTID_FLAGS3_ALTER_SEQ) r.skip(8);
        break;
      default:
        s.unknownCode = code;
        r.pos = end;
    }
    if (r.pos > end) throw r.corrupt(`status variable ${code} runs past the status variables`);
  }
  return s;
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
  r.need(statusVarsLength);
  const status = decodeStatusVars(r, statusVarsLength);
  const schema = r.string(schemaLength);
  r.skip(1); // NUL after the schema
  const start = r.pos;
  const statementBytes = r.bytes(r.remaining);
  const statement = statementBytes.toString('utf8');
  return {
    kind: 'query',
    threadId,
    execTime,
    errorCode,
    schema,
    statement,
    statementKind: classify(event.raw, start, event.bodyEnd),
    statementBytes,
    status,
  };
}
