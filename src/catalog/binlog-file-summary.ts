import type { BinlogGap } from './binlog-gap.js';
import type { CatalogTimeline } from './binlog-catalog.js';
import type { DomainGtidRange } from './segment-header.js';
import type { TimelineRecord } from './timeline-record.js';
import { judgeUnclosedFileEnd, type UnclosedFileEnd } from './unclosed-file-end.js';

/** A byte range of a file that no segment covers (or that two segments both cover, `overlap`). */
export interface SegmentHole {
  from: number;
  to: number;
  overlap: boolean;
}

/** What the archive holds of one binlog file. */
export interface BinlogFileSummary {
  file: string;
  /** First archived byte (0 when the file is archived from its start). */
  start: number;
  /** End of the last segment. */
  end: number;
  segments: number;
  /** Compressed bytes stored. */
  storedBytes: number;
  transactions: number;
  firstCommit: string | null;
  lastCommit: string | null;
  /** MariaDB: per domain, first and last GTID. */
  gtids: Record<string, DomainGtidRange>;
  /** The file's ROTATE/STOP is archived: nothing more will come for it. */
  closed: boolean;
  /** Ranges no segment covers, or covered twice; empty for a sound file. */
  holes: SegmentHole[];
  /**
   * Set when the file is not `closed` but the timeline goes on with another file: how its end is
   * judged (judgeUnclosedFileEnd). `source-restarted` is information ("source restarted after a
   * crash"), the other verdicts a break.
   */
  unclosedEnd?: UnclosedFileEnd;
}

/** What the archive holds of one timeline. */
export interface TimelineSummary {
  id: string;
  record: TimelineRecord | undefined;
  files: BinlogFileSummary[];
  gaps: BinlogGap[];
  /** The last durable position: the end of the last segment. */
  last: { file: string; position: number; closesFile: boolean; lastCommit: string | null } | undefined;
}

/**
 * Summarises a timeline read with headers (segments without a header are skipped): per file, its
 * range, counts, time and GTID ranges, and any holes. Pure.
 */
export function summarizeTimeline(t: CatalogTimeline): TimelineSummary {
  const files: BinlogFileSummary[] = [];
  let current: BinlogFileSummary | undefined;
  let last: TimelineSummary['last'];
  let lastCommit: string | null = null;
  const headers = t.segments.flatMap((s) => (s.header ? [s.header] : []));
  let index = -1;
  for (const s of t.segments) {
    const h = s.header;
    if (!h) continue;
    index += 1;
    if (!current || current.file !== s.file) {
      if (current && !current.closed) current.unclosedEnd = judgeUnclosedFileEnd(headers, index - 1);
      current = {
        file: s.file,
        start: h.start,
        end: h.start,
        segments: 0,
        storedBytes: 0,
        transactions: 0,
        firstCommit: null,
        lastCommit: null,
        gtids: {},
        closed: false,
        holes: h.start === 0 ? [] : [{ from: 0, to: h.start, overlap: false }],
      };
      files.push(current);
    } else if (h.start !== current.end) {
      current.holes.push(
        h.start > current.end
          ? { from: current.end, to: h.start, overlap: false }
          : { from: h.start, to: current.end, overlap: true },
      );
    }
    current.end = h.end;
    current.segments += 1;
    current.storedBytes += s.size;
    current.transactions += h.transactions;
    current.firstCommit ??= h.firstCommit;
    if (h.lastCommit) current.lastCommit = h.lastCommit;
    for (const [domain, range] of Object.entries(h.gtids)) {
      const seen = current.gtids[domain];
      current.gtids[domain] = { first: seen?.first ?? range.first, last: range.last };
    }
    current.closed = h.closesFile;
    if (h.lastCommit) lastCommit = h.lastCommit;
    last = { file: s.file, position: h.end, closesFile: h.closesFile, lastCommit };
  }
  return { id: t.id, record: t.record, files, gaps: t.gaps, last };
}
