import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

import {
  compareBinlogFiles,
  readBinlogCatalog,
  readVerifiedSegment,
  type CatalogTimeline,
} from '../catalog/index.js';
import { BinlogGapError, CorruptDataError, TargetOutOfRangeError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import type { ObjectStore } from '../storage/index.js';

/** Options of fetchArchivedBinlogs. */
export interface FetchBinlogsOptions {
  store: ObjectStore;
  /** Directory to write the files to (created if missing). */
  dest: string;
  /** The timeline (default: the newest). */
  timeline?: string;
  /** These files only (default: every file of the timeline). */
  files?: readonly string[];
  logger?: Logger;
}

/** One file written. */
export interface FetchedBinlog {
  file: string;
  path: string;
  size: number;
  segments: number;
  /** The archive holds the file's ROTATE/STOP: the file is complete. */
  closed: boolean;
}

/** The timeline to read: `id`, or the newest with segments. */
export function chooseTimeline(
  timelines: readonly CatalogTimeline[],
  id: string | undefined,
  store: ObjectStore,
): CatalogTimeline {
  if (id !== undefined) {
    const t = timelines.find((x) => x.id === id);
    if (!t) {
      throw new TargetOutOfRangeError(
        'unknown-timeline',
        `timeline ${id} is not in ${store.describe()}; run \`mysql-pitr binlog list\` to see the timelines there`,
        { timeline: id },
      );
    }
    return t;
  }
  const withSegments = timelines.filter((t) => t.segments.length > 0);
  const t = withSegments.at(-1);
  if (!t) {
    throw new TargetOutOfRangeError(
      'no-archive',
      `no archived binlogs in ${store.describe()}; run \`mysql-pitr archive\` against the source first`,
    );
  }
  return t;
}

/**
 * Writes archived binlog files into `dest`, byte-identical to the source's: each file is the
 * concatenation of its segments, each segment's SHA-256 and length are verified, and the file only
 * appears under its name once complete (written as `<file>.partial`, then renamed).
 *
 * @throws ChecksumMismatchError / CorruptDataError (DATA) naming the damaged object
 * @throws PitrError BINLOG_GAP when a file's segments do not join up (a range is missing)
 * @throws PitrError TARGET_OUT_OF_RANGE for an unknown timeline or file
 * @throws StorageError for storage failures
 */
export async function fetchArchivedBinlogs(opts: FetchBinlogsOptions): Promise<FetchedBinlog[]> {
  const { store, dest } = opts;
  const log = opts.logger ?? silentLogger;
  const catalog = await readBinlogCatalog(store, opts.timeline ? { timeline: opts.timeline } : {});
  const timeline = chooseTimeline(catalog.timelines, opts.timeline, store);
  const byFile = new Map<string, typeof timeline.segments>();
  for (const s of timeline.segments) {
    const list = byFile.get(s.file) ?? [];
    list.push(s);
    byFile.set(s.file, list);
  }
  const files = opts.files ? [...opts.files] : [...byFile.keys()].sort(compareBinlogFiles);
  for (const f of files) {
    if (!byFile.has(f)) {
      throw new TargetOutOfRangeError(
        'file-not-archived',
        `${f} is not archived on timeline ${timeline.id} in ${store.describe()}; run \`mysql-pitr binlog list\` to see what is`,
        { timeline: timeline.id, file: f },
      );
    }
  }
  await mkdir(dest, { recursive: true });
  const out: FetchedBinlog[] = [];
  for (const file of files) {
    const segments = byFile.get(file)!;
    const path = join(dest, file);
    const partial = `${path}.partial`;
    const sink = createWriteStream(partial);
    const opened = new Promise<void>((resolve, reject) => {
      sink.once('open', () => resolve());
      sink.once('error', reject);
    });
    await opened;
    let expected = 0;
    let closed = false;
    try {
      for (const seg of segments) {
        const { header } = await readVerifiedSegment(store, seg.key, {
          into: sink,
          end: false,
          check: (header) => {
            if (header.file !== file || header.start !== seg.start || header.timeline !== timeline.id) {
              throw new CorruptDataError(
                seg.key,
                0,
                `its header says ${header.timeline}/${header.file} @ ${header.start}, not what its key says; ` +
                  'the object was copied to the wrong key. Move it back or delete it',
              );
            }
            if (header.start !== expected) {
              throw new BinlogGapError(
                { timeline: timeline.id, file, from: expected, to: header.start },
                `timeline ${timeline.id} ${file}: bytes ${expected}..${header.start} are not in ${store.describe()} ` +
                  `(the next segment ${seg.key} starts at ${header.start}). The file cannot be rebuilt; a restore ` +
                  'cannot cross this point. Fetch the file from the source if it still has it',
              );
            }
          },
        });
        expected = header.end;
        closed = header.closesFile;
      }
      await new Promise<void>((resolve, reject) =>
        sink.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
      await rename(partial, path);
    } catch (err) {
      sink.destroy();
      await rm(partial, { force: true });
      throw err;
    }
    log.debug('binlog fetched', { file, size: expected, segments: segments.length });
    out.push({ file, path, size: expected, segments: segments.length, closed });
  }
  return out;
}
