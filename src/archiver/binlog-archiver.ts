import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { hostname } from 'node:os';

import { MariadbGtidPos, parseMariadbGtid } from '../gtid/index.js';
import {
  BINLOGS_PREFIX,
  GAPS_PREFIX,
  TIMELINES_PREFIX,
  binlogFileAfter,
  isTimelineId,
  compareBinlogFiles,
  isBinlogFileName,
  parseBinlogFileName,
  gapKey,
  parseSegmentKey,
  parseTimelineKey,
  parseTimelineRecord,
  readSegmentHeader,
  serializeBinlogGap,
  serializeTimelineRecord,
  timelineKey,
  timelineSegmentsPrefix,
  compareSegments,
  TIMELINE_FORMAT,
  type SegmentHeader,
  type SourceIdentity,
  type TimelineRecord,
} from '../catalog/index.js';
import { PitrError, isPitrError, messageOf } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import {
  BinlogUnavailableError,
  MysqlPrerequisiteError,
  MysqlServerError,
  type BinlogCoordinates,
  type MysqlConnectionOptions,
  type SourceFacts,
} from '../mysql/index.js';
import { BufferPool } from '../codec/index.js';
import { ObjectNotFoundError, PreconditionFailedError, type ObjectStore } from '../storage/index.js';
import { formatArchiveMetrics } from './archive-metrics.js';
import {
  planArchiveStart,
  type ArchiveStartPlan,
  type RepositoryState,
  type SourceState,
} from './archive-start-plan.js';
import { ArchiveCore, isCaughtUp, type SegmentCut } from './archive-core.js';
import { Lease, LeaseHeldError } from './lease.js';
import type { CutSegment } from './segment-builder.js';
import { segmentBodies } from './segment-encoder.js';
import { SegmentUploader } from './segment-uploader.js';
import { SegmentConflictError } from './segment-conflict-error.js';
import { MysqlSourcePort, type SourceCandidate } from './mysql-source-port.js';
import type { SourceDump, SourcePort, SourceSnapshot } from './source-port.js';

export type { SourceCandidate } from './mysql-source-port.js';

/** Raw bytes of an open transaction held behind complete ones before those are cut (see #consume). */
const HELD_MAX = 4 * 1024 * 1024;
/** Compressed output buffers: one size, reused once their segment is stored. */
const OUT_BUFFER_SIZE = 256 * 1024;
const POOL_MAX_FREE = 128; // 32 MiB
/**
 * Compressed bytes waiting for storage before the stream waits, below maxPendingSegments: small
 * (interval) segments still overlap their uploads; a large one is stored before the next grows.
 */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** libzstd worker threads with `untilCaughtUp` (a backlog, bound by compression). */
const CATCH_UP_ZSTD_WORKERS = 2;
/** Events between two looks at the young generation's size (see YoungGenerationSizer). */
const YOUNG_GENERATION_CHECK_EVENTS = 4096;

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

/** Durable position. */
interface Durable {
  timeline: string;
  file: string;
  end: number;
  closesFile: boolean;
  nextFile: string | undefined;
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
 * Sizes V8's young generation (new space: two semi-spaces) for the events being archived. By
 * default V8 grows it to 32 MiB during a catch-up and keeps it. That costs memory twice: the space
 * itself, and the socket reads it keeps alive, because a Buffer's memory is freed only when a GC
 * finds its (dead) JavaScript object: with large row events the archiver allocates few objects per
 * MiB received, so a large young generation is collected rarely while tens of MiB of spent socket
 * reads wait for it. Small OLTP events are the opposite: many objects per MiB, and a small young
 * generation means a GC every few thousand events (per GiB of OLTP binlogs, 1 MiB semi-spaces
 * cost about 1.4 s of GC, 4 MiB ones 0.7 s, V8's 16 MiB 0.4 s). So: frozen at its initial size
 * while the events are large, allowed to grow to `maxBytes` (8 MiB) while they are small.
 *
 * V8 reads `--semi-space-growth-factor` whenever it considers growing, so setting it at run time
 * works (`--max-semi-space-size` is read only when the heap is configured, before our code runs).
 * src/cli/heap-tuning.ts (the first module of the CLI) freezes the new space before the other
 * modules load (loading them grows it first).
 * bench/README.md (archive) has the figures.
 */
class YoungGenerationSizer {
  #growing = false;

  constructor(
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly smallEventBytes = 1024,
  ) {
    setFlagsFromString('--semi-space-growth-factor=1');
  }

  /** Called every few thousand events with their average size. */
  update(bytesPerEvent: number): void {
    let grow = bytesPerEvent < this.smallEventBytes;
    if (grow) {
      const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      grow = newSpace !== undefined && newSpace.space_size < this.maxBytes;
    }
    if (grow === this.#growing) return;
    this.#growing = grow;
    setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  }
}

const isRetryableSourceError = (err: unknown): boolean => {
  if (err instanceof BinlogUnavailableError) return true; // re-plan: a purge or a new timeline
  if (err instanceof MysqlPrerequisiteError) return false;
  if (isPitrError(err, 'MYSQL_CONNECTION', 'CHECKSUM_MISMATCH')) return true;
  if (err instanceof MysqlServerError) {
    // 1053 shutdown in progress, 1040 too many connections, 1152/1159/1161 network, 4052 same server_id
    // still registered from a killed predecessor
    return [1040, 1053, 1152, 1153, 1158, 1159, 1160, 1161, 2013, 4052].includes(err.errno);
  }
  return !(err instanceof PitrError);
};

class BinlogArchiver {
  readonly #o: ArchiveOptions;
  readonly #log: Logger;
  readonly #store: ObjectStore;
  readonly #port: SourcePort;
  readonly #stop = new AbortController();
  #lostLease: LeaseHeldError | undefined;
  #lease: Lease | undefined;
  #durable: Durable | undefined;
  #segments = 0;
  #lastMetricsAt = 0;
  #bytes = 0;
  #target: BinlogCoordinates | undefined;
  /** The purge in progress (purgeSourceKeep), awaited before run() returns. */
  #purging: Promise<void> = Promise.resolve();
  /** The last file purged up to. */
  #purgedTo: string | undefined;
  /** Transactions archived since the file last rotated (for rotateIntervalMs). */
  #trxSinceRotation = 0;
  readonly #youngGeneration = new YoungGenerationSizer();
  /** Writes each closed file's index and compacts closed files in the background. */
  readonly #compactor: StoredSegmentListener | undefined;

  constructor(opts: ArchiveOptions, port: SourcePort) {
    this.#o = opts;
    this.#port = port;
    this.#log = opts.logger ?? silentLogger;
    this.#store = opts.store;
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
    const rotator =
      o.rotateIntervalMs && !o.untilCaughtUp ? this.#startRotating(o.rotateIntervalMs) : undefined;
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
        const before = this.#bytes;
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
          if (!isRetryableSourceError(err)) throw err;
          unavailable = err instanceof BinlogUnavailableError && this.#bytes === before ? unavailable + 1 : 0;
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
          idleSessions = this.#bytes === before ? idleSessions + 1 : 0;
          if (idleSessions >= 5) {
            throw new PitrError(
              'INTERNAL',
              `the source ${this.#port.address} stopped sending before ${this.#target?.file}:${this.#target?.position} ` +
                `(archived up to ${this.#durable?.file}:${this.#durable?.end}); run the archiver again, and report this if it repeats`,
            );
          }
        }
      }
      if (this.#lostLease) throw this.#lostLease;
      return {
        timeline: this.#durable?.timeline,
        file: this.#durable?.file,
        position: this.#durable?.end,
        segments: this.#segments,
        bytes: this.#bytes,
        target: this.#target,
        stopped: this.#stop.signal.aborted,
      };
    } finally {
      if (rotator) clearInterval(rotator);
      await this.#compactor?.close();
      await this.#purging;
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
    const repo = await this.#readRepository();
    const plan = planArchiveStart(repo, sourceState(facts));
    const timeline = await this.#applyPlan(plan, facts);
    if (plan.kind === 'resume' && repo.last && repo.last.timeline === timeline && !this.#durable) {
      const l = repo.last;
      this.#durable = { timeline, file: l.file, end: l.end, closesFile: l.closesFile, nextFile: l.nextFile };
    }
    if (o.untilCaughtUp && this.#caughtUp()) return true;

    const dump = await this.#port.open({ file: plan.file, position: plan.position });
    this.#log.info('streaming binlogs', { timeline, file: plan.file, position: plan.position });
    try {
      await this.#consume(dump, timeline, plan.file, plan.position);
    } finally {
      dump.release();
    }
    return o.untilCaughtUp ? this.#caughtUp() : false;
  }

  async #readRepository(): Promise<RepositoryState> {
    // every prefix that holds timeline ids: a timeline whose record was lost still has segments
    // (or gaps), and a new timeline must never take its id (it would write into its keys)
    const found = new Set<string>();
    for await (const obj of this.#store.list(TIMELINES_PREFIX)) {
      const id = parseTimelineKey(obj.key);
      if (id) found.add(id);
    }
    for (const prefix of [BINLOGS_PREFIX, GAPS_PREFIX]) {
      for (const id of await timelineIdsUnder(this.#store, prefix)) found.add(id);
    }
    const ids = [...found];
    const newestId = ids.sort().at(-1);
    if (!newestId) return { timelineIds: ids };
    let record: TimelineRecord | undefined;
    try {
      record = parseTimelineRecord(
        (await this.#store.get(timelineKey(newestId))).toString('utf8'),
        timelineKey(newestId),
      );
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
    }
    const keys: { key: string; file: string; start: number }[] = [];
    for await (const obj of this.#store.list(timelineSegmentsPrefix(newestId))) {
      const parts = parseSegmentKey(obj.key);
      if (parts) keys.push({ key: obj.key, ...parts });
    }
    keys.sort(compareSegments);
    const lastKey = keys.at(-1);
    const last = lastKey ? (await readSegmentHeader(this.#store, lastKey.key)).header : undefined;
    // MariaDB: the last archived GTID per domain, from the last segments that end transactions
    let archived = MariadbGtidPos.EMPTY;
    for (let i = keys.length - 1, n = 0; i >= 0 && n < ARCHIVED_GTID_LOOKBACK; i--, n++) {
      const h = i === keys.length - 1 ? last! : (await readSegmentHeader(this.#store, keys[i]!.key)).header;
      for (const [domain, range] of Object.entries(h.gtids)) {
        if (archived.get(Number(domain)) === undefined)
          archived = archived.advance(parseMariadbGtid(range.last));
      }
      if (!archived.isEmpty) break;
    }
    return {
      timelineIds: ids,
      newest: { id: newestId, record },
      ...(last ? { last } : {}),
      ...(archived.isEmpty ? {} : { archivedGtidPos: archived.toString() }),
    };
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

  async #applyPlan(plan: ArchiveStartPlan, facts: SourceFacts): Promise<string> {
    if (plan.kind === 'new-timeline') {
      this.#fence('start a timeline');
      const record: TimelineRecord = {
        format: TIMELINE_FORMAT,
        timeline: plan.timeline,
        createdAt: new Date().toISOString(),
        source: { ...identityOf(facts), version: facts.version, address: this.#port.address },
        firstFile: plan.file,
        ...(plan.parent ? { parent: plan.parent } : {}),
        ...(plan.forkGtid ? { forkGtid: plan.forkGtid } : {}),
        startedBy: `archiver on ${hostname()} pid ${process.pid}`,
        reason: plan.reason,
      };
      await this.#store.put(timelineKey(plan.timeline), Buffer.from(serializeTimelineRecord(record)), {
        ifAbsent: true,
        contentType: 'application/json',
      });
      const log = plan.parent ? this.#log.warn.bind(this.#log) : this.#log.info.bind(this.#log);
      log(`starting timeline ${plan.timeline}: ${plan.reason}`, {
        timeline: plan.timeline,
        file: plan.file,
        parent: plan.parent,
        forkGtid: plan.forkGtid,
      });
      this.#durable = undefined;
      return plan.timeline;
    }
    for (const gap of plan.gaps) {
      this.#fence('record a gap');
      await this.#store
        .put(
          gapKey(plan.timeline, gap.file),
          Buffer.from(
            serializeBinlogGap({
              timeline: plan.timeline,
              file: gap.file,
              from: gap.from,
              resumedAt: plan.file,
              detectedAt: new Date().toISOString(),
              reason: `the source ${this.#port.address} no longer has ${gap.file} (purged before it was archived)`,
            }),
          ),
          { contentType: 'application/json', ifAbsent: true },
        )
        .catch((err: unknown) => {
          // recorded by an earlier run: the first record stays
          if (!(err instanceof PreconditionFailedError)) throw err;
        });
      this.#log.error(
        `binlog gap on timeline ${plan.timeline}: ${gap.file} from offset ${gap.from} was purged on the source before ` +
          'it was archived. Point-in-time restores cannot cross this gap: take a new full backup now',
        { timeline: plan.timeline, file: gap.file, from: gap.from },
      );
    }
    this.#log.debug('resume plan', { timeline: plan.timeline, detail: plan.detail });
    return plan.timeline;
  }

  #caughtUp(): boolean {
    return isCaughtUp({ target: this.#target, durable: this.#durable });
  }

  async #consume(dump: SourceDump, timeline: string, file: string, position: number): Promise<void> {
    const o = this.#o;
    // segments are hashed and compressed as the events arrive (on a libzstd worker thread)
    const pool = new BufferPool(OUT_BUFFER_SIZE, POOL_MAX_FREE);
    // A catch-up is bound by compression (zstd -1 runs at about 200-250 MiB/s per core here): give
    // libzstd both cores, as the `zstd -1 -T2` reference has. Following a source needs one.
    const workers = o.untilCaughtUp ? CATCH_UP_ZSTD_WORKERS : 1;
    // The stream framed each event, counted its position and verified its CRC32: the core wraps the
    // events as they are (bodies decode lazily: the builder looks only at GTID and terminating
    // events) and decides where segments end and when they are stored.
    const core = new ArchiveCore({
      timeline,
      file,
      position,
      checksumAlgorithm: dump.checksumAlgorithm,
      object: `binlog stream from ${this.#port.address}`,
      body: segmentBodies(o.compressionLevel, { pool, workers }),
      flushIntervalMs: o.flushIntervalMs,
      segmentSize: o.segmentSize,
      heldMax: HELD_MAX,
    });
    const uploader = new SegmentUploader({
      store: this.#store,
      level: o.compressionLevel,
      maxPending: o.maxPendingSegments ?? 2,
      maxPendingBytes: MAX_PENDING_BYTES,
      recycle: (parts) => pool.give(parts),
      logger: this.#log,
      abandon: () => this.#lostLease !== undefined,
      fence: () => this.#fence('store a segment'),
      leaseEpoch: this.#lease?.epoch,
      ...(o.storageRetryDelayMs ? { retryDelayMs: o.storageRetryDelayMs } : {}),
      onStored: (seg, stored) => this.#onStored(seg, stored),
    });
    const store = (cuts: readonly SegmentCut[]): void => {
      for (const c of cuts) uploader.enqueue(c.segment, c.reason);
    };
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const due = core.dueAt;
      if (due === undefined || timer) return;
      timer = setTimeout(
        () => {
          timer = undefined;
          store(core.timer(Date.now()));
          arm();
        },
        Math.max(0, due - Date.now()),
      );
    };
    const stream = dump.items;
    const onStop = (): void => void stream.close();
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    if (this.#stop.signal.aborted) onStop();
    let failure: unknown;
    // events and bytes since the young generation was last sized
    let windowEvents = 0;
    let windowBytes = 0;
    try {
      for (;;) {
        // take what is already received without a promise per event; await only when empty
        let item = stream.poll();
        if (!item) {
          // nothing more received: store what is complete now rather than at the timer (at most
          // one flush per interval, see FlushPolicy)
          const cuts = core.idle(Date.now());
          if (cuts.length > 0) {
            store(cuts);
            if (uploader.full) await uploader.room();
          }
          const r = await stream.next();
          if (r.done) break;
          item = r.value;
        }
        uploader.throwIfFailed();
        const kind = item.kind;
        if (kind === 'event') {
          windowBytes += item.buffer.length;
          if (++windowEvents === YOUNG_GENERATION_CHECK_EVENTS) {
            this.#youngGeneration.update(windowBytes / windowEvents);
            windowBytes = 0;
            windowEvents = 0;
          }
          const cuts = core.event(item.buffer, item.position, Date.now());
          if (cuts.length > 0) store(cuts);
          arm();
          // an await per event would cost more than the rest of the loop: wait only when full
          if (uploader.full) await uploader.room();
        } else if (kind === 'heartbeat') {
          if (!core.hasEvents && uploader.pending === 0) this.#idleMetrics();
        } else if (kind === 'format-description-resend') {
          core.formatDescriptionResend(item.buffer, item.position);
        } else {
          // 'rotate-artificial' announcing a file
          store(core.fileAnnounced(item.file, item.position, Date.now()));
        }
      }
    } catch (err) {
      failure = err;
    } finally {
      if (timer) clearTimeout(timer);
      this.#stop.signal.removeEventListener('abort', onStop);
      await stream.close();
    }
    // What is complete is worth keeping whatever happened to the stream; an open transaction is
    // dropped and streamed again on the next connection.
    if (!uploader.failed) store(core.end());
    await uploader.drain();
    if (failure) throw failure;
  }

  /** Runs FLUSH BINARY LOGS every `ms` while transactions were archived since the last rotation. */
  #startRotating(ms: number): NodeJS.Timeout {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.#trxSinceRotation === 0 || this.#stop.signal.aborted) return;
      busy = true;
      void (async () => {
        try {
          await this.#port.execute('FLUSH BINARY LOGS');
          this.#trxSinceRotation = 0;
          this.#log.debug('rotated the source binlog (--rotate-interval)');
        } catch (err) {
          this.#log.warn(
            `could not run FLUSH BINARY LOGS on ${this.#port.address} for --rotate-interval; grant the user RELOAD ` +
              '(or BINLOG ADMIN on MariaDB), or drop --rotate-interval',
            { error: messageOf(err) },
          );
        } finally {
          busy = false;
        }
      })();
    }, ms);
    timer.unref();
    return timer;
  }

  /**
   * `file` is archived to its end (its closing segment is stored): purge the source's files before
   * the `purgeSourceKeep` most recent archived ones. Runs after the previous purge; errors are logged.
   */
  #purgeUpTo(file: string): void {
    const keep = Math.max(0, this.#o.purgeSourceKeep ?? 0);
    if (!isBinlogFileName(file)) return;
    const { sequence } = parseBinlogFileName(file);
    // PURGE ... TO 'x' removes the files before x: keep `keep` files ending with `file`
    if (sequence + 1 - keep < 1) return;
    const to = binlogFileAfter(file, 1 - keep);
    if (this.#purgedTo !== undefined && compareBinlogFiles(to, this.#purgedTo) <= 0) return;
    this.#purgedTo = to;
    this.#purging = this.#purging.then(async () => {
      try {
        // the file to purge to must exist, or the source refuses (and it never purges the active file)
        await this.#port.execute('PURGE BINARY LOGS TO ?', [to]);
        this.#log.info(`purged source binlogs before ${to} (archived; --purge-source)`, { to });
      } catch (err) {
        this.#log.warn(
          `could not purge the source's binlogs before ${to}; grant the user BINLOG ADMIN (MariaDB) or ` +
            'SUPER / BINLOG_ADMIN (MySQL), or drop --purge-source',
          { error: messageOf(err) },
        );
      }
    });
  }

  /** Lag 0 for an idle, caught-up archiver, at most once per idleMetricsIntervalMs. */
  #idleMetrics(): void {
    const now = Date.now();
    if (!this.#durable || now - this.#lastMetricsAt < (this.#o.idleMetricsIntervalMs ?? 60_000)) return;
    this.#lastMetricsAt = now;
    this.#o.metrics?.(
      formatArchiveMetrics({
        cluster: this.#o.cluster,
        timeline: this.#durable.timeline,
        lagSeconds: 0,
        bytes: 0,
        storedBytes: 0,
        segments: 0,
        time: now,
        file: this.#durable.file,
        end: this.#durable.end,
      }),
    );
  }

  #onStored(seg: CutSegment, storedBytes: number): void {
    const h: SegmentHeader = seg.header;
    this.#compactor?.onStored(h, storedBytes);
    this.#trxSinceRotation = h.closesFile ? 0 : this.#trxSinceRotation + h.transactions;
    if (h.closesFile && this.#o.purgeSourceKeep !== undefined) this.#purgeUpTo(h.file);
    this.#durable = {
      timeline: h.timeline,
      file: h.file,
      end: h.end,
      closesFile: h.closesFile,
      nextFile: h.nextFile,
    };
    this.#segments += 1;
    this.#bytes += h.end - h.start;
    const now = Date.now();
    this.#lastMetricsAt = now;
    this.#o.metrics?.(
      formatArchiveMetrics({
        cluster: this.#o.cluster,
        timeline: h.timeline,
        lagSeconds: h.lastCommit ? Math.max(0, (now - Date.parse(h.lastCommit)) / 1000) : undefined,
        bytes: h.end - h.start,
        storedBytes,
        segments: 1,
        time: now,
        file: h.file,
        end: h.end,
      }),
    );
  }
}

/**
 * The timeline ids that have objects under `prefix` (`binlogs/` or `gaps/`: `<prefix><id>/...`),
 * with one listing request per timeline rather than a listing of every segment: after the first
 * key of a timeline, the listing skips past its last possible key.
 */
export async function timelineIdsUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    let next: string | undefined;
    for await (const obj of store.list(prefix, startAfter ? { startAfter } : {})) {
      next = obj.key.slice(prefix.length).split('/')[0];
      break;
    }
    if (next === undefined) return ids;
    if (isTimelineId(next)) ids.push(next);
    // '~' sorts after every character of a file name or key segment ([A-Za-z0-9_.-])
    startAfter = `${prefix}${next}/~`;
  }
}

/** The identity recorded in timeline records. */
export function identityOf(facts: SourceFacts): SourceIdentity {
  return facts.flavor === 'mariadb'
    ? { flavor: 'mariadb', serverId: facts.serverId, gtidDomainId: facts.gtidDomainId ?? 0 }
    : {
        flavor: 'mysql',
        serverId: facts.serverId,
        ...(facts.serverUuid ? { serverUuid: facts.serverUuid } : {}),
      };
}

function sourceState(facts: SourceSnapshot): SourceState {
  return {
    identity: identityOf(facts),
    binaryLogs: facts.binaryLogs ?? [],
    ...(facts.flavor === 'mariadb' ? { gtidBinlogPos: facts.gtidBinlogPos ?? '' } : {}),
    ...(facts.gtidBinlogState !== undefined ? { gtidBinlogState: facts.gtidBinlogState } : {}),
    ...(facts.fileStartGtidPos ? { fileStartGtidPos: facts.fileStartGtidPos } : {}),
    ...(facts.flavor === 'mysql' && facts.gtidMode === 'ON'
      ? { gtidExecuted: facts.gtidExecuted ?? '' }
      : {}),
  };
}

/** Segments read back (newest first) to find the last archived GTID of every domain. */
const ARCHIVED_GTID_LOOKBACK = 20;
