import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

import { FramedEventReader } from '../binlog/index.js';
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
  connectMysql,
  openBinlogStream,
  readSourceFacts,
  type BinlogCoordinates,
  type BinlogStream,
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
import { FlushPolicy, type FlushReason } from './flush-policy.js';
import { Lease, LeaseHeldError } from './lease.js';
import { SegmentBuilder, type CutSegment } from './segment-builder.js';
import { segmentBodies } from './segment-encoder.js';
import { SegmentUploader } from './segment-uploader.js';
import { SegmentConflictError } from './segment-conflict-error.js';

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
/** Events between two looks at the young generation's size (see YoungGenerationSizer). */
const YOUNG_GENERATION_CHECK_EVENTS = 4096;
/**
 * Received events waiting for the archiver before the socket pauses (BinlogStream's high-water
 * mark). Small: in a catch-up the queue is always full, and with small OLTP events 4 MiB is 30 000
 * live objects that every young-generation GC copies (and then promotes); the kernel's socket
 * buffer keeps the source busy while the queue drains.
 */
const STREAM_HIGH_WATER_MARK = 512 * 1024;

/** Options of archiveBinlogs. */
export interface ArchiveOptions {
  /** How to reach the source (a user with REPLICATION SLAVE and BINLOG MONITOR / REPLICATION CLIENT). */
  source: MysqlConnectionOptions;
  /** The source as printed in records and logs (`mysql://repl@db1:3306`, never a password). */
  sourceAddress: string;
  store: ObjectStore;
  /** server_id to register as replica (must be unique among the source's replicas). */
  serverId?: number;
  /** Default 1000 ms. */
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
  return await new BinlogArchiver(opts).run();
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
 * bin/mysql-pitr.js freezes the new space before the modules load (loading them grows it first).
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

  constructor(opts: ArchiveOptions) {
    this.#o = opts;
    this.#log = opts.logger ?? silentLogger;
    this.#store = opts.store;
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
              `the source ${o.sourceAddress} refuses to send ${(err as BinlogUnavailableError).file} from position ` +
                `${(err as BinlogUnavailableError).position} although it lists the file (5 attempts): the archived ` +
                'position is not an event boundary of its file, so its binlog is not the archived history. Check ' +
                'the source; if it was rebuilt, move the repository aside or archive it into a new one',
              { cause: err },
            );
          }
          this.#log.warn(`binlog stream from ${o.sourceAddress} failed; reconnecting in ${delay} ms`, {
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
              `the source ${o.sourceAddress} stopped sending before ${this.#target?.file}:${this.#target?.position} ` +
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
      await this.#purging;
      o.signal?.removeEventListener('abort', onAbort);
      await lease.release();
    }
  }

  /** One connection: plan, stream, flush. Returns true when caught up with the target. */
  async #session(): Promise<boolean> {
    const o = this.#o;
    const facts = await this.#readSource();
    if (o.untilCaughtUp && !this.#target) {
      if (!facts.current) {
        throw new PitrError(
          'MYSQL_PREREQUISITE',
          `--until-caught-up needs SHOW MASTER STATUS on ${o.sourceAddress}; grant the user BINLOG MONITOR ` +
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

    const stream = await openBinlogStream({
      ...o.source,
      file: plan.file,
      position: plan.position,
      serverId: o.serverId,
      nonBlocking: o.untilCaughtUp ?? false,
      heartbeatPeriodMs: o.heartbeatPeriodMs ?? 30_000,
      highWaterMarkBytes: STREAM_HIGH_WATER_MARK,
      logger: this.#log,
    });
    this.#log.info('streaming binlogs', { timeline, file: plan.file, position: plan.position });
    await this.#consume(stream, timeline, plan.file, plan.position);
    return o.untilCaughtUp ? this.#caughtUp() : false;
  }

  async #readSource(): Promise<SourceFacts> {
    const o = this.#o;
    const conn = await connectMysql(o.source);
    try {
      const facts = await readSourceFacts(conn, o.sourceAddress);
      if (!facts.logBin) {
        throw new MysqlPrerequisiteError(
          'log_bin',
          'OFF',
          `the source ${o.sourceAddress} has the binary log off: nothing to archive. Enable log_bin and restart it`,
        );
      }
      if (!facts.binaryLogs || facts.binaryLogs.length === 0) {
        throw new PitrError(
          'MYSQL_PREREQUISITE',
          `the archiver cannot run SHOW BINARY LOGS on ${o.sourceAddress}; grant the user BINLOG MONITOR (MariaDB) ` +
            'or REPLICATION CLIENT (MySQL) so it can resume exactly and detect purged files',
        );
      }
      return facts;
    } finally {
      await conn.end().catch(() => undefined);
    }
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
    let lastKey: { key: string; file: string; start: number } | undefined;
    for await (const obj of this.#store.list(timelineSegmentsPrefix(newestId))) {
      const parts = parseSegmentKey(obj.key);
      if (parts && (!lastKey || compareSegments(parts, lastKey) > 0)) lastKey = { key: obj.key, ...parts };
    }
    const last = lastKey ? (await readSegmentHeader(this.#store, lastKey.key)).header : undefined;
    return { timelineIds: ids, newest: { id: newestId, record }, ...(last ? { last } : {}) };
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
    const o = this.#o;
    if (plan.kind === 'new-timeline') {
      this.#fence('start a timeline');
      const record: TimelineRecord = {
        format: TIMELINE_FORMAT,
        timeline: plan.timeline,
        createdAt: new Date().toISOString(),
        source: { ...identityOf(facts), version: facts.version, address: o.sourceAddress },
        firstFile: plan.file,
        ...(plan.parent ? { parent: plan.parent } : {}),
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
              reason: `the source ${o.sourceAddress} no longer has ${gap.file} (purged before it was archived)`,
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
    const t = this.#target;
    const d = this.#durable;
    if (!t || !d) return false;
    const cmp = compareBinlogFiles(d.file, t.file);
    if (cmp > 0) return true;
    if (cmp === 0) return d.end >= t.position;
    // the durable file closed, and the target is the file after it at its first event
    return d.closesFile && d.nextFile === t.file && t.position <= 4;
  }

  async #consume(stream: BinlogStream, timeline: string, file: string, position: number): Promise<void> {
    const o = this.#o;
    // segments are hashed and compressed as the events arrive (on a libzstd worker thread)
    const pool = new BufferPool(OUT_BUFFER_SIZE, POOL_MAX_FREE);
    const builder = new SegmentBuilder(timeline, { body: segmentBodies(o.compressionLevel, { pool }) });
    const policy = new FlushPolicy({ flushIntervalMs: o.flushIntervalMs, segmentSize: o.segmentSize });
    // An open transaction after complete ones is held raw (it may go to the next segment): past this
    // size, cut the complete ones, so a large transaction is compressed as it arrives instead.
    const heldMax = Math.min(HELD_MAX, policy.segmentSize);
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
    // The stream framed each event, counted its position and verified its CRC32: wrap the events
    // as they are (bodies decode lazily: the builder looks only at GTID and terminating events).
    const reader = new FramedEventReader({
      object: `binlog stream from ${o.sourceAddress}`,
      checksumAlgorithm: stream.source.binlogChecksum === 'CRC32' ? 'CRC32' : 'OFF',
    });
    let timer: NodeJS.Timeout | undefined;
    const flush = (reason: FlushReason): void => {
      if (reason === 'size') {
        // complete transactions first; then split a transaction that alone fills a segment
        if (builder.hasComplete) uploader.enqueue(builder.cut('complete')!, reason);
        while (builder.bufferedBytes >= policy.segmentSize) {
          const part = builder.cut('all');
          if (!part) break;
          uploader.enqueue(part, reason);
        }
      } else {
        const seg = builder.cut(reason === 'rotate' ? 'all' : 'complete');
        if (seg) uploader.enqueue(seg, reason);
      }
      policy.flushed();
    };
    const arm = (): void => {
      const due = policy.dueAt;
      if (due === undefined || timer) return;
      timer = setTimeout(
        () => {
          timer = undefined;
          if (policy.decide(Date.now(), { bufferedBytes: builder.bufferedBytes }) === 'interval')
            flush('interval');
          arm();
        },
        Math.max(0, due - Date.now()),
      );
    };
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
          if (builder.file === undefined) builder.startFile(file, position);
          const { transaction, closesFile } = builder.add(reader.read(item.buffer, item.position, true));
          const now = Date.now();
          if (transaction) policy.transactionEnded(now);
          const reason = policy.decide(now, { bufferedBytes: builder.bufferedBytes, rotated: closesFile });
          if (reason) flush(reason);
          else if (builder.heldBytes >= heldMax && builder.hasComplete) flush('size');
          arm();
          // an await per event would cost more than the rest of the loop: wait only when full
          if (uploader.full) await uploader.room();
        } else if (kind === 'heartbeat') {
          if (!builder.hasEvents && uploader.pending === 0) this.#idleMetrics();
        } else if (kind === 'format-description-resend') {
          // not in the file, but it says how the events after it are decoded
          reader.read(item.buffer, item.position, false);
        } else if (builder.file !== item.file || builder.fileClosed) {
          // 'rotate-artificial' announcing another file. A file that ended without ROTATE (the
          // source crashed): keep its bytes as they are
          if (builder.hasEvents) flush('rotate');
          builder.startFile(item.file, item.position);
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
    if (!uploader.failed) {
      const seg = builder.cut('complete');
      if (seg) uploader.enqueue(seg, 'end');
    }
    await uploader.drain();
    if (failure) throw failure;
  }

  /** Runs FLUSH BINARY LOGS every `ms` while transactions were archived since the last rotation. */
  #startRotating(ms: number): NodeJS.Timeout {
    const o = this.#o;
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.#trxSinceRotation === 0 || this.#stop.signal.aborted) return;
      busy = true;
      void (async () => {
        try {
          const conn = await connectMysql(o.source);
          try {
            await conn.query('FLUSH BINARY LOGS');
            this.#trxSinceRotation = 0;
            this.#log.debug('rotated the source binlog (--rotate-interval)');
          } finally {
            await conn.end().catch(() => undefined);
          }
        } catch (err) {
          this.#log.warn(
            `could not run FLUSH BINARY LOGS on ${o.sourceAddress} for --rotate-interval; grant the user RELOAD ` +
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
    const o = this.#o;
    this.#purging = this.#purging.then(async () => {
      try {
        const conn = await connectMysql(o.source);
        try {
          // the file to purge to must exist, or the source refuses (and it never purges the active file)
          await conn.query('PURGE BINARY LOGS TO ?', [to]);
          this.#log.info(`purged source binlogs before ${to} (archived; --purge-source)`, { to });
        } finally {
          await conn.end().catch(() => undefined);
        }
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

function sourceState(facts: SourceFacts): SourceState {
  return {
    identity: identityOf(facts),
    binaryLogs: facts.binaryLogs ?? [],
    ...(facts.flavor === 'mariadb' ? { gtidBinlogPos: facts.gtidBinlogPos ?? '' } : {}),
    ...(facts.flavor === 'mysql' && facts.gtidMode === 'ON'
      ? { gtidExecuted: facts.gtidExecuted ?? '' }
      : {}),
  };
}
