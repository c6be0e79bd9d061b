import { DEFAULT_SEGMENT_SIZE } from './flush-policy.js';

/** libzstd worker threads in a catch-up (a backlog is bound by compression). */
export const CATCH_UP_ZSTD_WORKERS = 2;
/**
 * Input bytes per libzstd job in a catch-up: libzstd's minimum (its default at level 1 is 4 windows,
 * 2 MiB). With workers, libzstd holds the input and the output of a few jobs per worker at once;
 * at 512 KiB they take about 6 MiB less, for 0.2 % more stored bytes on the bulk backlog.
 */
export const CATCH_UP_ZSTD_JOB_SIZE = 512 * 1024;
/**
 * The largest segment of a catch-up, when `--segment-size` is larger. A segment's compressed bytes
 * stay in memory until it is stored, and a backlog cuts its segments at the size limit (following
 * a source, the flush interval cuts them long before): at 64 MiB a segment of bulk row events held
 * up to 31 MiB of compressed output, at 16 MiB about 8 MiB. Stored bytes do not change (libzstd's
 * window at level 1 is 512 KiB); the segments are 4 times as many (a put and an fsync each).
 */
export const CATCH_UP_SEGMENT_SIZE = 16 * 1024 * 1024;

/** How one dump compresses and cuts its segments (see {@link dumpTuning}). */
export interface DumpTuning {
  /** libzstd worker threads. */
  workers: number;
  /** Input bytes per libzstd job; undefined: libzstd's default. */
  zstdJobSize: number | undefined;
  /** The size at which segments are cut. */
  segmentSize: number;
}

/**
 * The compression and segment size of a dump. Following a source: 1 libzstd worker beside the
 * stream, libzstd's job size, `segmentSize` as given. In a catch-up (`untilCaughtUp`): both cores
 * to libzstd (as the `zstd -1 -T2` reference has), its smallest jobs, and segments of at most
 * {@link CATCH_UP_SEGMENT_SIZE}, which keep the peak RSS of a bulk catch-up under 128 MiB
 * (bench/README.md). Pure.
 *
 * @param o.segmentSize the configured segment size (default {@link DEFAULT_SEGMENT_SIZE})
 */
export function dumpTuning(o: { untilCaughtUp: boolean; segmentSize?: number | undefined }): DumpTuning {
  const segmentSize = o.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  if (!o.untilCaughtUp) return { workers: 1, zstdJobSize: undefined, segmentSize };
  return {
    workers: CATCH_UP_ZSTD_WORKERS,
    zstdJobSize: CATCH_UP_ZSTD_JOB_SIZE,
    segmentSize: Math.min(segmentSize, CATCH_UP_SEGMENT_SIZE),
  };
}
