import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';

import {
  BACKUP_MANIFEST_FORMAT,
  backupDumpKey,
  backupPrefix,
  backupManifestKey,
  newBackupId,
  serializeBackupManifest,
  type BackupManifest,
  type ManifestPart,
  type NonTransactionalTable,
} from '../catalog/index.js';
import { DEFAULT_CHUNK_BYTES, DumpSplitter, SplitBackupWriter } from './index.js';
import { createZstdCompressStream } from '../codec/index.js';
import { SYSTEM_SCHEMAS, type MysqlEndpoint } from '../mysql/index.js';
import { PitrError, messageOf } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import {
  clientEnvironment,
  connectMysql,
  formatDefaultsFile,
  readSourceFacts,
  type SourceFacts,
  type SqlConnection,
} from '../mysql/index.js';
import { createPrivateTempDir, removePrivateTempDir, type ObjectStore } from '../storage/index.js';
import { buildDumpCommand } from './dump-command.js';
import { DumpCoordinatesScanner, type DumpCoordinates } from './dump-coordinates-scanner.js';
import { DumpError } from './dump-error.js';
import { DumpOutputPipe, type DumpChunkResult } from './dump-output-pipe.js';

const execFileAsync = promisify(execFile);

/** Bytes of the dump tool's stderr kept for error messages. */
const STDERR_TAIL_BYTES = 4096;

/** Progress of a running dump, for a progress line or log. */
export interface BackupProgress {
  /** SQL bytes read from the dump tool so far. */
  sqlBytes: number;
  /** Compressed bytes handed to the repository so far. */
  storedBytes: number;
  elapsedMs: number;
}

/** Inputs of {@link createBackup}. */
export interface CreateBackupOptions {
  /** The source; `password` is handed to the dump tool through a 0600 defaults file. */
  source: MysqlEndpoint;
  store: ObjectStore;
  /** Schemas to dump; empty or undefined dumps all of them. */
  databases?: readonly string[];
  /** Extra arguments for the dump tool (after ours, before the database selection). */
  dumpExtraArgs?: readonly string[];
  /** Path of the dump program; default: the flavour's program found on `searchPath`. */
  dumpProgram?: string;
  /** Directories searched for the dump program (the caller passes PATH). */
  searchPath: string;
  /** Environment of the dump tool (the caller's; MYSQL_PWD is removed). */
  env?: Readonly<Record<string, string | undefined>>;
  /** zstd level (default 3). */
  compressionLevel?: number;
  /**
   * Store one object (`dump.sql.zst`, manifest format 1) instead of a split backup (parts per
   * table and chunk of rows, format 2). Default false: split.
   */
  singleFile?: boolean;
  /** Split backups: SQL bytes per rows part before a new chunk starts (default 64 MiB). */
  chunkBytes?: number;
  logger?: Logger;
  /** Aborting stops the dump tool; the backup then fails with INTERRUPTED. */
  signal?: AbortSignal;
  onProgress?: (p: BackupProgress) => void;
  /** How often `onProgress` is called (default 1000 ms). */
  progressIntervalMs?: number;
  /** Clock, for tests (default `() => new Date()`). */
  now?: () => Date;
  /** Reads the source facts; default: connect with mysql2 and ask the server. */
  inspectSource?: (
    source: MysqlEndpoint,
  ) => Promise<{ facts: SourceFacts; nonTransactional: NonTransactionalTable[]; replicaOf?: ReplicaOf }>;
}

/** The primary a replica replicates from (SHOW SLAVE STATUS / SHOW REPLICA STATUS). */
export interface ReplicaOf {
  /** The primary's server_id (Master_Server_Id / Source_Server_Id). */
  serverId: number;
  /** MySQL: the primary's server_uuid (Master_UUID / Source_UUID). */
  serverUuid?: string;
  /** `host:port` as the replica connects to it. */
  address: string;
}

/**
 * The primary `conn`'s server replicates from, or undefined when it is not a replica (no
 * replication channel configured). MariaDB multi-source: the default connection.
 */
export async function readReplicaOf(
  conn: SqlConnection,
  flavor: 'mariadb' | 'mysql',
): Promise<ReplicaOf | undefined> {
  let rows: Record<string, unknown>[] | undefined;
  // a user without the privilege to ask cannot tell: the dump is then taken as from a primary
  for (const sql of flavor === 'mysql'
    ? ['SHOW REPLICA STATUS', 'SHOW SLAVE STATUS']
    : ['SHOW SLAVE STATUS']) {
    try {
      [rows] = (await conn.query(sql)) as unknown as [Record<string, unknown>[]];
      break;
    } catch {
      // older MySQL without SHOW REPLICA STATUS, or no privilege
    }
  }
  if (!rows) return undefined;
  const r = rows.find((x) => (x['Connection_name'] ?? '') === '') ?? rows[0];
  if (!r) return undefined;
  const get = (...names: string[]): unknown =>
    names.map((n) => r[n]).find((v) => v !== undefined && v !== null && v !== '');
  const serverId = Number(get('Master_Server_Id', 'Source_Server_Id'));
  const host = String(get('Master_Host', 'Source_Host') ?? '');
  if (!host) return undefined;
  const uuid = get('Master_UUID', 'Source_UUID');
  return {
    serverId,
    ...(typeof uuid === 'string' && uuid ? { serverUuid: uuid } : {}),
    address: `${host}:${String(get('Master_Port', 'Source_Port') ?? '')}`,
  };
}

/**
 * Tables in the schemas to dump whose engine has no transactions (MyISAM, Aria, MEMORY, ...):
 * `--single-transaction` does not make their dump consistent with the InnoDB snapshot.
 */
export async function findNonTransactionalTables(
  conn: SqlConnection,
  databases: readonly string[] | undefined,
): Promise<NonTransactionalTable[]> {
  const params: string[] = [...SYSTEM_SCHEMAS];
  let where = `t.table_schema NOT IN (${SYSTEM_SCHEMAS.map(() => '?').join(',')})`;
  if (databases && databases.length > 0) {
    where += ` AND t.table_schema IN (${databases.map(() => '?').join(',')})`;
    params.push(...databases);
  }
  const [rows] = await conn.query(
    'SELECT t.table_schema AS s, t.table_name AS t, t.engine AS e FROM information_schema.tables t ' +
      "JOIN information_schema.engines g ON g.engine = t.engine WHERE g.transactions = 'NO' " +
      `AND t.table_type = 'BASE TABLE' AND ${where} ORDER BY t.table_schema, t.table_name`,
    params,
  );
  return (rows as { s: string; t: string; e: string }[]).map((r) => ({
    schema: r.s,
    table: r.t,
    engine: r.e,
  }));
}

async function defaultInspectSource(
  source: MysqlEndpoint,
  databases: readonly string[] | undefined,
): Promise<{ facts: SourceFacts; nonTransactional: NonTransactionalTable[]; replicaOf?: ReplicaOf }> {
  const conn = await connectMysql({
    host: source.host,
    port: source.port,
    ...(source.socket ? { socketPath: source.socket } : {}),
    user: source.user,
    ...(source.password !== undefined ? { password: source.password } : {}),
    ...(source.tls ? { tls: source.tls } : {}),
  });
  try {
    const facts = await readSourceFacts(conn, `mysql://${source.user}@${source.host}:${source.port}`);
    const nonTransactional = await findNonTransactionalTables(conn, databases);
    const replicaOf = await readReplicaOf(conn, facts.flavor);
    return { facts, nonTransactional, ...(replicaOf ? { replicaOf } : {}) };
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** The first of `programs` that is an executable file in one of the `searchPath` directories. */
async function findProgram(programs: readonly string[], searchPath: string): Promise<string | undefined> {
  for (const name of programs) {
    for (const dir of searchPath.split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, name);
      try {
        await access(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Bytes a Tap buffers before it stops reading its source. */
const TAP_HIGH_WATER_MARK = 4 * 1024 * 1024;

/** A pass-through stream that lets `onChunk` see every chunk and can veto the end in `beforeEnd`. */
class Tap extends Transform {
  constructor(
    private readonly onChunk: (chunk: Buffer) => void,
    private readonly beforeEnd?: () => Promise<void>,
  ) {
    // A deep buffer keeps the dump tool's pipe drained while a storage write or a compression
    // step is in flight (with the default 16 KiB the tool blocked on a full pipe about a third of
    // the time).
    super({ highWaterMark: TAP_HIGH_WATER_MARK });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.onChunk(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.beforeEnd) return cb();
    this.beforeEnd().then(
      () => cb(),
      (err: unknown) => cb(err as Error),
    );
  }
}

/** Keeps the last `limit` bytes written to it. */
class TailBuffer {
  #chunks: Buffer[] = [];
  #bytes = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#bytes - (this.#chunks[0]?.length ?? 0) >= this.limit)
      this.#bytes -= this.#chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.#chunks);
    return all
      .subarray(Math.max(0, all.length - this.limit))
      .toString('utf8')
      .trim();
  }
}

/**
 * Takes a consistent logical dump of the source into the repository:
 *
 * 1. reads the source facts (flavour, version, server_id, GTID identity) and lists non-transactional
 *    tables in the schemas to dump (reported as warnings);
 * 2. runs `mariadb-dump` or `mysqldump` (see `buildDumpCommand`) with the password in a 0600
 *    defaults file that is removed afterwards, even on failure;
 * 3. streams its stdout through zstd into `backups/<id>/dump.sql.zst` (multipart on S3, no
 *    temporary file, bounded memory), hashing and counting the SQL and the compressed bytes and
 *    scanning the SQL for the binlog coordinates and GTID position of the snapshot;
 * 4. only when the tool exited 0, its output ended with `-- Dump completed` and the coordinates were
 *    found, writes `backups/<id>/manifest.json` (last: the manifest is what makes a backup count).
 *
 * On failure no manifest is written and the data object is not stored (or deleted); if deleting
 * fails, the error says which object to delete.
 *
 * @returns the manifest that was written
 * @throws DumpError DUMP_TOOL_MISSING (with the install hint) or DUMP_FAILED (with the tool's
 *   stderr tail); PitrError INTERRUPTED when `signal` fired; MysqlServerError/MysqlConnectionError
 *   when the source cannot be inspected; StorageError when the repository fails.
 */
export async function createBackup(opts: CreateBackupOptions): Promise<BackupManifest> {
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const { source, store } = opts;
  const databases = opts.databases && opts.databases.length > 0 ? [...opts.databases] : undefined;
  const address = source.socket ?? `${source.host}:${source.port}`;

  const { facts, nonTransactional, replicaOf } = await (opts.inspectSource
    ? opts.inspectSource(source)
    : defaultInspectSource(source, databases));
  if (!facts.logBin) {
    throw new DumpError(
      'DUMP_FAILED',
      `the binary log is off on ${address}, so a dump cannot record where binlog replay must start. ` +
        'Enable it (log_bin, binlog_format=ROW) and restart the server, then take the backup again.',
      { tool: 'mysql-pitr' },
    );
  }

  const probe = buildDumpCommand({
    source: { flavor: facts.flavor, version: facts.versionNumber },
    endpoint: source,
    defaultsFile: 'x',
  });
  const program = opts.dumpProgram ?? (await findProgram(probe.programs, opts.searchPath));
  const installHint =
    facts.flavor === 'mariadb'
      ? 'Install it (Debian/Ubuntu: apt-get install mariadb-client; RHEL: dnf install mariadb)'
      : 'Install it (Debian/Ubuntu: apt-get install mysql-client; RHEL: dnf install mysql)';
  if (!program) {
    throw new DumpError(
      'DUMP_TOOL_MISSING',
      `no dump program for a ${facts.flavor} source: ${probe.programs.join(' or ')} not found on PATH. ` +
        `${installHint}, or pass --dump-program /path/to/${probe.programs[0]}.`,
      { tool: probe.programs[0]! },
    );
  }
  try {
    await access(program, fsConstants.X_OK);
  } catch (err) {
    throw new DumpError(
      'DUMP_TOOL_MISSING',
      `the dump program ${program} does not exist or is not executable (${messageOf(err)}). ` +
        `${installHint}, or fix --dump-program.`,
      { tool: program },
      { cause: err },
    );
  }
  let toolVersion: string | null = null;
  try {
    toolVersion =
      (
        await execFileAsync(program, ['--version'], {
          timeout: 10_000,
          env: clientEnvironment(opts.env ?? {}),
        })
      ).stdout.trim() || null;
  } catch {
    // not fatal: the dump itself will say what is wrong
  }

  const warnings: string[] = [];
  if (nonTransactional.length > 0) {
    const names = nonTransactional.slice(0, 20).map((t) => `${t.schema}.${t.table} (${t.engine})`);
    warnings.push(
      `${nonTransactional.length} non-transactional table(s) are not covered by --single-transaction and ` +
        `may be inconsistent with the rest of the dump if written during it: ${names.join(', ')}` +
        (nonTransactional.length > 20 ? ', ...' : '') +
        '. Convert them to InnoDB or stop writes to them during backups.',
    );
  }

  const startedAt = now();
  const id = newBackupId(startedAt, randomBytes(3));
  const dumpKey = backupDumpKey(id);
  const manifestKey = backupManifestKey(id);
  const log = logger.child({ backup: id });

  // named after this process: removed on every exit path, and by the next run after a kill -9
  const dir = await createPrivateTempDir('dump');
  const defaultsFile = join(dir, 'client.cnf');
  try {
    // 0600 from creation (never readable by others, not even for a moment); 'wx': never reuse a file
    const fh = await open(defaultsFile, 'wx', 0o600);
    try {
      await fh.writeFile(formatDefaultsFile(source.user, source.password));
    } finally {
      await fh.close();
    }
    const command = buildDumpCommand({
      source: { flavor: facts.flavor, version: facts.versionNumber },
      endpoint: source,
      defaultsFile,
      ...(replicaOf ? { fromReplica: true } : {}),
      ...(databases ? { databases } : {}),
      ...(opts.dumpExtraArgs ? { extraArgs: opts.dumpExtraArgs } : {}),
    });
    const shownArgs = command.args.map((a) =>
      a.startsWith('--defaults-extra-file=')
        ? '--defaults-extra-file=<0600 temporary file: user, password>'
        : a,
    );
    log.info(
      `dumping ${address} with ${program} into ${store.describe()}/` +
        (opts.singleFile ? dumpKey : `${backupPrefix(id)}parts/ (a split backup)`),
      {
        args: shownArgs.join(' '),
      },
    );

    const result = await runDump({
      program,
      args: command.args,
      env: opts.env ?? {},
      store,
      dumpKey,
      compressionLevel: opts.compressionLevel ?? 3,
      signal: opts.signal,
      onProgress: opts.onProgress,
      progressIntervalMs: opts.progressIntervalMs ?? 1000,
      flavor: facts.flavor,
      logger: log,
      split: !opts.singleFile,
      backupId: id,
      chunkBytes: opts.chunkBytes ?? DEFAULT_CHUNK_BYTES,
      stdbuf: await findProgram(['stdbuf'], opts.searchPath),
    });

    let gtidPosition: string | null =
      (facts.flavor === 'mariadb' ? result.coordinates.mariadbGtidPos : result.coordinates.mysqlGtidPurged) ??
      null;
    if (gtidPosition === null && facts.flavor === 'mariadb') {
      warnings.push('the dump printed no gtid_slave_pos; the GTID position of this backup is unknown');
    }
    if (gtidPosition === '') gtidPosition = null;

    const manifest: BackupManifest = {
      format: result.parts ? BACKUP_MANIFEST_FORMAT : 1,
      id,
      kind: 'logical-dump',
      timeline:
        facts.flavor === 'mysql' && (replicaOf ? replicaOf.serverUuid : facts.serverUuid)
          ? `server-uuid:${replicaOf ? replicaOf.serverUuid : facts.serverUuid}`
          : `server-id:${replicaOf ? replicaOf.serverId : facts.serverId}`,
      // a replica's dump holds its primary's coordinates: the backup belongs to the primary's history
      source: replicaOf
        ? {
            address: replicaOf.address,
            serverId: replicaOf.serverId,
            ...(replicaOf.serverUuid ? { serverUuid: replicaOf.serverUuid } : {}),
            ...(facts.gtidDomainId !== undefined ? { gtidDomainId: facts.gtidDomainId } : {}),
            flavor: facts.flavor,
            version: facts.version,
          }
        : {
            address,
            serverId: facts.serverId,
            ...(facts.serverUuid ? { serverUuid: facts.serverUuid } : {}),
            ...(facts.gtidDomainId !== undefined ? { gtidDomainId: facts.gtidDomainId } : {}),
            flavor: facts.flavor,
            version: facts.version,
          },
      takenFrom: {
        address,
        serverId: facts.serverId,
        ...(facts.serverUuid ? { serverUuid: facts.serverUuid } : {}),
        role: replicaOf ? 'replica' : 'primary',
      },
      startedAt: startedAt.toISOString(),
      finishedAt: now().toISOString(),
      binlog: { file: result.coordinates.binlogFile!, position: result.coordinates.binlogPosition! },
      gtidPosition,
      ...(result.parts
        ? { parts: result.parts }
        : {
            dump: {
              key: dumpKey,
              compression: 'zstd' as const,
              size: result.storedBytes,
              sha256: result.storedSha256!,
              uncompressedSize: result.sqlBytes,
            },
          }),
      databases: databases ?? null,
      tool: {
        name: command.programs.find((p) => program.endsWith(p)) ?? program,
        path: program,
        version: toolVersion,
        args: shownArgs,
      },
      nonTransactionalTables: nonTransactional,
      warnings,
    };
    for (const w of warnings) log.warn(w);
    try {
      await store.put(manifestKey, Buffer.from(serializeBackupManifest(manifest)), {
        contentType: 'application/json',
      });
    } catch (err) {
      await removePartial(
        store,
        [...(result.parts ? result.parts.map((p) => p.key) : [dumpKey]), manifestKey],
        log,
      );
      throw err;
    }
    log.info(
      `backup ${id} complete: ${result.sqlBytes} SQL bytes, ${result.storedBytes} stored, ` +
        `binlog ${manifest.binlog.file}:${manifest.binlog.position}` +
        (gtidPosition ? `, GTID ${gtidPosition}` : ''),
    );
    return manifest;
  } finally {
    await removePrivateTempDir(dir).catch((err: unknown) => {
      logger.error(
        `could not remove the temporary defaults file ${defaultsFile}: delete it (it holds a password)`,
        {
          cause: err,
        },
      );
    });
  }
}

interface RunDumpOptions {
  program: string;
  args: string[];
  env: Readonly<Record<string, string | undefined>>;
  store: ObjectStore;
  dumpKey: string;
  compressionLevel: number;
  signal: AbortSignal | undefined;
  onProgress: ((p: BackupProgress) => void) | undefined;
  progressIntervalMs: number;
  flavor: 'mariadb' | 'mysql';
  logger: Logger;
  /** Store a split backup (parts) instead of one object. */
  split: boolean;
  backupId: string;
  chunkBytes: number;
  /**
   * coreutils' `stdbuf`, when found: the tool then runs under `stdbuf -o 1M`. Its stdout is a pipe,
   * which glibc buffers in 4 KiB writes; with a 1 MiB buffer the tool makes 1/256 of the writes
   * and this process reads the pipe in about 64 KiB pieces instead of 7-15 KiB ones, which halves
   * the CPU of reading it (bench/README.md). Without it the tool runs as it is.
   */
  stdbuf?: string | undefined;
}

/** stdio buffer of the dump tool's stdout under `stdbuf` (see `RunDumpOptions.stdbuf`). */
const DUMP_STDOUT_BUFFER = '1M';

interface DumpResult {
  coordinates: DumpCoordinates;
  sqlBytes: number;
  storedBytes: number;
  /** Single-object dump: SHA-256 of the stored object. */
  storedSha256?: string;
  /** Split backup: its parts, in dump order. */
  parts?: ManifestPart[];
}

/** Deletes what a failed backup may have left; returns a sentence for the error message. */
async function removePartial(store: ObjectStore, keys: string[], logger: Logger): Promise<string> {
  try {
    await store.delete(keys);
    return '';
  } catch (err) {
    logger.error(`could not remove the partial backup objects ${keys.join(', ')}`, { cause: err });
    return (
      ` The partial object ${keys[0]} could not be removed (${messageOf(err)}); it has no manifest, so it is ` +
      `never used, but delete it from ${store.describe()} to free the space.`
    );
  }
}

/**
 * Starts the dump tool: its stdout to `stdoutFd` (the write end of a DumpOutputPipe), or to a new
 * pipe (`child.stdout`) when undefined; stderr always to a pipe.
 */
function spawnDump(
  command: string,
  args: string[],
  stdoutFd: number | undefined,
  env: NodeJS.ProcessEnv,
): ChildProcessByStdio<null, Readable | null, Readable> {
  // stdin ignored, stderr a pipe; stdout a pipe only without a descriptor
  return spawn(command, args, { stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'], env }) as ChildProcessByStdio<
    null,
    Readable | null,
    Readable
  >;
}

async function runDump(o: RunDumpOptions): Promise<DumpResult> {
  // The tool gets the password only from the defaults file, and only the environment a client needs
  // (MYSQL_PITR_SOURCE_PASSWORD would otherwise sit in its /proc/PID/environ).
  const env = clientEnvironment(o.env);
  const started = Date.now();
  // stdbuf execs the tool in its own place: same process, exit status and signals
  const [command, args] = o.stdbuf
    ? [o.stdbuf, ['-o', DUMP_STDOUT_BUFFER, o.program, ...o.args]]
    : [o.program, o.args];
  // A split backup reads the tool's stdout through a FIFO into one reused buffer (DumpOutputPipe);
  // without one (no mkfifo), and for a single-file backup, through Node's own pipe.
  const fifo = o.split ? await DumpOutputPipe.open() : undefined;
  let child: ReturnType<typeof spawnDump>;
  try {
    child = spawnDump(command, args, fifo?.writeFd, env);
  } catch (err) {
    fifo?.destroy();
    throw err;
  }
  fifo?.closeWriteEnd();
  const stderr = new TailBuffer(STDERR_TAIL_BYTES);
  child.stderr.on('data', (c: Buffer) => stderr.push(c));
  let spawnError: Error | undefined;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });

  let interrupted = false;
  const onAbort = (): void => {
    interrupted = true;
    child.kill('SIGTERM');
  };
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });

  const scanner = new DumpCoordinatesScanner();
  const storedHash = createHash('sha256');
  let sqlBytes = 0;
  let storedBytes = 0;
  let coordinates: DumpCoordinates | undefined;

  /** Why the dump does not count, or undefined when it does; decided once the tool has exited. */
  let verdictOnce: Promise<PitrError | undefined> | undefined;
  const verdict = (): Promise<PitrError | undefined> => (verdictOnce ??= decide());
  const decide = async (): Promise<PitrError | undefined> => {
    const { code, signal } = await closed;
    const tail = stderr.text();
    const tailText = tail ? ` Its last stderr output: ${tail}` : ' It wrote nothing to stderr.';
    const details = { tool: o.program, exitCode: code, signal, stderrTail: tail };
    if (interrupted) {
      return new PitrError(
        'INTERRUPTED',
        `backup stopped by a signal after ${sqlBytes} SQL bytes; no manifest was written`,
      );
    }
    if (spawnError) {
      return new DumpError('DUMP_FAILED', `could not start ${o.program}: ${spawnError.message}.`, details, {
        cause: spawnError,
      });
    }
    if (signal !== null) {
      return new DumpError(
        'DUMP_FAILED',
        `${o.program} was killed by ${signal} after ${sqlBytes} SQL bytes; the dump is incomplete and no ` +
          `manifest was written.${tailText} Find out what killed it (OOM killer? an operator?) and run the backup again.`,
        details,
      );
    }
    if (code !== 0) {
      return new DumpError(
        'DUMP_FAILED',
        `${o.program} failed with exit code ${code} after ${sqlBytes} SQL bytes; no manifest was written.${tailText} ` +
          'Fix the cause (connection lost? missing privilege such as RELOAD, LOCK TABLES, REPLICATION CLIENT/BINLOG MONITOR, ' +
          'SHOW VIEW, EVENT, TRIGGER?) and run the backup again.',
        details,
      );
    }
    coordinates = scanner.end();
    if (!coordinates.completed) {
      return new DumpError(
        'DUMP_FAILED',
        `${o.program} exited 0 but its output does not end with "-- Dump completed" (${sqlBytes} SQL bytes): ` +
          `the dump is truncated or --skip-comments was passed; no manifest was written.${tailText}`,
        details,
      );
    }
    if (coordinates.binlogFile === undefined || coordinates.binlogPosition === undefined) {
      const flag = o.flavor === 'mariadb' ? '--master-data' : '--source-data/--master-data';
      return new DumpError(
        'DUMP_FAILED',
        `${o.program} wrote no CHANGE MASTER line, so the binlog position of the dump is unknown; no manifest was ` +
          `written. Check that the binary log is on and that no --dump-extra-args override ${flag}.${tailText}`,
        details,
      );
    }
    return undefined;
  };

  if (o.split) {
    try {
      return await consumeSplit();
    } finally {
      fifo?.destroy();
    }
  }

  /** Split backup: the stream cut into parts by DumpSplitter, each stored as its own object. */
  async function consumeSplit(): Promise<DumpResult> {
    const writer = new SplitBackupWriter({
      store: o.store,
      backupId: o.backupId,
      compressionLevel: o.compressionLevel,
    });
    const splitter = new DumpSplitter(writer, { chunkBytes: o.chunkBytes });
    const timer = o.onProgress
      ? setInterval(
          () =>
            o.onProgress?.({ sqlBytes, storedBytes: writer.storedBytes, elapsedMs: Date.now() - started }),
          o.progressIntervalMs,
        )
      : undefined;
    const fail = async (err: unknown): Promise<never> => {
      child.kill('SIGKILL');
      await writer.abort(err instanceof Error ? err : new Error(String(err)));
      const leftover = await removePartial(o.store, [...writer.keys], o.logger);
      if (err instanceof PitrError && !leftover) throw err;
      throw new PitrError(
        err instanceof PitrError ? err.code : 'INTERNAL',
        `${err instanceof PitrError ? err.message : `storing backup parts in ${o.store.describe()} failed: ${messageOf(err)}`}.${leftover}`,
        { cause: err },
      );
    };
    try {
      let storeFailure: unknown;
      // Each chunk is consumed before the next is read: the scanner and the splitter copy what they
      // keep, the compressor copies the SQL into its batches (so the FIFO's buffer can be reused).
      const consume = (chunk: Buffer): DumpChunkResult => {
        sqlBytes += chunk.length;
        scanner.push(chunk);
        splitter.push(chunk);
        if (!writer.mustWait) return undefined;
        return writer.ready().catch((err: unknown) => {
          storeFailure ??= err;
          throw err;
        });
      };
      const reading = fifo
        ? fifo.read(consume)
        : pipeline(
            child.stdout!,
            new Writable({
              // a deep buffer keeps the dump tool's pipe drained while a part is being stored
              highWaterMark: TAP_HIGH_WATER_MARK,
              write(chunk: Buffer, _enc, cb) {
                let wait: DumpChunkResult;
                try {
                  wait = consume(chunk);
                } catch (err) {
                  cb(err as Error);
                  return;
                }
                if (wait === undefined) cb();
                else wait.then(() => cb(), cb);
              },
            }),
          );
      const piped = await reading.then(
        () => undefined,
        (err: unknown) => err,
      );
      // the repository failed first (the tool then dies of a broken pipe): report the storage error
      if (storeFailure !== undefined) return await fail(storeFailure);
      const dumpFailure = await verdict();
      if (dumpFailure) return await fail(dumpFailure);
      if (piped !== undefined) {
        return await fail(
          new DumpError(
            'DUMP_FAILED',
            `the output of ${o.program} could not be split into parts: ${messageOf(piped)}. No manifest was written; ` +
              'take the backup with --single-file and report the dump tool version.',
            { tool: o.program },
            { cause: piped },
          ),
        );
      }
      let parts: ManifestPart[];
      try {
        splitter.end();
        parts = await writer.finish();
      } catch (err) {
        return await fail(err);
      }
      o.onProgress?.({ sqlBytes, storedBytes: writer.storedBytes, elapsedMs: Date.now() - started });
      return { coordinates: coordinates!, sqlBytes, storedBytes: writer.storedBytes, parts };
    } finally {
      if (timer) clearInterval(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  let failure: PitrError | undefined;
  /** Which side failed first: the dump tool (its verdict) or the repository (the put). */
  let firstFailure: 'dump' | 'store' | undefined;
  const sqlTap = new Tap(
    (chunk) => {
      sqlBytes += chunk.length;
      scanner.push(chunk);
    },
    // Hold back the end of the stream until the tool has exited: if it failed, the put fails too,
    // so nothing is stored (the fs store drops its temporary file, S3 aborts the multipart upload).
    async () => {
      failure = await verdict();
      if (failure) {
        firstFailure ??= 'dump';
        throw failure;
      }
    },
  );
  const storedTap = new Tap((chunk) => {
    storedBytes += chunk.length;
    storedHash.update(chunk);
  });

  const timer = o.onProgress
    ? setInterval(
        () => o.onProgress?.({ sqlBytes, storedBytes, elapsedMs: Date.now() - started }),
        o.progressIntervalMs,
      )
    : undefined;
  try {
    const piping = pipeline(
      child.stdout!, // a single-file backup has no DumpOutputPipe
      sqlTap,
      // libzstd's own thread compresses while the event loop keeps reading the dump tool's pipe
      createZstdCompressStream({ level: o.compressionLevel, workers: 1 }),
      storedTap,
    );
    const putting = o.store.put(o.dumpKey, storedTap, { contentType: 'application/zstd' });
    putting.catch((err: unknown) => {
      // The repository gave up: stop the tool and unblock the pipeline (nobody reads storedTap now).
      firstFailure ??= 'store';
      child.kill('SIGKILL');
      storedTap.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    const [pipeResult, putResult] = await Promise.allSettled([piping, putting]);
    if (firstFailure === 'store' && putResult.status === 'rejected') {
      // The repository failed first (the tool then dies of a broken pipe): report the storage error.
      child.kill('SIGKILL');
      const leftover = await removePartial(o.store, [o.dumpKey], o.logger);
      const err: unknown = putResult.reason;
      if (err instanceof PitrError && !leftover) throw err;
      throw new PitrError(
        err instanceof PitrError ? err.code : 'INTERNAL',
        `storing ${o.dumpKey} in ${o.store.describe()} failed: ${messageOf(err)}.${leftover}`,
        { cause: err },
      );
    }
    // Otherwise wait for the tool's verdict: it decides whether the bytes form a backup.
    failure ??= await verdict();
    if (failure || pipeResult.status === 'rejected' || putResult.status === 'rejected') {
      const leftover = await removePartial(o.store, [o.dumpKey], o.logger);
      if (failure) {
        if (leftover)
          throw new DumpError(
            'DUMP_FAILED',
            failure.message + leftover,
            { tool: o.program },
            { cause: failure },
          );
        throw failure;
      }
      const err: unknown =
        pipeResult.status === 'rejected' ? pipeResult.reason : (putResult as PromiseRejectedResult).reason;
      throw new PitrError(
        'INTERNAL',
        `compressing the output of ${o.program} into ${o.dumpKey} failed: ${messageOf(err)}.${leftover}`,
        { cause: err },
      );
    }
    if (putResult.value.size !== storedBytes) {
      throw new PitrError(
        'INTERNAL',
        `${o.store.describe()} stored ${putResult.value.size} bytes of ${o.dumpKey} but ${storedBytes} were sent`,
      );
    }
    o.onProgress?.({ sqlBytes, storedBytes, elapsedMs: Date.now() - started });
    return {
      coordinates: coordinates!,
      sqlBytes,
      storedBytes,
      storedSha256: storedHash.digest('hex'),
    };
  } finally {
    if (timer) clearInterval(timer);
    o.signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
