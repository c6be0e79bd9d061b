// Which segments of one archived binlog file a reader needs, from their headers alone (pure).
//
// A segment header records the commit times and GTIDs of the transactions that END in it, and
// whether the segment starts or ends inside a transaction. A reader that wants some transactions
// can therefore skip the segments before the first one that may hold their ends, provided it starts
// at a transaction boundary: it walks back over segments that end inside a transaction.

import type { SegmentHeader } from '../catalog/index.js';
import { MysqlGtidSet, parseMariadbGtid, parseMysqlGtid } from '../gtid/index.js';

/** A segment as the catalog lists it with `headers: true`. */
export interface HeadedSegment {
  start: number;
  header?: SegmentHeader | undefined;
}

/**
 * Index of the segment a reader must start at so that the transaction(s) ending in `segs[i]` are
 * read from their first event: `i`, walked back while the segment before ends inside a transaction
 * (`splitTransaction`). `segs` are one file's segments in `start` order.
 */
export function transactionStartIndex(segs: readonly HeadedSegment[], i: number): number {
  let k = i;
  while (k > 0 && segs[k - 1]!.header?.splitTransaction !== false) k--;
  return k;
}

/** Commit time (ms) of a header field, or undefined. */
function ms(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * The segments of one file (in `start` order) a reader needs for the transactions committed in
 * [from, to] (ms since the epoch, inclusive; commit times have one-second resolution): from the
 * first segment where such a transaction may end (walked back to a transaction boundary) through
 * the last segment whose first commit is not after `to`. `{ first: 0, end: segs.length }` reads
 * the whole file.
 *
 * Commit times in a binlog are almost, not strictly, in order (they are the statements' start
 * times); like the file-level skip of `timeline search`, this treats a segment's first and last
 * commit times as its bounds. A segment without a header, or whose headers name no commit, is
 * never skipped past.
 *
 * @returns `first` (index of the first segment to read) and `end` (one past the last); first >= end
 *   means no segment of the file is needed
 */
export function segmentsInTimeRange(
  segs: readonly HeadedSegment[],
  from: number | undefined,
  to: number | undefined,
): { first: number; end: number } {
  let first = 0;
  if (from !== undefined) {
    const i = segs.findIndex((s) => {
      const a = ms(s.header?.firstCommit);
      const b = ms(s.header?.lastCommit);
      // Unknown (no header) or holding the end of no transaction: keep it if a later one is kept.
      if (!s.header) return true;
      if (a === undefined && b === undefined) return false;
      return Math.max(a ?? -Infinity, b ?? -Infinity) >= from;
    });
    if (i < 0) return { first: segs.length, end: segs.length };
    first = transactionStartIndex(segs, i);
  }
  let end = segs.length;
  if (to !== undefined) {
    const j = segs.findIndex((s, k) => {
      if (k < first || !s.header) return false;
      const a = ms(s.header.firstCommit);
      const b = ms(s.header.lastCommit);
      if (a === undefined && b === undefined) return false;
      return Math.min(a ?? Infinity, b ?? Infinity) > to + 999;
    });
    if (j >= 0) end = j;
  }
  return { first, end };
}

/**
 * True when `header` says the transaction with GTID `gtid` (MariaDB `domain-server-seq` or MySQL
 * `uuid:gno`) may end in its segment: its sequence number lies in the segment's range for its
 * domain (MariaDB), or its GTID set contains it (MySQL). A GTID that parses as neither is never
 * found this way.
 */
export function segmentMayHoldGtid(header: SegmentHeader, gtid: string): boolean {
  if (/^\d+-\d+-\d+$/.test(gtid)) {
    let g;
    try {
      g = parseMariadbGtid(gtid);
    } catch {
      return false;
    }
    const range = header.gtids[String(g.domainId)];
    if (!range) return false;
    const seq = (text: string): number | undefined => {
      try {
        return parseMariadbGtid(text).seqNo;
      } catch {
        return undefined;
      }
    };
    const a = seq(range.first);
    const b = seq(range.last);
    return a !== undefined && b !== undefined && a <= g.seqNo && g.seqNo <= b;
  }
  if (!header.gtidSet) return false;
  try {
    return MysqlGtidSet.parse(header.gtidSet).contains(parseMysqlGtid(gtid));
  } catch {
    return false;
  }
}
