// Opens a binlog dump: connect, announce checksum awareness and capabilities, register as a
// replica, send COM_BINLOG_DUMP.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication.html
// https://mariadb.com/kb/en/com_binlog_dump/
import type { Connection } from 'mysql2/promise';
import { silentLogger, type Logger } from '../log/index.js';
import { BinlogDumpCommand } from './binlog-dump-command.js';
import { BinlogStream, FIRST_EVENT_POSITION, type DumpSourceInfo } from './binlog-stream.js';
import { connectMysql, describeTarget, describeUrl, type MysqlConnectionOptions } from './connect-mysql.js';
import { MysqlPrerequisiteError } from './mysql-prerequisite-error.js';
import { coreConnectionOf, type Mysql2CoreConnection } from './mysql2-internals.js';
import { SimpleCommand } from './simple-command.js';
import {
  BINLOG_DUMP_NON_BLOCK,
  BINLOG_SEND_ANNOTATE_ROWS_EVENT,
  MAX_DUMP_POSITION,
  encodeBinlogDump,
  encodeRegisterReplica,
} from './replication-packets.js';
import { toMysqlError } from './to-mysql-error.js';

/**
 * The server_id this client registers with unless told otherwise: 'PITR' in ASCII (1346981970).
 * Every replica and archiver of one source needs its own server_id: a second dump with the same id
 * makes the source drop the first.
 */
export const DEFAULT_REPLICA_SERVER_ID = 0x50495452;

/**
 * MariaDB @mariadb_slave_capability: 4 = MARIA_SLAVE_CAPABILITY_GTID, the highest; with less the source
 * rewrites GTID, BINLOG_CHECKPOINT and ANNOTATE_ROWS events and the copy is not byte-identical.
 */
export const MARIADB_SLAVE_CAPABILITY_GTID = 4;

/** Options of openBinlogStream. */
export interface BinlogDumpOptions extends MysqlConnectionOptions {
  /** The binlog file to start in, e.g. 'mysql-bin.000042'. */
  file: string;
  /** The offset to start at (default 4, the first event). Must be an event boundary and < 4 GiB. */
  position?: number;
  /** The replica server_id to register with (default DEFAULT_REPLICA_SERVER_ID). Must be unique. */
  serverId?: number;
  /**
   * Stop at the end of the existing binlogs ("until caught up"): the source sends EOF there and the
   * iteration ends. Default false: wait for new events forever.
   */
  nonBlocking?: boolean;
  /** Ask the source for a heartbeat after this many idle ms (default 30 000; 0 = none). */
  heartbeatPeriodMs?: number;
  /**
   * Declare the connection dead after this many ms without any byte from the source while the
   * consumer keeps up (default: twice heartbeatPeriodMs; 0 = never). See BinlogStreamOptions.
   */
  idleTimeoutMs?: number;
  /**
   * Pause the socket when this many bytes wait for the consumer (default 4 MiB: more only keeps
   * more small buffers alive long enough to be promoted out of the young GC generation).
   */
  highWaterMarkBytes?: number;
  /** Verify each event's CRC32 when the binlog has checksums (default true); see BinlogStreamOptions. */
  verifyChecksums?: boolean;
  /** Shown in SHOW SLAVE HOSTS (default 'mysql-pitr'). */
  replicaHostname?: string;
  /**
   * Session net_write_timeout for the dump, in seconds (default 600): how long the source waits
   * for a consumer that applies back-pressure before it gives up on the connection.
   */
  netWriteTimeoutSeconds?: number;
  logger?: Logger;
}

async function destroyConnection(conn: Connection, core: Mysql2CoreConnection | undefined): Promise<void> {
  const socket = core?.stream;
  if (!socket || socket.destroyed) {
    conn.destroy();
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    conn.destroy(); // marks the connection as closing, so mysql2 reports no error for it
    socket.destroy(); // mysql2's destroy() only half-closes; a paused socket would linger
  });
}

/**
 * Connects as `options.user`, registers as a replica and starts a binlog dump at `file`/`position`.
 * Resolves once the source has answered with its first event (so an unknown file or a missing
 * privilege fails here, not in the loop).
 *
 * @throws MysqlConnectionError (unreachable), MysqlServerError (1045 wrong password, 1227 missing
 *   REPLICATION SLAVE), BinlogUnavailableError (1236: purged or unknown file, bad position),
 *   MysqlPrerequisiteError (log_bin off, position past 4 GiB, serverId equal to the source's)
 */
export async function openBinlogStream(options: BinlogDumpOptions): Promise<BinlogStream> {
  const logger = options.logger ?? silentLogger;
  const position = options.position ?? FIRST_EVENT_POSITION;
  const serverId = options.serverId ?? DEFAULT_REPLICA_SERVER_ID;
  const url = describeUrl(options);
  const target = describeTarget(options);
  if (position > MAX_DUMP_POSITION || position < FIRST_EVENT_POSITION || !Number.isInteger(position)) {
    throw new MysqlPrerequisiteError(
      'position_range',
      String(position),
      `cannot start a binlog dump of ${options.file} at position ${position}: COM_BINLOG_DUMP takes a ` +
        `position from 4 to ${MAX_DUMP_POSITION}.`,
    );
  }
  const attempted = `stream ${options.file} @ ${position} from ${url}`;
  const loginCtx = { attempted, target, user: options.user, file: options.file, position };

  const conn = await connectMysql(options);
  // from here on an access-denied error means a missing privilege, not a wrong password
  const ctx = { ...loginCtx, authenticated: true };
  let core: Mysql2CoreConnection | undefined;
  try {
    core = coreConnectionOf(conn);
    const [rows] = await conn.query(
      'SELECT VERSION() AS version, @@version_comment AS comment, @@global.binlog_checksum AS checksum, ' +
        '@@global.server_id AS server_id, @@global.log_bin AS log_bin',
    );
    const row = (rows as Record<string, unknown>[])[0] ?? {};
    const version = String(row.version ?? '');
    const source: DumpSourceInfo = {
      flavor: /mariadb/i.test(`${version} ${String(row.comment ?? '')}`) ? 'mariadb' : 'mysql',
      version,
      binlogChecksum: String(row.checksum ?? 'NONE').toUpperCase(),
      serverId: Number(row.server_id ?? 0),
    };
    const logBin = row.log_bin;
    if (!(logBin === 1 || logBin === '1' || logBin === 'ON')) {
      throw new MysqlPrerequisiteError(
        'log_bin',
        'OFF',
        `the source ${target} (${version}) has the binary log off (log_bin=OFF), so there are no binlogs to ` +
          `stream. Set log_bin=mysql-bin and a unique server_id in its my.cnf ` +
          `[${source.flavor === 'mariadb' ? 'mariadbd' : 'mysqld'}] section, restart it, then take a full backup.`,
      );
    }
    if (source.serverId === serverId) {
      throw new MysqlPrerequisiteError(
        'server_id',
        String(serverId),
        `the replica server_id ${serverId} is the source's own server_id; choose another (unique) server_id.`,
      );
    }

    // Checksum awareness: without it a source with binlog_checksum=CRC32 refuses the dump (MariaDB,
    // MySQL < 8.0.26 read @master_binlog_checksum; MySQL 8.0.26+ reads @source_binlog_checksum).
    await conn.query(
      'SET @master_binlog_checksum = @@global.binlog_checksum, @source_binlog_checksum = @@global.binlog_checksum',
    );
    if (source.flavor === 'mariadb') {
      await conn.query('SET @mariadb_slave_capability = ?', [MARIADB_SLAVE_CAPABILITY_GTID]);
    }
    const heartbeatMs = options.heartbeatPeriodMs ?? 30_000;
    if (heartbeatMs > 0) {
      // nanoseconds; MySQL 8.0.26+ reads @source_heartbeat_period
      const ns = Math.round(heartbeatMs * 1_000_000);
      await conn.query('SET @master_heartbeat_period = ?, @source_heartbeat_period = ?', [ns, ns]);
    }
    await conn.query('SET SESSION net_write_timeout = ?', [options.netWriteTimeoutSeconds ?? 600]);

    const register = new SimpleCommand(
      encodeRegisterReplica({ serverId, hostname: options.replicaHostname ?? 'mysql-pitr', port: 0 }),
    );
    core.addCommand(register);
    await register.done;

    const coreConn = core;
    const stream = new BinlogStream({
      file: options.file,
      position,
      highWaterMarkBytes: options.highWaterMarkBytes,
      verifyChecksums: options.verifyChecksums,
      idleTimeoutMs: options.idleTimeoutMs ?? 2 * heartbeatMs,
      toError: (err, where) =>
        toMysqlError(err, {
          ...ctx,
          attempted: `stream ${options.file} @ ${position} from ${url} (at ${where.file} @ ${where.position})`,
        }),
    });
    stream.attach(
      {
        pause: () => coreConn.pause(),
        resume: () => coreConn.resume(),
        destroy: () => destroyConnection(conn, coreConn),
        bytesRead: () => coreConn.stream.bytesRead,
      },
      source,
    );
    // errors after the dump command finished (or between commands) must not crash the process
    coreConn.on('error', (err) => stream.onFailure(err));

    let flags = options.nonBlocking ? BINLOG_DUMP_NON_BLOCK : 0;
    // ANNOTATE_ROWS is MariaDB's; MySQL's COM_BINLOG_DUMP knows only BINLOG_DUMP_NON_BLOCK
    if (source.flavor === 'mariadb') flags |= BINLOG_SEND_ANNOTATE_ROWS_EVENT;
    coreConn.addCommand(
      new BinlogDumpCommand(encodeBinlogDump({ file: options.file, position, flags, serverId }), stream),
    );
    try {
      await stream.started;
    } catch (err) {
      await stream.close();
      throw err;
    }
    logger.debug('binlog dump started', { file: options.file, position, serverId, source: url });
    return stream;
  } catch (err) {
    await destroyConnection(conn, core);
    throw toMysqlError(err, ctx);
  }
}
