// COM_QUERY with a raw byte payload and multi-statement results, as a mysql2 command.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_set_option.html
import type { Connection } from 'mysql2/promise';
import { PitrError } from '../errors/index.js';
import { EOF_HEADER, ERR_HEADER, OK_HEADER, decodeErrPacket } from './err-packet.js';
import {
  coreConnectionOf,
  type Mysql2Command,
  type Mysql2CoreConnection,
  type Mysql2OutgoingPacket,
  type Mysql2Packet,
} from './mysql2-internals.js';
import type { ServerErrorInfo } from './mysql-server-error.js';
import { SimpleCommand } from './simple-command.js';

/** Command byte of COM_QUERY. */
export const COM_QUERY = 0x03;
/** Command byte of COM_SET_OPTION. */
export const COM_SET_OPTION = 0x1b;
/** COM_SET_OPTION argument: allow several statements per COM_QUERY for this session. */
export const MYSQL_OPTION_MULTI_STATEMENTS_ON = 0;
/** Server status flag: another result follows this one (multi-statement COM_QUERY). */
export const SERVER_MORE_RESULTS_EXISTS = 0x0008;
/** Capability flag: COM_QUERY carries query attributes (MySQL 8.0.23+): a parameter count prefix. */
export const CLIENT_QUERY_ATTRIBUTES = 1 << 27;
/** First byte of a LOCAL INFILE request. */
const LOCAL_INFILE_HEADER = 0xfb;
/** A protocol packet carries at most this many payload bytes; a longer payload continues in the next. */
const MAX_PACKET_PAYLOAD = 0xffffff;
/** An EOF packet is shorter than this (a row starting with 0xfe is longer). */
const EOF_MAX_LENGTH = 9;

/** What one raw multi-statement query did. */
export interface RawQueryResult {
  /** Statements that completed (an OK packet or a whole result set) before the error, or all of them. */
  statements: number;
  /** The server's error for statement number `statements` (0-based); nothing after it ran. */
  error: ServerErrorInfo | undefined;
}

/** Reads a length-encoded integer at `offset` of `buf`; returns the value and the next offset. */
function readLenenc(buf: Buffer, offset: number): [number, number] {
  const first = buf[offset]!;
  if (first < 0xfb) return [first, offset + 1];
  if (first === 0xfc) return [buf.readUInt16LE(offset + 1), offset + 3];
  if (first === 0xfd) return [buf.readUIntLE(offset + 1, 3), offset + 4];
  return [Number(buf.readBigUInt64LE(offset + 1)), offset + 9];
}

/** Status flags of an OK packet payload (header 0x00 or 0xfe): after affected rows and insert id. */
function okStatus(payload: Buffer): number {
  let offset = 1;
  [, offset] = readLenenc(payload, offset);
  [, offset] = readLenenc(payload, offset);
  return offset + 2 <= payload.length ? payload.readUInt16LE(offset) : 0;
}

/** Status flags of an EOF packet payload: 0xfe, warnings (2), status (2). */
function eofStatus(payload: Buffer): number {
  return payload.length >= 5 ? payload.readUInt16LE(3) : 0;
}

/**
 * One pre-framed packet for connection.writePacket: mysql2 writes `buffer` as is after calling
 * writeHeader with its next sequence id (and bumps it by one). length() stays below mysql2's own
 * split threshold because the frames are already split here.
 */
function framed(payload: Buffer, start: number, end: number): Mysql2OutgoingPacket {
  const buffer = Buffer.allocUnsafe(4 + end - start);
  payload.copy(buffer, 4, start, end);
  return {
    buffer,
    length: () => 4,
    writeHeader(sequenceId: number) {
      buffer.writeUIntLE(end - start, 0, 3);
      buffer.writeUInt8(sequenceId & 0xff, 3);
    },
  };
}

/**
 * Writes a command payload, split into 16 MiB protocol packets; a payload that is an exact
 * multiple of the maximum ends with an empty packet, as the protocol requires.
 */
function writePayload(connection: Mysql2CoreConnection, payload: Buffer): void {
  let start = 0;
  for (;;) {
    const end = Math.min(payload.length, start + MAX_PACKET_PAYLOAD);
    connection.writePacket(framed(payload, start, end));
    if (end - start < MAX_PACKET_PAYLOAD) return;
    start = end;
  }
}

type State = 'result' | 'columns' | 'column-eof' | 'rows';

/**
 * Sends one COM_QUERY and reads every result of it: OK packets (with SERVER_MORE_RESULTS_EXISTS
 * between statements), result sets (skipped), and an ERR packet, which ends the batch.
 */
class RawQueryCommand implements Mysql2Command {
  private started = false;
  private state: State = 'result';
  private columnsLeft = 0;
  private statements = 0;
  private localInfile = false;
  readonly done: Promise<RawQueryResult>;
  private resolve!: (r: RawQueryResult) => void;
  private reject!: (err: Error) => void;

  constructor(
    private readonly sql: Buffer,
    private readonly moreExpected: ((completed: number) => boolean) | undefined,
  ) {
    this.done = new Promise<RawQueryResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  execute(packet: Mysql2Packet | undefined, connection: Mysql2CoreConnection): boolean {
    if (!this.started) {
      this.started = true;
      connection._resetSequenceId();
      const flags = queryFlags(connection);
      const prefix = flags & CLIENT_QUERY_ATTRIBUTES ? [COM_QUERY, 0, 1] : [COM_QUERY];
      writePayload(connection, Buffer.concat([Buffer.from(prefix), this.sql]));
      return false;
    }
    if (!packet) return false;
    const p = packet.buffer.subarray(packet.offset, packet.end);
    const h = p[0];
    switch (this.state) {
      case 'result':
        if (h === ERR_HEADER) {
          const e = decodeErrPacket(p);
          return this.finish({ errno: e.errno, sqlState: e.sqlState, sqlMessage: e.sqlMessage });
        }
        if (h === OK_HEADER) {
          if (this.localInfile) {
            return this.finish({
              errno: 0,
              sqlState: '',
              sqlMessage:
                'LOAD DATA LOCAL INFILE is not supported by this client; the statement sent no data',
            });
          }
          this.statements += 1;
          return this.next(okStatus(p));
        }
        if (h === LOCAL_INFILE_HEADER) {
          // answer with an empty file (the protocol requires an answer); reported as an error
          this.localInfile = true;
          connection.writePacket(framed(Buffer.alloc(0), 0, 0));
          return false;
        }
        [this.columnsLeft] = readLenenc(p, 0);
        this.state = 'columns';
        return false;
      case 'columns':
        this.columnsLeft -= 1;
        if (this.columnsLeft === 0) this.state = 'column-eof';
        return false;
      case 'column-eof':
        // without CLIENT_DEPRECATE_EOF (mysql2 does not ask for it) an EOF follows the columns
        this.state = 'rows';
        return false;
      case 'rows':
        if (h === ERR_HEADER) {
          const e = decodeErrPacket(p);
          return this.finish({ errno: e.errno, sqlState: e.sqlState, sqlMessage: e.sqlMessage });
        }
        if (h === EOF_HEADER && p.length < EOF_MAX_LENGTH) {
          this.statements += 1;
          return this.next(eofStatus(p));
        }
        return false;
    }
  }

  private next(status: number): boolean {
    // MariaDB 10.11 leaves SERVER_MORE_RESULTS_EXISTS off in the OK packet of a `BINLOG '...'`
    // statement even when more statements follow and their results come: the caller, who knows
    // its statements, says when more results are due anyway.
    if (status & SERVER_MORE_RESULTS_EXISTS || this.moreExpected?.(this.statements) === true) {
      this.state = 'result';
      return false;
    }
    return this.finish(undefined);
  }

  private finish(error: ServerErrorInfo | undefined): boolean {
    this.resolve({ statements: this.statements, error });
    return true;
  }

  onResult(err: Error): void {
    this.reject(err);
  }
}

/** The capability flags both sides agreed on (mysql2 keeps the client's and the server's). */
function queryFlags(connection: Mysql2CoreConnection): number {
  const c = connection as unknown as { config?: { clientFlags?: number }; serverCapabilityFlags?: number };
  return (c.config?.clientFlags ?? 0) & (c.serverCapabilityFlags ?? 0);
}

/**
 * Allows several statements per COM_QUERY on this session (COM_SET_OPTION
 * MYSQL_OPTION_MULTI_STATEMENTS_ON), whatever flags the connection was opened with.
 *
 * @throws the server's error (errno, sqlState, sqlMessage) or mysql2's connection error
 */
export async function enableMultiStatements(conn: Connection): Promise<void> {
  const payload = Buffer.alloc(3);
  payload[0] = COM_SET_OPTION;
  payload.writeUInt16LE(MYSQL_OPTION_MULTI_STATEMENTS_ON, 1);
  const cmd = new SimpleCommand(payload);
  coreConnectionOf(conn).addCommand(cmd);
  await cmd.done;
}

/**
 * Sends `sql` as one COM_QUERY, bytes as they are (binlog SQL need not be valid UTF-8; the session's
 * character_set_client decides how the server reads them), and reads every result. With
 * multi-statements on (see enableMultiStatements) the server runs the statements in order and stops
 * at the first error: the result says how many completed and what the error was. Result sets are
 * read and dropped. Commands queued on the connection run after this one, in order.
 *
 * @param opts.moreExpected called when a result without SERVER_MORE_RESULTS_EXISTS arrives after
 *   `completed` statements; true keeps reading. MariaDB forgets the flag after a `BINLOG '...'`
 *   statement that is followed by more: a caller that knows its statements returns true exactly
 *   there (answering true where the server has no more results would wait forever). Without it the
 *   flag alone says when the last result came.
 *
 * @throws mysql2's error when the connection fails (closed, reset); a server error is returned, not thrown
 */
export async function rawQuery(
  conn: Connection,
  sql: Buffer,
  opts: { moreExpected?: (completed: number) => boolean } = {},
): Promise<RawQueryResult> {
  if (sql.length === 0) throw new PitrError('INTERNAL', 'rawQuery: empty query');
  const cmd = new RawQueryCommand(sql, opts.moreExpected);
  coreConnectionOf(conn).addCommand(cmd);
  return cmd.done;
}
