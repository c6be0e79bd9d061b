import type { SegmentHeader } from '../catalog/index.js';
import { formatArchiveMetrics } from './archive-metrics.js';

/** The last durable position of the archive. */
export interface DurablePosition {
  timeline: string;
  file: string;
  end: number;
  closesFile: boolean;
  nextFile: string | undefined;
}

/** Options of {@link ArchiveProgress}. */
export interface ArchiveProgressOptions {
  /** Receives one Embedded Metric Format JSON line per stored segment (and the idle lines). */
  metrics?: (line: string) => void;
  /** The `Cluster` dimension of every line. */
  cluster?: string;
  /** Least time between two idle lines (ArchiveLagSeconds 0), ms (default 60 000). */
  idleMetricsIntervalMs?: number;
}

/**
 * What is durable, counted, and reported as metrics: told of every stored segment, it moves the
 * durable position, counts segments and bytes, and writes the segment's metric line (lag, bytes,
 * stored bytes); told that the source is idle with everything durable, it writes lag 0 at most
 * once per `idleMetricsIntervalMs`. The clock is passed in (`now`, ms since the epoch).
 */
export class ArchiveProgress {
  readonly #o: ArchiveProgressOptions;
  #durable: DurablePosition | undefined;
  #segments = 0;
  #bytes = 0;
  #lastMetricsAt = 0;

  constructor(opts: ArchiveProgressOptions = {}) {
    this.#o = opts;
  }

  /** The last durable position (undefined before the first segment or a resume). */
  get durable(): DurablePosition | undefined {
    return this.#durable;
  }

  /** Segments stored by this archiver. */
  get segments(): number {
    return this.#segments;
  }

  /** Uncompressed bytes stored by this archiver. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The session resumes after what the repository holds (nothing stored by this run yet). */
  resumedAt(durable: DurablePosition): void {
    this.#durable = durable;
  }

  /** A new timeline starts: nothing of it is durable yet. */
  newTimeline(): void {
    this.#durable = undefined;
  }

  /** A segment was stored (`storedBytes`: the object's size) at `now`. */
  stored(h: SegmentHeader, storedBytes: number, now: number): void {
    this.#durable = {
      timeline: h.timeline,
      file: h.file,
      end: h.end,
      closesFile: h.closesFile,
      nextFile: h.nextFile,
    };
    this.#segments += 1;
    this.#bytes += h.end - h.start;
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

  /** The source is idle and everything received is durable: lag 0, at most once per interval. */
  idle(now: number): void {
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
}
