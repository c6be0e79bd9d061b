import { MysqlGtidSet, parseMariadbGtid } from '../gtid/index.js';
import type { SegmentHeader } from './segment-header.js';

/**
 * How a binlog file that ended without its ROTATE/STOP in the archive is judged, when the timeline
 * continues with another file:
 * - `source-restarted`: the transactions of the files after it continue its GTIDs with no hole
 *   (per MariaDB domain the next sequence number, per MySQL server_uuid the next transaction
 *   number). The source crashed (kill -9, OOM, host loss) and a restarted server opened a new
 *   file; nothing is missing. A normal end of file for restores.
 * - `missing-tail`: the GTIDs jump: transactions between the two files are not in the archive
 *   (objects deleted, or the source lost them). No restore can cross it.
 * - `undecided`: no GTID on one side of the boundary (the source runs without GTIDs, or no
 *   transaction has been archived after the restart yet): a crash end cannot be told from a
 *   missing tail, so it counts as a break.
 */
export type UnclosedFileVerdict = 'source-restarted' | 'missing-tail' | 'undecided';

/** The judgement of one unclosed file end, with the GTIDs that decided it. */
export interface UnclosedFileEnd {
  verdict: UnclosedFileVerdict;
  /** For messages: `0-1-41 is followed by 0-1-42` / `0-1-41 is followed by 0-1-57` / why undecided. */
  evidence: string;
}

/** Per MariaDB domain / MySQL uuid:tag, the last transaction number before the boundary. */
function lastNumbers(
  headers: readonly SegmentHeader[],
  upTo: number,
): Map<string, { n: number; text: string }> {
  const out = new Map<string, { n: number; text: string }>();
  for (let i = 0; i <= upTo; i++) {
    const h = headers[i]!;
    for (const r of Object.values(h.gtids)) {
      const g = parseMariadbGtid(r.last);
      const seen = out.get(`d${g.domainId}`);
      if (!seen || g.seqNo > seen.n) out.set(`d${g.domainId}`, { n: g.seqNo, text: r.last });
    }
    if (h.gtidSet) {
      for (const e of MysqlGtidSet.parse(h.gtidSet).entries()) {
        const key = `u${e.uuid}:${e.tag}`;
        const end = e.intervals.at(-1)!.end;
        const seen = out.get(key);
        if (!seen || end > seen.n)
          out.set(key, { n: end, text: `${e.uuid}${e.tag ? `:${e.tag}` : ''}:${end}` });
      }
    }
  }
  return out;
}

/** Per domain / uuid:tag, the first transaction number in one header. */
function firstNumbers(h: SegmentHeader): Map<string, { n: number; text: string }> {
  const out = new Map<string, { n: number; text: string }>();
  for (const r of Object.values(h.gtids)) {
    const g = parseMariadbGtid(r.first);
    out.set(`d${g.domainId}`, { n: g.seqNo, text: r.first });
  }
  if (h.gtidSet) {
    for (const e of MysqlGtidSet.parse(h.gtidSet).entries()) {
      const start = e.intervals[0]!.start;
      out.set(`u${e.uuid}:${e.tag}`, { n: start, text: `${e.uuid}${e.tag ? `:${e.tag}` : ''}:${start}` });
    }
  }
  return out;
}

/**
 * Judges the end of the file whose last archived segment is `headers[last]`, when that segment
 * does not close the file and `headers[last + 1]` starts another file of the same timeline.
 * `headers` are the timeline's segment headers in archive order (file, then start). Pure.
 *
 * The rule (docs/failure-model.md, "Source crash"): the source's stream carries no sign of its own
 * crash (it clears the in-use flag of the format description event it sends), so the proof is
 * GTID continuity. The first transaction of each GTID domain (MariaDB) or server_uuid (MySQL)
 * after the boundary must be the one right after the last one before it. A domain seen only after
 * the boundary proves nothing; one that jumps means lost transactions.
 */
export function judgeUnclosedFileEnd(headers: readonly SegmentHeader[], last: number): UnclosedFileEnd {
  const before = lastNumbers(headers, last);
  if (before.size === 0) {
    return {
      verdict: 'undecided',
      evidence: 'no GTID was archived before it, so a crash end cannot be told from a missing tail',
    };
  }
  const judged = new Set<string>();
  const continued: string[] = [];
  for (let i = last + 1; i < headers.length; i++) {
    for (const [key, first] of firstNumbers(headers[i]!)) {
      if (judged.has(key)) continue;
      const prev = before.get(key);
      if (!prev) continue;
      judged.add(key);
      if (first.n !== prev.n + 1) {
        return {
          verdict: 'missing-tail',
          evidence:
            `the last archived transaction before it is ${prev.text} but the next one archived is ${first.text}: ` +
            `${first.n > prev.n + 1 ? `${first.n - prev.n - 1} transaction(s) are missing` : 'the GTIDs go back'}`,
        };
      }
      continued.push(`${prev.text} is followed by ${first.text}`);
    }
    if (judged.size === before.size) break;
  }
  if (continued.length === 0) {
    return {
      verdict: 'undecided',
      evidence:
        'no transaction with GTIDs has been archived after it yet, so a crash end cannot be told from a missing ' +
        'tail (it is decided once the source commits again)',
    };
  }
  return { verdict: 'source-restarted', evidence: continued.join(', ') };
}
