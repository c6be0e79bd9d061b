/**
 * Throwaway MariaDB servers for integration tests.
 *
 * `startMariadb()` initialises a fresh datadir under the OS temp dir (mkdtemp), starts `mariadbd`
 * as root without systemd on a free loopback port with the binary log on (ROW, CRC32, GTID strict
 * mode), creates an admin user and a replication user `repl` (with sql_log_bin=0, so they never show
 * up in a binlog), and waits until the server answers. Several servers can run at once; each has its
 * own port, socket, datadir, server_id and tmpdir. The tmpdir must be its own: a starting server
 * deletes every `#sql*` file in its tmpdir, which in a shared /tmp are other servers' on-disk
 * temporary tables of their running queries.
 * Layout: `<mkdtemp>/data` (datadir) and `<mkdtemp>/tmp` (tmpdir); `root` is removed as a whole.
 *
 * Cleanup: every started server is tracked. `stop()` shuts it down (SIGTERM, SIGKILL after a deadline)
 * and removes its datadir. If a test forgets, the process 'exit' handler and SIGINT/SIGTERM handlers
 * kill what is still running, and a tiny watchdog shell process per server kills the server and
 * removes its datadir if this Node process dies without running any handler (SIGKILL, OOM).
 * Only servers started here are ever signalled.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.js';

const execFileAsync = promisify(execFile);

/** Options of startMariadb. Every field is optional. */
export interface MariadbOptions {
  /** server_id; default: unique per instance (derived from the pid and a counter). */
  serverId?: number;
  /** gtid_domain_id (default: the server's default, 0). */
  gtidDomainId?: number;
  /** max_binlog_size, e.g. 8 * 1024 * 1024 or '8M' (default: the server's default, 1G). */
  maxBinlogSize?: number | string;
  /** Binary log on (default true). Off for restore targets. */
  binlog?: boolean;
  /** Extra mariadbd options, appended last (a later option overrides an earlier one). */
  extraArgs?: string[];
  /** Keep the datadir after stop() (default false). */
  keep?: boolean;
  /** How long to wait for the server to answer (default 60 s). */
  startTimeoutMs?: number;
  /** How long stop() waits for a graceful shutdown before SIGKILL (default 30 s). */
  stopTimeoutMs?: number;
  /** Parent of the datadir (default os.tmpdir()). */
  tmpRoot?: string;
}

/** A user name and password. */
export interface Credentials {
  user: string;
  password: string;
}

/** A running throwaway MariaDB. */
export interface MariadbServer {
  readonly host: string;
  readonly port: number;
  /** Unix socket path (root can log in there without a password). */
  readonly socket: string;
  readonly datadir: string;
  /** Where the binary logs are (the datadir: --log-bin=mysql-bin). */
  readonly binlogDir: string;
  readonly serverId: number;
  /** ALL PRIVILEGES ... WITH GRANT OPTION, over TCP. */
  readonly admin: Credentials;
  /** REPLICATION SLAVE, BINLOG MONITOR, over TCP. */
  readonly repl: Credentials;
  /** The process id of mariadbd (undefined while stopped). */
  readonly pid: number | undefined;
  /** `mysql://user@127.0.0.1:port` (never with a password). */
  url(user?: string): string;
  /** Runs SQL as the admin user over TCP and returns the rows (or the OK packet for writes). */
  query<T = Record<string, unknown>[]>(sql: string, params?: unknown[]): Promise<T>;
  /** A new mysql2/promise connection as `who` (default admin); the caller ends it. */
  connect(who?: Credentials, database?: string): Promise<mysql.Connection>;
  /** The last `lines` lines of the error log. */
  errorLogTail(lines?: number): Promise<string>;
  /** Graceful shutdown (SIGKILL after the deadline), then removes the datadir unless `keep`. */
  stop(opts?: { keep?: boolean }): Promise<void>;
  /** SIGKILL, datadir kept (crash tests); restart() brings it back with crash recovery. */
  kill(): Promise<void>;
  /** Stops gracefully if running (datadir kept), then starts again on the same port and datadir. */
  restart(): Promise<void>;
}

const ADMIN: Credentials = { user: 'admin', password: 'admin-pw' };
const REPL: Credentials = { user: 'repl', password: 'repl-pw' };

let instanceCounter = 0;
const live = new Set<Instance>();

function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found in PATH or /usr/sbin: install mariadb-server and mariadb-client`);
}

function defaultServerId(): number {
  instanceCounter += 1;
  return 1000 + (process.pid % 40_000) * 100 + (instanceCounter % 100);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when the server at `socket` sends its greeting; rejects on an error packet or no answer. */
async function probeGreeting(socket: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const conn = netConnect(socket);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error('no greeting within 2 s'));
    }, 2000);
    conn.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.once('data', (data: Buffer) => {
      clearTimeout(timer);
      conn.destroy();
      // byte 4 is the first payload byte: 10 = protocol version of a greeting, 0xff = error packet
      if (data.length > 4 && data[4] === 10) resolve();
      else reject(new Error(`unexpected greeting: ${data.subarray(0, 64).toString('latin1')}`));
    });
  });
}

class Instance implements MariadbServer {
  readonly host = '127.0.0.1';
  port: number;
  readonly socket: string;
  readonly datadir: string;
  readonly binlogDir: string;
  readonly serverId: number;
  /** Holds `data` (the datadir) and `tmp` (the server's own tmpdir); removed as a whole. */
  private readonly root: string;
  private readonly tmpdir: string;
  readonly admin = ADMIN;
  readonly repl = REPL;
  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private pool: mysql.Pool | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Set when this harness signals mariadbd, so only unasked-for exits are reported. */
  private signalled = false;
  private readonly errorLog: string;
  private readonly pidFile: string;

  constructor(
    root: string,
    port: number,
    private readonly opts: MariadbOptions,
  ) {
    this.root = root;
    const datadir = join(root, 'data');
    this.tmpdir = join(root, 'tmp');
    this.datadir = datadir;
    this.binlogDir = datadir;
    this.port = port;
    this.socket = join(datadir, 'mysql.sock');
    this.errorLog = join(datadir, 'error.log');
    this.pidFile = join(datadir, 'mariadbd.pid');
    this.serverId = opts.serverId ?? defaultServerId();
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  url(user = ADMIN.user): string {
    return `mysql://${encodeURIComponent(user)}@${this.host}:${this.port}`;
  }

  private args(): string[] {
    const o = this.opts;
    const args = [
      '--no-defaults', // must be first, or /etc/mysql settings leak in
      '--user=root',
      `--datadir=${this.datadir}`,
      `--tmpdir=${this.tmpdir}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${this.socket}`,
      `--pid-file=${this.pidFile}`,
      `--log-error=${this.errorLog}`,
      `--server-id=${this.serverId}`,
      '--skip-name-resolve',
      // small footprint, fast start; durability does not matter for throwaway servers
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=32M',
      '--innodb-flush-log-at-trx-commit=2',
      '--sync-binlog=0',
      '--max-connections=64',
      '--max-allowed-packet=256M',
      '--skip-innodb-adaptive-hash-index',
      '--performance-schema=OFF',
      '--skip-symbolic-links',
    ];
    if (o.binlog ?? true) {
      args.push(
        '--log-bin=mysql-bin',
        '--binlog-format=ROW',
        '--binlog-checksum=CRC32',
        '--gtid-strict-mode=ON',
        '--log-slave-updates',
      );
    } else {
      args.push('--skip-log-bin');
    }
    if (o.maxBinlogSize !== undefined) args.push(`--max-binlog-size=${o.maxBinlogSize}`);
    if (o.gtidDomainId !== undefined) args.push(`--gtid-domain-id=${o.gtidDomainId}`);
    args.push(...(o.extraArgs ?? []));
    return args;
  }

  /** Spawns mariadbd and waits for its greeting. Throws with the error log tail on failure. */
  async spawnAndWait(): Promise<void> {
    const child = spawn(findBinary('mariadbd'), this.args(), { stdio: 'ignore' });
    // unref: a forgotten server must not keep the test process alive; the exit handler kills it
    child.unref();
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    this.signalled = false;
    child.once('exit', (code, signal) => {
      if (this.signalled || (code === 0 && signal === null)) return;
      // a crash nobody asked for: leave its cause in the test output, the datadir goes with stop()
      void this.errorLogTail(30).then((tail) =>
        process.stderr.write(
          `mariadbd (port ${this.port}) exited by itself (code ${code}, signal ${signal}); ` +
            `error log tail:\n${tail}\n`,
        ),
      );
    });
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    live.add(this);
    this.startWatchdog();
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 60_000);
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (spawnError)
        throw new Error(`could not start mariadbd: ${spawnError.message}`, { cause: spawnError });
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new MariadbStartError(
          `mariadbd (datadir ${this.datadir}, port ${this.port}) exited during startup ` +
            `(code ${child.exitCode}, signal ${child.signalCode})`,
          await this.errorLogTail(30),
        );
      }
      if (existsSync(this.socket)) {
        try {
          await probeGreeting(this.socket);
          return;
        } catch (err) {
          lastError = err;
        }
      }
      await sleep(100);
    }
    const tail = await this.errorLogTail(30);
    await this.kill();
    throw new MariadbStartError(
      `mariadbd (datadir ${this.datadir}, port ${this.port}) did not answer within ` +
        `${this.opts.startTimeoutMs ?? 60_000} ms (last probe error: ${String(lastError)})`,
      tail,
    );
  }

  /** Kills mariadbd and removes the datadir if this Node process dies without cleaning up. */
  private startWatchdog(): void {
    const dbPid = this.child?.pid;
    if (dbPid === undefined) return;
    const removeDir = this.opts.keep ? '' : `rm -rf '${this.root.replace(/'/g, `'\\''`)}';`;
    const script =
      `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${dbPid} 2>/dev/null; do sleep 1; done; ` +
      `if ! kill -0 ${process.pid} 2>/dev/null; then kill -9 ${dbPid} 2>/dev/null; sleep 1; ${removeDir} fi`;
    const dog = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
    dog.unref();
    this.watchdog = dog;
  }

  private stopWatchdog(): void {
    const dog = this.watchdog;
    this.watchdog = undefined;
    if (dog?.pid !== undefined && dog.exitCode === null && dog.signalCode === null) {
      try {
        process.kill(dog.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  /** Creates the users; run once after the first start. */
  async bootstrapUsers(): Promise<void> {
    const q = (s: string): string => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    const sql = [
      'SET SESSION sql_log_bin=0',
      // mariadb-install-db may create anonymous users; ''@'localhost' would shadow 'repl'@'%'
      "DELETE FROM mysql.global_priv WHERE User=''",
      'FLUSH PRIVILEGES',
      `CREATE USER '${ADMIN.user}'@'%' IDENTIFIED BY '${q(ADMIN.password)}'`,
      `GRANT ALL PRIVILEGES ON *.* TO '${ADMIN.user}'@'%' WITH GRANT OPTION`,
      `CREATE USER '${REPL.user}'@'%' IDENTIFIED BY '${q(REPL.password)}'`,
      // REPLICATION SLAVE: COM_REGISTER_SLAVE and COM_BINLOG_DUMP.
      // BINLOG MONITOR (10.5+ name of REPLICATION CLIENT): SHOW BINARY LOGS, SHOW MASTER STATUS.
      `GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '${REPL.user}'@'%'`,
    ].join(';\n');
    await this.rootSql(sql);
  }

  /** Runs SQL as root over the unix socket with the mariadb client (root uses unix_socket auth). */
  async rootSql(sql: string): Promise<string> {
    try {
      const { stdout } = await execFileAsync(
        findBinary('mariadb'),
        ['--no-defaults', `--socket=${this.socket}`, '-uroot', '-N', '-B', '-e', sql],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      return stdout;
    } catch (err) {
      throw new Error(`mariadb client as root on ${this.socket} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async connect(who: Credentials = ADMIN, database?: string): Promise<mysql.Connection> {
    return await mysql.createConnection({
      host: this.host,
      port: this.port,
      user: who.user,
      password: who.password,
      database,
      multipleStatements: false,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  }

  async query<T = Record<string, unknown>[]>(sql: string, params?: unknown[]): Promise<T> {
    this.pool ??= mysql.createPool({
      host: this.host,
      port: this.port,
      user: ADMIN.user,
      password: ADMIN.password,
      connectionLimit: 4,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    const [rows] = await this.pool.query(sql, params);
    return rows as T;
  }

  async errorLogTail(lines = 20): Promise<string> {
    try {
      const text = await readFile(this.errorLog, 'utf8');
      return text
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch {
      return '(no error log)';
    }
  }

  private async closePool(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.end().catch(() => undefined);
  }

  /** SIGTERM, wait up to the deadline, then SIGKILL. Keeps the datadir. */
  private async shutdown(): Promise<void> {
    await this.closePool();
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      this.signalled = true;
      child.kill('SIGTERM');
      const timeout = this.opts.stopTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        this.exited.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeout))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    this.stopWatchdog();
    live.delete(this);
  }

  async stop(opts?: { keep?: boolean }): Promise<void> {
    await this.shutdown();
    if (!(opts?.keep ?? this.opts.keep)) await rm(this.root, { recursive: true, force: true });
  }

  async kill(): Promise<void> {
    await this.closePool();
    const child = this.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      this.signalled = true;
      child.kill('SIGKILL');
      await this.exited;
    }
    this.stopWatchdog();
    live.delete(this);
  }

  async restart(): Promise<void> {
    await this.shutdown();
    await this.spawnAndWait();
  }

  /** Synchronous last-resort cleanup for process exit. */
  killSync(): void {
    const pid = this.child?.pid;
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      this.signalled = true;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.stopWatchdog();
    if (!this.opts.keep) {
      try {
        rmSync(this.root, { recursive: true, force: true });
      } catch {
        // mariadbd may still hold files for a moment; the watchdog is gone, nothing else to do
      }
    }
    live.delete(this);
  }
}

/** mariadbd did not come up; `errorLog` holds the tail of its error log. */
export class MariadbStartError extends Error {
  constructor(
    message: string,
    readonly errorLog: string,
  ) {
    super(`${message}\n--- error log tail ---\n${errorLog}`);
    this.name = 'MariadbStartError';
  }
}

let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const s of [...live]) s.killSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const handler = (): void => {
      for (const s of [...live]) s.killSync();
      process.removeListener(signal, handler);
      // re-raise so the default behaviour (terminate) happens
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

/** Starts a throwaway MariaDB; see the module comment. Stop it with `stop()` in an `after` hook. */
export async function startMariadb(opts: MariadbOptions = {}): Promise<MariadbServer> {
  installExitHandlers();
  const root = opts.tmpRoot ?? tmpdir();
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(root, 'pitr-mariadb-'));
    try {
      await mkdir(join(dir, 'tmp'));
      await execFileAsync(
        findBinary('mariadb-install-db'),
        [
          '--no-defaults',
          '--user=root',
          `--datadir=${join(dir, 'data')}`,
          `--tmpdir=${join(dir, 'tmp')}`,
          '--auth-root-authentication-method=socket',
          '--skip-test-db',
          // same redo log size as the server, so the first start does not resize it
          '--innodb-log-file-size=32M',
          '--innodb-buffer-pool-size=64M',
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (attempt < 3) continue;
      throw new Error(`mariadb-install-db failed: ${(err as Error).message}`, { cause: err });
    }
    const instance = new Instance(dir, await freePort(), opts);
    try {
      await instance.spawnAndWait();
      await instance.bootstrapUsers();
      return instance;
    } catch (err) {
      await instance.stop({ keep: false }).catch(() => undefined);
      const portTaken =
        err instanceof MariadbStartError && /Address already in use|Bind on TCP\/IP port/i.test(err.errorLog);
      if (portTaken && attempt < 3) continue; // another process took the free port: try another one
      throw err;
    }
  }
}
