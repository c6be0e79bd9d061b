// One session of the parallel dump load: a mysql2 connection sending each statement's bytes as it
// is, in a COM_QUERY packet (rawQuery in src/mysql: mysql2's own query() takes a string and would
// re-encode the bytes, and a dump's binary strings are not UTF-8), waiting for the server's answer.
import { connectMysql, rawQuery, type MysqlConnectionOptions } from '../../mysql/index.js';
import { coreConnectionOf } from '../../mysql/mysql2-internals.js';

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
    async query(sql: Buffer): Promise<void> {
      const { error } = await rawQuery(conn, sql);
      if (error) throw Object.assign(new Error(error.sqlMessage), error);
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
