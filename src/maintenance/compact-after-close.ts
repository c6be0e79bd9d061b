import { segmentKey, type SegmentHeader } from '../catalog/index.js';
import { isPitrError, messageOf } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';
import { writeIndexQuietly } from './compact-binlog-file.js';
import { compactRepository } from './compact-repository.js';

/** Default delay between a file's close and the archiver's compaction of closed files: 10 minutes. */
export const DEFAULT_COMPACT_AFTER_MS = 10 * 60 * 1000;

/** Options of CompactAfterClose. */
export interface CompactAfterCloseOptions {
  store: ObjectStore;
  logger: Logger;
  /**
   * Compact the closed files of the repository this long after a file closes, leaving files whose
   * newest object is younger than this alone (`binlog compact --older-than`); 0: never (the file
   * index is still written at each close).
   */
  delayMs: number;
  /**
   * The archiver's lease fence: throws once the archiver may no longer write. Checked right before
   * each index put and before each compaction (a fenced archiver writes nothing).
   */
  fence?: () => void;
}

/**
 * The archiver's writer-side upkeep of the catalog (an `ArchiveOptions.afterStore` listener, wired by the CLI) (docs/archive-layout.md, "The file index" and
 * "Compaction"): fed every stored segment, it writes a file's index as soon as the segment that
 * closes the file (ROTATE/STOP) is stored, from the headers the archiver itself wrote (objects it
 * did not write in this run, e.g. before a restart, have their header read), and, `delayMs` after a
 * close, runs `compactRepository` over the closed files older than `delayMs`. Both run in the
 * background and never fail the archiver: the index only saves readers header reads, and a
 * compaction that fails or finds `locks/compact.json` held (a scheduled `binlog compact`) is
 * retried after the next close. Compaction never writes the file the archiver appends to
 * (closedBinlogFiles), so it needs no lock against the archiver.
 */
export class CompactAfterClose {
  readonly #o: CompactAfterCloseOptions;
  /** Headers of the objects stored for the current file in this run, by key, with their stored size. */
  #known = new Map<string, { size: number; header: SegmentHeader }>();
  #file: string | undefined;
  readonly #running = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  #compacting = false;
  #again = false;
  /** Set when the repository refused a write or delete: compaction is left to `binlog compact`. */
  #denied = false;
  readonly #stop = new AbortController();

  constructor(opts: CompactAfterCloseOptions) {
    this.#o = opts;
  }

  /** A segment was stored (`storedBytes`: the object's size). Never throws. */
  onStored(header: SegmentHeader, storedBytes: number): void {
    if (this.#stop.signal.aborted) return;
    const file = `${header.timeline}/${header.file}`;
    if (file !== this.#file) {
      this.#known = new Map();
      this.#file = file;
    }
    this.#known.set(segmentKey(header.timeline, header.file, header.start), { size: storedBytes, header });
    if (!header.closesFile) return;
    const known = this.#known;
    this.#known = new Map();
    this.#track(
      writeIndexQuietly(this.#o.store, header.timeline, header.file, known, this.#o.logger, this.#o.fence),
    );
    this.#schedule();
  }

  /** Stops: cancels a pending compaction, interrupts a running one and waits for what runs. */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stop.abort();
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch(() => undefined).finally(() => this.#running.delete(q));
    this.#running.add(q);
  }

  #schedule(): void {
    if (this.#o.delayMs <= 0 || this.#denied || this.#stop.signal.aborted) return;
    if (this.#compacting) {
      this.#again = true;
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#track(this.#compact());
    }, this.#o.delayMs);
    this.#timer.unref();
  }

  async #compact(): Promise<void> {
    const log = this.#o.logger;
    this.#compacting = true;
    try {
      this.#o.fence?.();
      const r = await compactRepository(this.#o.store, {
        olderThanMs: this.#o.delayMs,
        logger: log,
        signal: this.#stop.signal,
      });
      if (r.files.length > 0 || r.indexesWritten > 0 || r.orphanIndexesDeleted > 0) {
        log.info('closed binlog files compacted', {
          files: r.files.length,
          objectsBefore: r.objectsBefore,
          objectsAfter: r.objectsAfter,
          indexesWritten: r.indexesWritten,
          orphanIndexesDeleted: r.orphanIndexesDeleted,
        });
      }
    } catch (err) {
      if (this.#stop.signal.aborted) return;
      if (isPitrError(err, 'STORAGE_ACCESS_DENIED')) {
        this.#denied = true;
        log.warn(
          'compaction of closed binlog files stopped for this run: the repository refuses it (no delete ' +
            'permission?). Run `mysql-pitr binlog compact` (or its scheduled job) with a role that may delete, ' +
            'and start the archiver with --compact-after 0',
          { error: messageOf(err) },
        );
      } else if (isPitrError(err, 'LEASE_HELD')) {
        log.info('compaction skipped: another compaction is running (it does the same job)', {
          error: messageOf(err),
        });
      } else {
        log.warn('compaction of closed binlog files failed; it is tried again after the next file closes', {
          error: messageOf(err),
        });
      }
    } finally {
      this.#compacting = false;
      if (this.#again) {
        this.#again = false;
        this.#schedule();
      }
    }
  }
}
