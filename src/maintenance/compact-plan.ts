import {
  compareBinlogFiles,
  type BinlogCatalog,
  type CatalogSegment,
  type SegmentHeader,
} from '../catalog/index.js';

/** Default largest object compaction writes (stored bytes): 256 MiB. */
export const DEFAULT_COMPACT_MAX_OBJECT_BYTES = 256 * 1024 * 1024;

/** A closed binlog file of the archive: nothing will ever be appended to it. */
export interface ClosedBinlogFile {
  timeline: string;
  file: string;
  /** Why it is closed, for logs. */
  reason: string;
  /** Its objects (`CatalogTimeline.segments`), in order. */
  segments: CatalogSegment[];
  /** Objects a compacted object already covers (left by an interrupted run). */
  covered: CatalogSegment[];
}

/**
 * The files of `catalog` that are closed, so compaction may rewrite them: every file of a timeline
 * older than the newest timeline record (the archiver only ever continues the newest timeline), and
 * every file of the newest timeline that is followed by a later file holding segments (the archiver
 * writes files strictly in order and never returns to an earlier one). The last file holding
 * segments of the newest timeline is never closed here, even with its ROTATE archived or a gap
 * record naming it: it is where the archiver resumes, and its resume reads the plain segment keys
 * of that file. Pure.
 */
export function closedBinlogFiles(catalog: BinlogCatalog): ClosedBinlogFile[] {
  const recorded = catalog.timelines.filter((t) => t.record !== undefined).map((t) => t.id);
  const newestRecord = recorded.sort().at(-1);
  const out: ClosedBinlogFile[] = [];
  for (const t of catalog.timelines) {
    const frozen = newestRecord !== undefined && t.id < newestRecord;
    const byFile = new Map<string, { segments: CatalogSegment[]; covered: CatalogSegment[] }>();
    const entry = (file: string): { segments: CatalogSegment[]; covered: CatalogSegment[] } => {
      let e = byFile.get(file);
      if (!e) {
        e = { segments: [], covered: [] };
        byFile.set(file, e);
      }
      return e;
    };
    for (const s of t.segments) entry(s.file).segments.push(s);
    for (const s of t.covered ?? []) entry(s.file).covered.push(s);
    const withSegments = [...byFile.entries()]
      .filter(([, e]) => e.segments.length > 0)
      .map(([f]) => f)
      .sort(compareBinlogFiles);
    const lastFile = withSegments.at(-1);
    for (const file of [...byFile.keys()].sort(compareBinlogFiles)) {
      const e = byFile.get(file)!;
      if (e.segments.length === 0) continue; // only covered objects: nothing covers them in the view
      const later = lastFile !== undefined && compareBinlogFiles(file, lastFile) < 0;
      if (!frozen && !later) continue;
      out.push({
        timeline: t.id,
        file,
        reason: frozen
          ? `timeline ${t.id} is older than timeline ${newestRecord}`
          : `${lastFile} follows it on timeline ${t.id}`,
        segments: e.segments,
        covered: e.covered,
      });
    }
  }
  return out;
}

/** One object compaction writes: the bytes of `inputs`, consecutive segments of one file. */
export interface CompactionGroup {
  start: number;
  end: number;
  /** In order; at least two. */
  inputs: (CatalogSegment & { header: SegmentHeader })[];
  /** Stored bytes of the inputs. */
  storedBytes: number;
}

/**
 * Groups the objects of one file (read with headers, in order) into runs of consecutive objects
 * whose stored sizes add up to at most `maxObjectBytes`, greedily from the start of the file, so
 * that the same objects and limit always give the same groups (and a re-run rewrites the same
 * keys). A run breaks where an object does not start where the previous one ended (a hole or an
 * overlap: left for `verify` to report). Runs of one object are not groups: nothing to merge.
 * Pure.
 */
export function planFileCompaction(
  segments: readonly CatalogSegment[],
  maxObjectBytes: number = DEFAULT_COMPACT_MAX_OBJECT_BYTES,
): CompactionGroup[] {
  const groups: CompactionGroup[] = [];
  let run: (CatalogSegment & { header: SegmentHeader })[] = [];
  let size = 0;
  const close = (): void => {
    if (run.length >= 2) {
      groups.push({
        start: run[0]!.header.start,
        end: run.at(-1)!.header.end,
        inputs: run,
        storedBytes: size,
      });
    }
    run = [];
    size = 0;
  };
  for (const s of segments) {
    const header = s.header;
    if (!header) {
      close();
      continue;
    }
    const prev = run.at(-1);
    if (prev && (prev.header.end !== header.start || size + s.size > maxObjectBytes)) close();
    run.push({ ...s, header });
    size += s.size;
  }
  close();
  return groups;
}
