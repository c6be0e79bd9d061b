// Which segments of one archived binlog file a reader needs, from their headers alone (pure).
//
// A segment header records the commit times and GTIDs of the transactions that END in it, how many
// end there, and whether the segment starts or ends inside a transaction (one flag for both). A
// reader that wants some transactions can therefore skip the segments before the one where the
// first of them may begin, then drop events up to the first transaction start (its GTID event):
// see archivedFileEvents.

import type { SegmentHeader } from '../catalog/index.js';
import { MysqlGtidSet, parseMariadbGtid, parseMysqlGtid } from '../gtid/index.js';

/** A segment as the catalog lists it with `headers: true`. */
export interface HeadedSegment {
  start: number;
  header?: SegmentHeader | undefined;
}

/**
 * Index of the segment a reader must start at so that every transaction ending in `segs[i]` or later
 * is read from its first event, given that the reader drops events up to the first transaction start:
 * `i`, walked back over the segments that lie wholly inside one transaction (none ends there, and
 * `splitTransaction`), then one more when that one may end inside a transaction (the segment where
 * the transaction begins, after the end of an earlier one). `segs` are one file's segments in
 * `start` order.
 */
export function transactionStartIndex(segs: readonly HeadedSegment[], i: number): number {
  let k = i;
  while (
    k > 0 &&
    segs[k - 1]!.header?.splitTransaction !== false &&
    segs[k - 1]!.header?.transactions === 0
  ) {
    k--;
  }
  if (k > 0 && segs[k - 1]!.header?.splitTransaction !== false) k--;
  return k;
}

/**
 * True when some segment header of the file names a GTID, so every transaction in it starts with a
 * GTID event a reader can resynchronise on (MariaDB always; MySQL with gtid_mode ON).
 */
export function hasGtids(segs: readonly HeadedSegment[]): boolean {
  return segs.some((s) => s.header && (Object.keys(s.header.gtids).length > 0 || s.header.gtidSet !== ''));
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
  // Without GTID events a reader cannot find the next transaction start: read from the file start.
  if (from !== undefined && hasGtids(segs)) {
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
  } else if (from !== undefined) {
    const last = [...segs].reverse().find((s) => s.header?.lastCommit)?.header!.lastCommit;
    if (last && Date.parse(last) < from) return { first: segs.length, end: segs.length };
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
