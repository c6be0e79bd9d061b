import { PitrError, messageOf } from '../errors/index.js';
import { BinlogUnavailableError } from './binlog-unavailable-error.js';
import { MysqlConnectionError } from './mysql-connection-error.js';
import { MysqlServerError, type ServerErrorInfo } from './mysql-server-error.js';
import {
  ER_ACCESS_DENIED_ERROR,
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR,
  ER_CON_COUNT_ERROR,
  ER_DBACCESS_DENIED_ERROR,
  ER_HOST_IS_BLOCKED,
  ER_HOST_NOT_PRIVILEGED,
  ER_MASTER_FATAL_ERROR_READING_BINLOG,
  ER_MASTER_HAS_PURGED_REQUIRED_GTIDS,
  ER_SERVER_SHUTDOWN,
  ER_SLAVE_SAME_ID,
  ER_SPECIFIC_ACCESS_DENIED_ERROR,
  ER_UNKNOWN_COM_ERROR,
} from './server-error-codes.js';

/** What was going on when an error happened, for the message and the advice. */
export interface MysqlErrorContext {
  /** e.g. "connect to mysql://repl@db1:3306" or "stream mysql-bin.000042 @ 4 from mysql://repl@db1:3306". */
  attempted: string;
  /** `host:port` or the socket path. */
  target: string;
  /** The user name, for GRANT advice. */
  user?: string;
  /**
   * True once the login succeeded: an access-denied error (1045, which MariaDB also returns for
   * COM_REGISTER_SLAVE without REPLICATION SLAVE) then means a missing privilege, not a wrong password.
   */
  authenticated?: boolean;
  /** The binlog file and position asked for, when streaming. */
  file?: string;
  position?: number;
}

/** True when `err` looks like a server error packet turned into an Error by mysql2. */
export function isServerErrorInfo(err: unknown): err is Error & ServerErrorInfo {
  if (!(err instanceof Error)) return false;
  const e = err as Partial<ServerErrorInfo>;
  return typeof e.errno === 'number' && e.errno > 0 && typeof e.sqlMessage === 'string';
}

function grantAdvice(user: string | undefined): string {
  const who = user ? `'${user}'@'%'` : "'user'@'host'";
  return (
    `Grant the replication privileges: MariaDB: GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO ${who}; ` +
    `MySQL: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${who}.`
  );
}

/** Advice for a server error; `ctx` fills in names. */
export function adviceFor(info: ServerErrorInfo, ctx: MysqlErrorContext): string {
  switch (info.errno) {
    case ER_ACCESS_DENIED_ERROR:
      if (ctx.authenticated)
        return `The login worked but the account lacks a privilege. ${grantAdvice(ctx.user)}`;
      return (
        'Check the user name and password, and that the account exists for the host this client ' +
        'connects from (a host-specific or anonymous account can shadow user@%).'
      );
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
      return 'This account authenticates by unix socket only; give it a password or use another account over TCP.';
    case ER_HOST_NOT_PRIVILEGED:
      return "There is no account for this client's host; create one (e.g. user@'%') or connect from an allowed host.";
    case ER_DBACCESS_DENIED_ERROR:
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
      return grantAdvice(ctx.user);
    case ER_CON_COUNT_ERROR:
      return 'The source has no free connection slots (max_connections); retry later or raise max_connections.';
    case ER_HOST_IS_BLOCKED:
      return 'The source blocks this host after too many failed connections; run FLUSH HOSTS on the source.';
    case ER_SERVER_SHUTDOWN:
      return 'The source is shutting down; retry once it is back.';
    case ER_UNKNOWN_COM_ERROR:
      return 'The source does not support this replication command; check its flavour and version.';
    case ER_SLAVE_SAME_ID:
      return SAME_SERVER_ID_ADVICE;
    case ER_MASTER_HAS_PURGED_REQUIRED_GTIDS:
      return 'The source purged binlogs this stream needs; take a new full backup and start archiving again from it.';
    case ER_MASTER_FATAL_ERROR_READING_BINLOG:
      return binlogReadAdvice(info.sqlMessage, ctx);
    default:
      return 'See the server error above; fix it on the source and retry.';
  }
}

const SAME_SERVER_ID_ADVICE =
  'Another replica or archiver is connected to this source with the same server_id; give each one a unique ' +
  "server_id (it must also differ from the source's own), e.g. with the replica server_id option, and check " +
  'SHOW SLAVE HOSTS on the source for the one holding it.';

function binlogReadAdvice(message: string, ctx: MysqlErrorContext): string {
  const file = ctx.file ?? 'the requested binlog';
  if (/could not find first log file|could not open log file|binlog file .* not found/i.test(message)) {
    return (
      `The source no longer has ${file} (purged by binlog_expire_logs_seconds/expire_logs_days or PURGE BINARY ` +
      'LOGS, or it never existed). Events in it cannot be fetched from this source any more: check SHOW BINARY ' +
      'LOGS, take a new full backup and restart archiving from the oldest binlog the source still has.'
    );
  }
  if (/same server_uuid|same server_id/i.test(message)) return SAME_SERVER_ID_ADVICE;
  if (
    /impossible position|truncated in the middle of event|bogus data|position|event too (big|small)/i.test(
      message,
    )
  ) {
    return (
      `Position ${ctx.position ?? '?'} is not the start of an event in ${file} (past its end or inside an event). ` +
      'Resume from a position a previous run recorded (the end of a complete event), or from 4.'
    );
  }
  return (
    `The source cannot send ${file} from position ${ctx.position ?? 4}. Check SHOW BINARY LOGS on the source and ` +
    'its error log; if the file was purged, take a new full backup and restart archiving.'
  );
}

const CONNECTION_ADVICE: Record<string, string> = {
  ECONNREFUSED:
    'Nothing accepts connections there: check the host and port, that the server runs, and its bind_address.',
  ETIMEDOUT: 'No answer within the connect timeout: check the host, port, firewalls and security groups.',
  ENOTFOUND: 'The host name does not resolve: check the spelling and DNS.',
  EAI_AGAIN: 'The host name could not be resolved right now (DNS); retry, then check DNS.',
  EHOSTUNREACH: 'The host is unreachable: check routing, VPN and security groups.',
  ENETUNREACH: 'The network is unreachable from here: check routing and VPN.',
  ECONNRESET:
    'The connection was reset: the server restarted, killed the session (for example a new replica with the same ' +
    'server_id), or a network device dropped it. Retry.',
  EPIPE: 'The connection broke while sending; retry.',
  PROTOCOL_CONNECTION_LOST:
    'The server closed the connection: it restarted, killed the session (for example a new replica with the same ' +
    'server_id), or wait_timeout/net_write_timeout expired. Retry.',
  HANDSHAKE_SSL_ERROR: 'TLS negotiation failed: check the CA, the certificate and the TLS options.',
  HANDSHAKE_NO_SSL_SUPPORT: 'The server does not support TLS; turn TLS off or enable it on the server.',
};

/**
 * Turns anything mysql2 (or the network) threw into a PitrError: server error packets become
 * MysqlServerError (error 1236 becomes BinlogUnavailableError when a file was asked for), network
 * problems become MysqlConnectionError. A PitrError is returned unchanged.
 */
export function toMysqlError(err: unknown, ctx: MysqlErrorContext): PitrError {
  if (err instanceof PitrError) return err;
  if (isServerErrorInfo(err)) {
    const info: ServerErrorInfo = {
      errno: err.errno,
      sqlState: typeof err.sqlState === 'string' ? err.sqlState : '',
      sqlMessage: err.sqlMessage,
    };
    const advice = adviceFor(info, ctx);
    // MySQL reports a server_id clash as 1236 too; that is not about the binlog being unavailable
    const clash = /same server_uuid|same server_id/i.test(info.sqlMessage);
    if (info.errno === ER_MASTER_FATAL_ERROR_READING_BINLOG && ctx.file !== undefined && !clash) {
      return new BinlogUnavailableError(ctx.attempted, ctx.file, ctx.position ?? 4, info, advice, {
        cause: err,
      });
    }
    return new MysqlServerError(ctx.attempted, info, advice, { cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : undefined;
  const advice =
    (reason && CONNECTION_ADVICE[reason]) ?? 'Check that the server is reachable from here and retry.';
  return new MysqlConnectionError(
    `${ctx.attempted} failed: ${reason ? `${reason}: ` : ''}${messageOf(err)}. ${advice}`,
    ctx.target,
    reason,
    { cause: err },
  );
}
