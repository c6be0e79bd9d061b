import { MariadbGtidPos } from '../gtid/index.js';
import { PitrError, messageOf } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import {
  MysqlConnectionError,
  MysqlPrerequisiteError,
  connectMysql,
  openBinlogStream,
  readSourceFacts,
  type MysqlConnectionOptions,
} from '../mysql/index.js';
import type { GtidStarts, SourceDump, SourcePort, SourceSnapshot } from './source-port.js';

/**
 * Received events waiting for the archiver before the socket pauses (BinlogStream's high-water
 * mark). Small: in a catch-up the queue is always full, and with small OLTP events 4 MiB is 30 000
 * live objects that every young-generation GC copies (and then promotes); the kernel's socket
 * buffer keeps the source busy while the queue drains.
 */
const STREAM_HIGH_WATER_MARK = 512 * 1024;
/** Newest files whose starting GTID position is read on MariaDB (to find where a failover continues). */
const GTID_START_FILES = 64;

/** One of several servers the archiver may stream from. */
export interface SourceCandidate {
  source: MysqlConnectionOptions;
  /** As printed (`mysql://repl@db2:3306`). */
  address: string;
}

/** Options of {@link MysqlSourcePort}. */
export interface MysqlSourcePortOptions {
  /** How to reach the source (unused when `candidates` are given). */
  source: MysqlConnectionOptions;
  /** The source as printed (`mysql://repl@db1:3306`, never a password). */
  sourceAddress: string;
  /**
   * Several servers of one replication topology: every connect() picks the primary among them
   * (writable, not replicating, the newest GTIDs), and an open dump is closed when its server stops
   * being the primary (checked every `primaryCheckIntervalMs`, default 5 000 ms).
   */
  candidates?: readonly SourceCandidate[];
  primaryCheckIntervalMs?: number;
  /** server_id to register as replica. */
  serverId?: number;
  /** Dump what the source has now and end (`--until-caught-up`) rather than follow it. */
  nonBlocking?: boolean;
  /** Source heartbeat period (default 30 s). */
  heartbeatPeriodMs?: number;
  logger?: Logger;
}

/**
 * The source port over MySQL/MariaDB servers: the primary among `--source` hosts, SHOW BINARY
 * LOGS and the GTID starts of recent files, the binlog dump (heartbeats and the silence timeout
 * are BinlogStream's), and following a switchover by ending the dump when its server stops being
 * the primary (the archiver then reconnects, and connect() picks the new one).
 */
export class MysqlSourcePort implements SourcePort {
  readonly #o: MysqlSourcePortOptions;
  readonly #log: Logger;
  /** The server streamed from (the primary among the candidates). */
  #current: SourceCandidate | undefined;

  constructor(opts: MysqlSourcePortOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Connection options of the current source. */
  get #src(): MysqlConnectionOptions {
    return (this.#current ?? { source: this.#o.source }).source;
  }

  get address(): string {
    return this.#current?.address ?? this.#o.sourceAddress;
  }

  async connect(): Promise<SourceSnapshot> {
    const candidates = this.#o.candidates;
    if (candidates && candidates.length > 0) this.#current = await this.#selectPrimary(candidates);
    const conn = await connectMysql(this.#src);
    try {
      const facts = await readSourceFacts(conn, this.address);
      if (!facts.logBin) {
        throw new MysqlPrerequisiteError(
          'log_bin',
          'OFF',
          `the source ${this.address} has the binary log off: nothing to archive. Enable log_bin and restart it`,
        );
      }
      if (!facts.binaryLogs || facts.binaryLogs.length === 0) {
        throw new PitrError(
          'MYSQL_PREREQUISITE',
          `the archiver cannot run SHOW BINARY LOGS on ${this.address}; grant the user BINLOG MONITOR (MariaDB) ` +
            'or REPLICATION CLIENT (MySQL) so it can resume exactly and detect purged files',
        );
      }
      if (facts.flavor === 'mariadb') return { ...facts, ...(await readGtidStarts(conn, facts.binaryLogs)) };
      return facts;
    } finally {
      await conn.end().catch(() => undefined);
    }
  }

  async open(from: { file: string; position: number }): Promise<SourceDump> {
    const o = this.#o;
    const stream = await openBinlogStream({
      ...this.#src,
      file: from.file,
      position: from.position,
      serverId: o.serverId,
      nonBlocking: o.nonBlocking ?? false,
      heartbeatPeriodMs: o.heartbeatPeriodMs ?? 30_000,
      highWaterMarkBytes: STREAM_HIGH_WATER_MARK,
      logger: this.#log,
    });
    // several sources: a switchover leaves this server up but no longer the primary; end the
    // dump then, and the next session streams from the new primary
    const current = this.#current;
    let checking = false;
    const check =
      current && (o.candidates?.length ?? 0) > 1
        ? setInterval(() => {
            if (checking) return;
            checking = true;
            probeRole(current.source)
              .then((role) => {
                if (role.primary) return;
                this.#log.warn(`${current.address} is no longer the primary (${role.why}); switching`, {});
                void stream.close();
              })
              .catch(() => undefined) // unreachable: the stream notices by itself
              .finally(() => (checking = false));
          }, o.primaryCheckIntervalMs ?? 5000)
        : undefined;
    return {
      items: stream,
      checksumAlgorithm: stream.source.binlogChecksum === 'CRC32' ? 'CRC32' : 'OFF',
      release: () => {
        if (check) clearInterval(check);
      },
    };
  }

  async execute(sql: string, params?: readonly unknown[]): Promise<void> {
    const conn = await connectMysql(this.#src);
    try {
      if (params) await conn.query(sql, [...params]);
      else await conn.query(sql);
    } finally {
      await conn.end().catch(() => undefined);
    }
  }

  /**
   * The primary among `candidates`: reachable, read_only off, not replicating; of several, the one
   * with the newest GTIDs.
   *
   * @throws MysqlConnectionError (retried by the caller) when none is the primary now
   */
  async #selectPrimary(candidates: readonly SourceCandidate[]): Promise<SourceCandidate> {
    const seen: string[] = [];
    let best: { c: SourceCandidate; pos: MariadbGtidPos | undefined } | undefined;
    for (const c of candidates) {
      const role = await probeRole(c.source).catch((err: unknown) => ({ error: messageOf(err) }));
      if ('error' in role) {
        seen.push(`${c.address}: unreachable (${role.error})`);
        continue;
      }
      if (!role.primary) {
        seen.push(`${c.address}: ${role.why}`);
        continue;
      }
      seen.push(`${c.address}: primary candidate (gtid_binlog_pos ${role.gtidPos ?? '?'})`);
      if (!best || (role.pos && best.pos && role.pos.contains(best.pos) && !best.pos.contains(role.pos))) {
        best = { c, pos: role.pos };
      }
    }
    if (!best) {
      throw new MysqlConnectionError(
        `none of the sources is a primary now (${seen.join('; ')}); waiting for one to be promoted (read_only=0, not ` +
          'replicating). If this lasts, check the failover, or name the primary in --source',
        candidates.map((c) => c.address).join(','),
        'NO_PRIMARY',
      );
    }
    if (this.#current?.address !== best.c.address) {
      this.#log.warn(`streaming from ${best.c.address}: it is the primary`, { candidates: seen });
    }
    return best.c;
  }
}

/** Reads @@gtid_binlog_state and BINLOG_GTID_POS(file, 4) of the newest files (one statement). */
async function readGtidStarts(
  conn: Awaited<ReturnType<typeof connectMysql>>,
  logs: readonly { name: string }[] | undefined,
): Promise<GtidStarts> {
  try {
    const files = (logs ?? []).slice(-GTID_START_FILES).map((l) => l.name);
    const cols = files.map((_, i) => `BINLOG_GTID_POS(?, 4) AS f${i}`);
    const [rows] = await conn.query(
      `SELECT @@global.gtid_binlog_state AS state${cols.length ? `, ${cols.join(', ')}` : ''}`,
      files,
    );
    const row = (rows as Record<string, unknown>[])[0] ?? {};
    const starts: Record<string, string> = {};
    files.forEach((f, i) => {
      const v = row[`f${i}`];
      if (typeof v === 'string') starts[f] = v;
    });
    return { gtidBinlogState: String(row.state ?? ''), fileStartGtidPos: starts };
  } catch {
    return {}; // an older server: no GTID-based continuation, the file checks still apply
  }
}

/** What a server is in its topology, as the archiver decides where to stream from. */
type Role =
  | { primary: true; gtidPos: string | undefined; pos: MariadbGtidPos | undefined }
  | { primary: false; why: string };

/** Connects to one candidate and says whether it is a primary (read_only off, no replication running). */
async function probeRole(source: MysqlConnectionOptions): Promise<Role> {
  const conn = await connectMysql({ ...source, connectTimeoutMs: source.connectTimeoutMs ?? 5000 });
  try {
    const [rows] = await conn.query(
      'SELECT @@global.read_only AS ro, @@global.log_bin AS log_bin, VERSION() AS v',
    );
    const row = (rows as Record<string, unknown>[])[0] ?? {};
    const on = (v: unknown): boolean => v === 1 || v === '1' || v === 'ON';
    if (!on(row.log_bin)) return { primary: false, why: 'binary log off' };
    if (on(row.ro)) return { primary: false, why: 'read_only=ON (a replica)' };
    const mariadb = /mariadb/i.test(String(row.v ?? ''));
    let replicating = false;
    if (mariadb) {
      // SHOW SLAVE STATUS needs SLAVE MONITOR; the status counter needs no privilege
      const [st] = await conn.query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Slaves_running', 'Slave_running')",
      );
      replicating = (st as { Variable_name: string; Value: string }[]).some(
        (r) =>
          (r.Variable_name === 'Slaves_running' && Number(r.Value) > 0) ||
          (r.Variable_name === 'Slave_running' && r.Value === 'ON'),
      );
    } else {
      try {
        const [st] = await conn.query('SHOW REPLICA STATUS');
        replicating = (st as { Replica_SQL_Running?: string }[]).some((r) => r.Replica_SQL_Running === 'Yes');
      } catch {
        replicating = false; // no privilege or an older server: read_only decides
      }
    }
    if (replicating) return { primary: false, why: 'replicating from another server' };
    if (!mariadb) return { primary: true, gtidPos: undefined, pos: undefined };
    const [g] = await conn.query('SELECT @@global.gtid_binlog_pos AS p');
    const text = String((g as Record<string, unknown>[])[0]?.p ?? '');
    let pos: MariadbGtidPos | undefined;
    try {
      pos = MariadbGtidPos.parse(text);
    } catch {
      pos = undefined;
    }
    return { primary: true, gtidPos: text, pos };
  } finally {
    await conn.end().catch(() => undefined);
  }
}
