import { compareBinlogFiles, readBinlogCatalog } from '../catalog/index.js';
import { PitrError } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import { scanArchivedFile, type ScannedTransaction } from './archived-segments.js';

/** What to look for. Transactions must match every criterion given. */
export interface TimelineSearchQuery {
  /** Matched against each statement text (QUERY, ANNOTATE_ROWS, ROWS_QUERY). */
  query?: RegExp | undefined;
  /** `db.table` touched (TABLE_MAP), compared case-insensitively. */
  table?: string | undefined;
  /** Commit time bounds, ms since the epoch, inclusive. */
  from?: number | undefined;
  to?: number | undefined;
  /** Timeline (default: the newest with segments). */
  timeline?: string | undefined;
}

/** One transaction found. */
export interface TimelineMatch extends ScannedTransaction {
  timeline: string;
}

/**
 * Streams the archive of one timeline, file by file (segments prefetched, memory bounded), and
 * calls `onMatch` for every transaction that matches. Segments whose commit times lie wholly
 * outside `from`/`to` are still read (a file is parsed from its start), but not reported.
 *
 * @returns transactions examined
 * @throws PitrError TARGET_OUT_OF_RANGE for an unknown timeline or an empty archive; data/storage errors
 */
export async function searchTimeline(
  store: ObjectStore,
  q: TimelineSearchQuery,
  onMatch: (m: TimelineMatch) => void,
  signal?: AbortSignal,
): Promise<number> {
  const catalog = await readBinlogCatalog(store, {
    headers: true,
    ...(q.timeline ? { timeline: q.timeline } : {}),
  });
  const timeline = q.timeline
    ? catalog.timelines.find((t) => t.id === q.timeline)
    : catalog.timelines.filter((t) => t.segments.length > 0).at(-1);
  if (!timeline || timeline.segments.length === 0) {
    throw new PitrError(
      'TARGET_OUT_OF_RANGE',
      q.timeline
        ? `timeline ${q.timeline} has no archived binlogs in ${store.describe()}; \`mysql-pitr binlog list\` shows the timelines`
        : `no archived binlogs in ${store.describe()}; run \`mysql-pitr archive\` against the source first`,
    );
  }
  const table = q.table?.toLowerCase();
  const files = [...new Set(timeline.segments.map((s) => s.file))].sort(compareBinlogFiles);
  let examined = 0;
  for (const file of files) {
    const segs = timeline.segments.filter((s) => s.file === file && s.header);
    if (q.from !== undefined) {
      const last = [...segs].reverse().find((s) => s.header!.lastCommit)?.header!.lastCommit;
      if (last && Date.parse(last) < q.from) continue;
    }
    if (q.to !== undefined) {
      const first = segs.find((s) => s.header!.firstCommit)?.header!.firstCommit;
      if (first && Date.parse(first) > q.to + 999) continue;
    }
    await scanArchivedFile(
      store,
      timeline.id,
      file,
      segs.map((s) => ({ key: s.key, start: s.start, end: s.header!.end })),
      (t) => {
        examined += 1;
        if (q.from !== undefined && t.commitTime < q.from) return;
        if (q.to !== undefined && t.commitTime > q.to) return;
        if (table && !t.tables.some((x) => x.toLowerCase() === table)) return;
        if (q.query && !t.statements.some((s) => q.query!.test(s))) return;
        onMatch({ ...t, timeline: timeline.id });
      },
      { keep: false, ...(signal ? { signal } : {}) },
    );
  }
  return examined;
}
