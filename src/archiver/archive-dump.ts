import { BufferPool } from '../codec/index.js';
import type { Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import { ArchiveCore, type SegmentCut } from './archive-core.js';
import type { CutSegment } from './segment-builder.js';
import { segmentBodies } from './segment-encoder.js';
import { SegmentUploader } from './segment-uploader.js';
import type { SourceDump } from './source-port.js';
import type { YoungGenerationSizer } from './young-generation-sizer.js';

/** Raw bytes of an open transaction held behind complete ones before those are cut (see ArchiveCore). */
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

/** Options of {@link archiveDump}. */
export interface ArchiveDumpOptions {
  /** The timeline the segments belong to, and where the dump starts. */
  timeline: string;
  file: string;
  position: number;
  /** Names the stream in errors (`binlog stream from mysql://...`). */
  object: string;
  store: ObjectStore;
  logger: Logger;
  /** zstd level (default 1). */
  compressionLevel?: number;
  /** libzstd worker threads compressing each segment (2 in a catch-up, 1 when following). */
  workers: number;
  /** Input bytes per libzstd job (default: libzstd's, 2 MiB at level 1). */
  zstdJobSize?: number | undefined;
  flushIntervalMs?: number;
  segmentSize?: number;
  /** Segments compressed or uploading at once before the stream waits (default 2). */
  maxPendingSegments?: number;
  storageRetryDelayMs?: { initial: number; max: number };
  /** Aborting ends the dump: what is complete is stored, then archiveDump returns. */
  stop: AbortSignal;
  /** The lease fence before every store attempt (throws once the archiver may no longer write). */
  fence(): void;
  /** True once the lease is lost: pending uploads are dropped. */
  abandon(): boolean;
  /** The lease epoch recorded in every segment header. */
  leaseEpoch?: number;
  /** Told of every stored segment, in order. */
  onStored(segment: CutSegment, storedBytes: number): void;
  /** A heartbeat arrived while nothing was buffered or uploading (the source is idle, all is durable). */
  onIdle(): void;
  /** Resized for the events seen. */
  youngGeneration?: YoungGenerationSizer;
}

/**
 * Archives one dump: feeds the source port's items to the decision core (ArchiveCore) with the
 * time, stores the segments it returns in order (SegmentUploader, with back-pressure on the dump),
 * and arms the flush timer the core asks for. When the dump ends (EOF, close, an error, the stop
 * signal), what is complete is stored and every upload settles; an open transaction is dropped
 * and streamed again on the next connection.
 *
 * @throws the dump's error, or the first storage failure (SegmentConflictError, StorageError,
 *   LeaseHeldError from the fence), after what could be stored is stored
 */
export async function archiveDump(dump: SourceDump, o: ArchiveDumpOptions): Promise<void> {
  // segments are hashed and compressed as the events arrive (on a libzstd worker thread)
  const pool = new BufferPool(OUT_BUFFER_SIZE, POOL_MAX_FREE);
  // The stream framed each event, counted its position and verified its CRC32: the core wraps the
  // events as they are (bodies decode lazily: the builder looks only at GTID and terminating
  // events) and decides where segments end and when they are stored.
  const core = new ArchiveCore({
    timeline: o.timeline,
    file: o.file,
    position: o.position,
    checksumAlgorithm: dump.checksumAlgorithm,
    object: o.object,
    body: segmentBodies(o.compressionLevel, { pool, workers: o.workers, jobSize: o.zstdJobSize }),
    flushIntervalMs: o.flushIntervalMs,
    segmentSize: o.segmentSize,
    heldMax: HELD_MAX,
  });
  const uploader = new SegmentUploader({
    store: o.store,
    level: o.compressionLevel,
    maxPending: o.maxPendingSegments ?? 2,
    maxPendingBytes: MAX_PENDING_BYTES,
    recycle: (parts) => pool.give(parts),
    logger: o.logger,
    abandon: o.abandon,
    fence: o.fence,
    leaseEpoch: o.leaseEpoch,
    ...(o.storageRetryDelayMs ? { retryDelayMs: o.storageRetryDelayMs } : {}),
    onStored: o.onStored,
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
  o.stop.addEventListener('abort', onStop, { once: true });
  if (o.stop.aborted) onStop();
  let failure: unknown;
  const youngGeneration = o.youngGeneration;
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
        if (youngGeneration) {
          youngGeneration.received(item.buffer.length);
          windowBytes += item.buffer.length;
          if (++windowEvents === YOUNG_GENERATION_CHECK_EVENTS) {
            youngGeneration.update(windowBytes / windowEvents);
            windowBytes = 0;
            windowEvents = 0;
          }
        }
        const cuts = core.event(item.buffer, item.position, Date.now());
        if (cuts.length > 0) store(cuts);
        arm();
        // an await per event would cost more than the rest of the loop: wait only when full
        if (uploader.full) await uploader.room();
      } else if (kind === 'heartbeat') {
        if (!core.hasEvents && uploader.pending === 0) o.onIdle();
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
    o.stop.removeEventListener('abort', onStop);
    await stream.close();
  }
  // What is complete is worth keeping whatever happened to the stream; an open transaction is
  // dropped and streamed again on the next connection.
  if (!uploader.failed) store(core.end());
  await uploader.drain();
  if (failure) throw failure;
}
