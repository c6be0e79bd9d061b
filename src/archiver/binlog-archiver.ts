import { setTimeout as sleep } from 'node:timers/promises';

import type { SegmentHeader } from '../catalog/index.js';
import { PitrError, messageOf } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import {
  BinlogUnavailableError,
  type BinlogCoordinates,
  type MysqlConnectionOptions,
} from '../mysql/index.js';
import type { ObjectStore } from '../storage/index.js';
import { isCaughtUp } from './archive-core.js';
import { archiveDump } from './archive-dump.js';
import { dumpTuning } from './dump-tuning.js';
import { ArchiveProgress } from './archive-progress.js';
import { planArchiveStart } from './archive-start-plan.js';
import { Lease, LeaseHeldError } from './lease.js';
import { MysqlSourcePort, type SourceCandidate } from './mysql-source-port.js';
import { readRepositoryState } from './read-repository-state.js';
import { recordArchiveStart } from './record-archive-start.js';
import { judgeSourceError } from './retryable-source-error.js';
import { SegmentConflictError } from './segment-conflict-error.js';
import type { SourcePort } from './source-port.js';
import { SourcePurger } from './source-purger.js';
import { SourceRotator } from './source-rotator.js';
import { sourceStateOf } from './source-state.js';
import { YoungGenerationSizer } from './young-generation-sizer.js';

export type { SourceCandidate } from './mysql-source-port.js';

/** Options of archiveBinlogs. */
export interface ArchiveOptions {
  /** How to reach the source (a user with REPLICATION SLAVE and BINLOG MONITOR / REPLICATION CLIENT). */
  source: MysqlConnectionOptions;
  /** The source as printed in records and logs (`mysql://repl@db1:3306`, never a password). */
  sourceAddress: string;
  /**
   * Several servers of one replication topology (`--source mysql://repl@db1:3306,db2:3306`): on
   * every (re)connect the archiver streams from the primary among them (writable, not replicating,
   * the newest GTIDs), and while streaming checks every `primaryCheckIntervalMs` that it still is.
   * When set, `source` is unused.
   */
  candidates?: readonly SourceCandidate[];
  /** How often the current server is checked to still be the primary (default 5 000 ms; candidates only). */
  primaryCheckIntervalMs?: number;
  store: ObjectStore;
  /** server_id to register as replica (must be unique among the source's replicas). */
  serverId?: number;
  /** Default 400 ms (DEFAULT_FLUSH_INTERVAL_MS); see FlushPolicy for the idle flush. */
  flushIntervalMs?: number;
  /** Default 64 MiB. */
  segmentSize?: number;
  /** zstd level (default 1). */
  compressionLevel?: number;
  /** Exit once everything the source had at start is durable. */
  untilCaughtUp?: boolean;
  /** Segments compressed or uploading at once before the stream waits (default 2). */
  maxPendingSegments?: number;
  /** Repository lease duration (default 60 s). */
  leaseTtlMs?: number;
  /**
   * Run `FLUSH BINARY LOGS` on the source this often (ms) when transactions were archived since the
   * last rotation, so that no file spans too long (needs RELOAD or BINLOG ADMIN). Default 0: never.
   * Ignored with untilCaughtUp.
   */
  rotateIntervalMs?: number;
  /**
   * Purge source binlogs once they are archived (`PURGE BINARY LOGS TO`), keeping this many of the
   * most recent fully archived files on the source. Undefined (the default): never purge. Needs
   * SUPER or BINLOG ADMIN. The source itself refuses to purge a file a connected replica still reads.
   */
  purgeSourceKeep?: number;
  /** Source heartbeat period (default 30 s in follow mode). */
  heartbeatPeriodMs?: number;
  /** First and largest delay between retries of a failed segment upload, ms (default 500 and 30 000). */
  storageRetryDelayMs?: { initial: number; max: number };
  /** First and largest delay between reconnects, ms (default 500 and 30 000). */
  reconnectDelayMs?: { initial: number; max: number };
  /**
   * Where the events come from (default: a MysqlSourcePort over `source` / `candidates`). Tests
   * pass a port that feeds recorded binlog files; the source options are then unused.
   */
  port?: SourcePort;
  /** Aborting stops the archiver cleanly: what is buffered is flushed, then it returns. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Receives one Embedded Metric Format JSON line per flushed segment. */
  metrics?: (line: string) => void;
  /** Cluster name added to every metric line as the `Cluster` dimension (the deployment's name). */
  cluster?: string;
  /**
   * While the source is idle and everything is durable, report `ArchiveLagSeconds` 0 this often
   * (ms, default 60 000), so a lag alarm that treats missing data as breaching stays quiet for a
   * healthy idle archiver and fires for a stuck one.
   */
  idleMetricsIntervalMs?: number;
  /**
   * Upkeep fed every stored segment (the CLI passes src/maintenance's CompactAfterClose: file
   * indexes at each close, compaction of closed files); made with the archiver's lease fence, which
   * throws once the archiver may no longer write. None by default.
   */
  afterStore?: (ctx: { store: ObjectStore; logger: Logger; fence: () => void }) => StoredSegmentListener;
}

/** Told of every segment the archiver stored; never fails the archiver. */
export interface StoredSegmentListener {
  /** A segment was stored (`storedBytes`: the object's size). Must not throw. */
  onStored(header: SegmentHeader, storedBytes: number): void;
  /** Waits for background work to stop (called when the archiver stops). */
  close(): Promise<void>;
}

/** What archiveBinlogs did. */
export interface ArchiveResult {
  timeline: string | undefined;
  /** The last durable position. */
  file: string | undefined;
  position: number | undefined;
  segments: number;
  /** Uncompressed bytes stored. */
  bytes: number;
  /** With untilCaughtUp: the position recorded at start that is now durable. */
  target: BinlogCoordinates | undefined;
  /** True when stopped by the signal. */
  stopped: boolean;
}

/**
 * Streams the source's binlogs into the repository as segments (see docs/archive-layout.md) until
 * the signal aborts (or, with `untilCaughtUp`, until what the source had at start is durable).
 * Holds the repository lease throughout. Reconnects with backoff when the source goes away;
 * retries storage failures, waiting (and so holding the source back) while more than
 * `maxPendingSegments` segments are not stored.
 *
 * @throws LeaseHeldError (LEASE_HELD) when another archiver holds the lease or takes it over
 * @throws MysqlServerError / MysqlPrerequisiteError for source problems retrying cannot fix
 *   (credentials, privileges, binlog off); StorageError for permanent storage failures;
 *   CorruptDataError when the stream or the repository holds damaged data
 */
export async function archiveBinlogs(opts: ArchiveOptions): Promise<ArchiveResult> {
  const port =
    opts.port ??
    new MysqlSourcePort({
      source: opts.source,
      sourceAddress: opts.sourceAddress,
      ...(opts.candidates ? { candidates: opts.candidates } : {}),
      ...(opts.primaryCheckIntervalMs !== undefined
        ? { primaryCheckIntervalMs: opts.primaryCheckIntervalMs }
        : {}),
      ...(opts.serverId !== undefined ? { serverId: opts.serverId } : {}),
      nonBlocking: opts.untilCaughtUp ?? false,
      ...(opts.heartbeatPeriodMs !== undefined ? { heartbeatPeriodMs: opts.heartbeatPeriodMs } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
  return await new BinlogArchiver(opts, port).run();
}

/**
 * The archiver as a composition: the source port yields the facts and the events, planArchiveStart
 * and ArchiveCore decide, and the effects carry the decisions out (the lease, the timeline and gap
 * records, the segment uploads, purge, rotation, metrics). What is left here is the session loop:
 * reconnects with backoff, and when to give up.
 */
class BinlogArchiver {
  readonly #o: ArchiveOptions;
  readonly #log: Logger;
  readonly #store: ObjectStore;
  readonly #port: SourcePort;
  readonly #stop = new AbortController();
  readonly #progress: ArchiveProgress;
  readonly #youngGeneration = new YoungGenerationSizer();
  readonly #purger: SourcePurger | undefined;
  #rotator: SourceRotator | undefined;
  #lostLease: LeaseHeldError | undefined;
  #lease: Lease | undefined;
  #target: BinlogCoordinates | undefined;
  /** Writes each closed file's index and compacts closed files in the background. */
  readonly #compactor: StoredSegmentListener | undefined;

  constructor(opts: ArchiveOptions, port: SourcePort) {
    this.#o = opts;
    this.#port = port;
    this.#log = opts.logger ?? silentLogger;
    this.#store = opts.store;
    this.#progress = new ArchiveProgress({
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
      ...(opts.idleMetricsIntervalMs !== undefined
        ? { idleMetricsIntervalMs: opts.idleMetricsIntervalMs }
        : {}),
    });
    this.#purger =
      opts.purgeSourceKeep !== undefined
        ? new SourcePurger(port, opts.purgeSourceKeep, this.#log)
        : undefined;
    this.#compactor = opts.afterStore?.({
      store: opts.store,
      logger: this.#log,
      fence: () => this.#lease?.assertValid('write a binlog file index or compact'),
    });
  }

  async run(): Promise<ArchiveResult> {
    const o = this.#o;
    const onAbort = (): void => this.#stop.abort(o.signal?.reason);
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const lease = await Lease.acquire(this.#store, {
      source: o.sourceAddress,
      ttlMs: o.leaseTtlMs,
      fencing: true,
      logger: this.#log,
    });
    this.#lease = lease;
    lease.keepAlive((err) => {
      this.#lostLease = err;
      this.#stop.abort(err);
    });
    if (o.rotateIntervalMs && !o.untilCaughtUp) {
      this.#rotator = new SourceRotator(this.#port, o.rotateIntervalMs, this.#log, this.#stop.signal);
    }
    const progress = this.#progress;
    try {
      const initial = o.reconnectDelayMs?.initial ?? 500;
      const max = o.reconnectDelayMs?.max ?? 30_000;
      let delay = initial;
      let idleSessions = 0;
      /** Consecutive 1236 errors without progress: a purge is re-planned at once, so a repeat means more. */
      let unavailable = 0;
      /** Consecutive sessions that ended on a segment key holding other bytes. */
      let conflicts = 0;
      while (!this.#stop.signal.aborted) {
        const before = progress.bytes;
        let caughtUp = false;
        try {
          caughtUp = await this.#session();
          delay = initial;
          conflicts = 0;
        } catch (err) {
          if (this.#lostLease) throw this.#lostLease;
          if (this.#stop.signal.aborted) break;
          if (err instanceof SegmentConflictError) {
            // re-read the repository and continue after what is stored; a repeat means more
            conflicts += 1;
            if (conflicts >= 3) throw err;
            this.#log.warn(messageOf(err), { key: err.key });
            continue;
          }
          const verdict = judgeSourceError(err);
          if (!verdict.reconnect) throw verdict.error;
          unavailable =
            err instanceof BinlogUnavailableError && progress.bytes === before ? unavailable + 1 : 0;
          if (unavailable >= 5) {
            throw new PitrError(
              'MYSQL_SERVER_ERROR',
              `the source ${this.#port.address} refuses to send ${(err as BinlogUnavailableError).file} from position ` +
                `${(err as BinlogUnavailableError).position} although it lists the file (5 attempts): the archived ` +
                'position is not an event boundary of its file, so its binlog is not the archived history. Check ' +
                'the source; if it was rebuilt, move the repository aside or archive it into a new one',
              { cause: err },
            );
          }
          this.#log.warn(`binlog stream from ${this.#port.address} failed; reconnecting in ${delay} ms`, {
            error: messageOf(err),
            code: (err as { code?: unknown }).code,
          });
          await sleep(delay, undefined, { signal: this.#stop.signal }).catch(() => undefined);
          delay = Math.min(max, delay * 2);
          continue;
        }
        if (o.untilCaughtUp) {
          if (caughtUp) break;
          idleSessions = progress.bytes === before ? idleSessions + 1 : 0;
          if (idleSessions >= 5) {
            throw new PitrError(
              'INTERNAL',
              `the source ${this.#port.address} stopped sending before ${this.#target?.file}:${this.#target?.position} ` +
                `(archived up to ${progress.durable?.file}:${progress.durable?.end}); run the archiver again, and report this if it repeats`,
            );
          }
        }
      }
      if (this.#lostLease) throw this.#lostLease;
      return {
        timeline: progress.durable?.timeline,
        file: progress.durable?.file,
        position: progress.durable?.end,
        segments: progress.segments,
        bytes: progress.bytes,
        target: this.#target,
        stopped: this.#stop.signal.aborted,
      };
    } finally {
      this.#rotator?.stop();
      await this.#compactor?.close();
      await this.#purger?.settled();
      o.signal?.removeEventListener('abort', onAbort);
      await lease.release();
    }
  }

  /** One connection: plan, stream, flush. Returns true when caught up with the target. */
  async #session(): Promise<boolean> {
    const o = this.#o;
    const facts = await this.#port.connect();
    if (o.untilCaughtUp && !this.#target) {
      if (!facts.current) {
        throw new PitrError(
          'MYSQL_PREREQUISITE',
          `--until-caught-up needs SHOW MASTER STATUS on ${this.#port.address}; grant the user BINLOG MONITOR ` +
            '(MariaDB) or REPLICATION CLIENT (MySQL)',
        );
      }
      this.#target = facts.current;
      this.#log.info('archiving until caught up', {
        file: facts.current.file,
        position: facts.current.position,
      });
    }
    const repo = await readRepositoryState(this.#store);
    const plan = planArchiveStart(repo, sourceStateOf(facts));
    const timeline = await recordArchiveStart(plan, facts, {
      store: this.#store,
      logger: this.#log,
      address: this.#port.address,
      fence: (what) => this.#fence(what),
    });
    if (plan.kind === 'new-timeline') this.#progress.newTimeline();
    if (plan.kind === 'resume' && repo.last && repo.last.timeline === timeline && !this.#progress.durable) {
      const l = repo.last;
      this.#progress.resumedAt({
        timeline,
        file: l.file,
        end: l.end,
        closesFile: l.closesFile,
        nextFile: l.nextFile,
      });
    }
    if (o.untilCaughtUp && this.#caughtUp()) return true;

    const dump = await this.#port.open({ file: plan.file, position: plan.position });
    this.#log.info('streaming binlogs', { timeline, file: plan.file, position: plan.position });
    try {
      await archiveDump(dump, {
        timeline,
        file: plan.file,
        position: plan.position,
        object: `binlog stream from ${this.#port.address}`,
        store: this.#store,
        logger: this.#log,
        compressionLevel: o.compressionLevel,
        // A catch-up is bound by compression (zstd -1 runs at about 200-250 MiB/s per core here): give
        // libzstd both cores, as the `zstd -1 -T2` reference has, and cut smaller segments (memory).
        ...dumpTuning({ untilCaughtUp: o.untilCaughtUp === true, segmentSize: o.segmentSize }),
        flushIntervalMs: o.flushIntervalMs,
        maxPendingSegments: o.maxPendingSegments,
        ...(o.storageRetryDelayMs ? { storageRetryDelayMs: o.storageRetryDelayMs } : {}),
        stop: this.#stop.signal,
        fence: () => this.#fence('store a segment'),
        abandon: () => this.#lostLease !== undefined,
        leaseEpoch: this.#lease?.epoch,
        onStored: (seg, stored) => this.#onStored(seg.header, stored),
        onIdle: () => this.#progress.idle(Date.now()),
        youngGeneration: this.#youngGeneration,
      });
    } finally {
      dump.release();
    }
    return o.untilCaughtUp ? this.#caughtUp() : false;
  }

  /** The lease fence: throws (and stops the archiver) when the lease is no longer valid. */
  #fence(what: string): void {
    try {
      this.#lease?.assertValid(what);
    } catch (err) {
      if (err instanceof LeaseHeldError && !this.#lostLease) {
        this.#lostLease = err;
        this.#stop.abort(err);
      }
      throw err;
    }
  }

  #caughtUp(): boolean {
    return isCaughtUp({ target: this.#target, durable: this.#progress.durable });
  }

  #onStored(h: SegmentHeader, storedBytes: number): void {
    this.#compactor?.onStored(h, storedBytes);
    this.#rotator?.stored(h);
    if (h.closesFile) this.#purger?.fileArchived(h.file);
    this.#progress.stored(h, storedBytes, Date.now());
  }
}
