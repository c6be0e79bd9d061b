// One session of the parallel dump load: a mysql2 connection sending each statement's bytes as it
// is, in a COM_QUERY packet, and waiting for the server's answer.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query.html
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html
//
// mysql2's own query() takes a string and would re-encode the bytes (a dump's binary strings are
// not UTF-8); this command writes the bytes untouched. It uses the same few mysql2 internals as the
// replication client (src/mysql/mysql2-internals.ts).
import { connectMysql, decodeErrPacket, type MysqlConnectionOptions } from '../mysql/index.js';
import {
  coreConnectionOf,
  type Mysql2Command,
  type Mysql2CoreConnection,
  type Mysql2OutgoingPacket,
  type Mysql2Packet,
} from '../mysql/mysql2-internals.js';

/** COM_QUERY command byte. */
const COM_QUERY = 0x03;
/** Client/server capability: COM_QUERY carries query attributes (MySQL 8.0.23+). */
const CLIENT_QUERY_ATTRIBUTES = 0x08000000;
/** Server status flag in OK/EOF packets: another result set follows. */
const SERVER_MORE_RESULTS_EXISTS = 0x0008;
const OK_HEADER = 0x00;
const ERR_HEADER = 0xff;
const EOF_HEADER = 0xfe;
/** LOCAL INFILE request: never expected from a dump. */
const LOCAL_INFILE_HEADER = 0xfb;

/** A session that runs dump statements on the target, one at a time, in the order given. */
export interface ParallelLoadSession {
  /**
   * Queues one statement (its bytes, without delimiter); resolves when the server has run it.
   * Statements queued on one session run in order.
   *
   * @throws Error carrying `errno`, `sqlState`, `sqlMessage` when the server rejects it, or a
   *   connection error
   */
  query(sql: Buffer): Promise<void>;
  /** Ends the connection after the queued statements. */
  close(): Promise<void>;
  /** Drops the connection at once (errors, abort). */
  destroy(): void;
}

/** Opens one more session to the target (binary logging already off for it). */
export type OpenLoadSession = () => Promise<ParallelLoadSession>;

/** Reads a length-encoded integer; returns [value, next offset]. */
function lenenc(b: Buffer, at: number): [number, number] {
  const f = b[at]!;
  if (f < 0xfb) return [f, at + 1];
  if (f === 0xfc) return [b.readUInt16LE(at + 1), at + 3];
  if (f === 0xfd) return [b.readUIntLE(at + 1, 3), at + 4];
  return [Number(b.readBigUInt64LE(at + 1)), at + 9];
}

/** COM_QUERY with raw bytes; consumes OK, ERR, or whole result sets (without CLIENT_DEPRECATE_EOF). */
class RawQueryCommand implements Mysql2Command {
  private started = false;
  private state: 'first' | 'columns' | 'rows' = 'first';
  private error: Error | undefined;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (err: Error) => void;

  constructor(private readonly sql: Buffer) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  execute(packet: Mysql2Packet | undefined, connection: Mysql2CoreConnection): boolean {
    if (!this.started) {
      this.started = true;
      connection._resetSequenceId();
      const c = connection as unknown as {
        config?: { clientFlags?: number };
        serverCapabilityFlags?: number;
      };
      const attrs =
        ((c.config?.clientFlags ?? 0) & (c.serverCapabilityFlags ?? 0) & CLIENT_QUERY_ATTRIBUTES) !== 0;
      const head = attrs ? 3 : 1;
      const buffer = Buffer.allocUnsafe(4 + head + this.sql.length);
      buffer[4] = COM_QUERY;
      if (attrs) {
        buffer[5] = 0; // parameter_count
        buffer[6] = 1; // parameter_set_count
      }
      this.sql.copy(buffer, 4 + head);
      const out: Mysql2OutgoingPacket = {
        buffer,
        length: () => buffer.length,
        writeHeader(sequenceId: number) {
          buffer.writeUIntLE(Math.min(buffer.length - 4, 0xffffff), 0, 3);
          buffer.writeUInt8(sequenceId & 0xff, 3);
        },
      };
      connection.writePacket(out);
      return false;
    }
    if (!packet) return false;
    const p = packet.buffer.subarray(packet.offset, packet.end);
    const h = p[0];
    switch (this.state) {
      case 'first':
        if (h === ERR_HEADER) return this.finish(decodeErrPacket(p));
        if (h === OK_HEADER) {
          const [, a] = lenenc(p, 1);
          const [, b] = lenenc(p, a);
          const status = p.length >= b + 2 ? p.readUInt16LE(b) : 0;
          return (status & SERVER_MORE_RESULTS_EXISTS) !== 0 ? false : this.finish();
        }
        if (h === LOCAL_INFILE_HEADER) {
          // Answer with an empty file so the server ends the statement, then fail it.
          this.error = new Error('the dump asked for LOAD DATA LOCAL INFILE, which a restore does not serve');
          connection.writePacket(emptyPacket());
          return false;
        }
        this.state = 'columns';
        return false;
      case 'columns':
        if (h === EOF_HEADER && p.length < 9) this.state = 'rows';
        else if (h === ERR_HEADER) return this.finish(decodeErrPacket(p));
        return false;
      case 'rows':
        if (h === ERR_HEADER) return this.finish(decodeErrPacket(p));
        if (h === EOF_HEADER && p.length < 9) {
          const status = p.length >= 5 ? p.readUInt16LE(3) : 0;
          if ((status & SERVER_MORE_RESULTS_EXISTS) !== 0) {
            this.state = 'first';
            return false;
          }
          return this.finish();
        }
        return false;
    }
  }

  private finish(err?: Error): boolean {
    const e = err ?? this.error;
    if (e) this.reject(e);
    else this.resolve();
    return true;
  }

  onResult(err: Error): void {
    this.reject(err);
  }
}

function emptyPacket(): Mysql2OutgoingPacket {
  const buffer = Buffer.alloc(4);
  return {
    buffer,
    length: () => 4,
    writeHeader(sequenceId: number) {
      buffer.writeUInt8(sequenceId & 0xff, 3);
    },
  };
}

/**
 * Opens a session on a mysql2 connection with `SET SESSION sql_log_bin=0` run first, so the load
 * never writes the target's binary log (nor clashes with its GTIDs).
 *
 * @throws MysqlServerError / MysqlConnectionError from connecting, or the error of SET sql_log_bin
 *   (it needs SUPER or BINLOG ADMIN)
 */
export async function openMysqlLoadSession(options: MysqlConnectionOptions): Promise<ParallelLoadSession> {
  const conn = await connectMysql(options);
  const core = coreConnectionOf(conn);
  // A connection-level error also rejects the running command; this keeps it from being unhandled.
  core.on('error', () => undefined);
  const session: ParallelLoadSession = {
    query(sql: Buffer): Promise<void> {
      const cmd = new RawQueryCommand(sql);
      core.addCommand(cmd);
      return cmd.done;
    },
    async close() {
      await conn.end();
    },
    destroy() {
      conn.destroy();
    },
  };
  try {
    await session.query(Buffer.from('SET SESSION sql_log_bin=0'));
  } catch (e) {
    session.destroy();
    throw e;
  }
  return session;
}
