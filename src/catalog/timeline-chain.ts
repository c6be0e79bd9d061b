import { MysqlGtidSet, parseMariadbGtid } from '../gtid/index.js';
import type { CatalogTimeline } from './binlog-catalog.js';
import { parentTimelineId, sameSourceIdentity } from './timeline-record.js';

/** How one timeline continues another (docs/failure-model.md, "Failover: one history across servers"). */
export interface TimelineLink {
  /** The later timeline. */
  timeline: string;
  /** The timeline it continues. */
  parent: string;
  /**
   * `recorded`: the archiver wrote `parent` and `forkGtid` when it followed the new primary.
   * `inferred`: an older record without them, and the later timeline's first GTIDs continue (or
   * overlap) the parent's last ones on another server.
   */
  how: 'recorded' | 'inferred';
  /** The recorded fork GTID position; undefined when inferred (the planner finds it by scanning). */
  forkGtid: string | undefined;
}

/** A later timeline that does not continue the one before it: no restore crosses from one to the other. */
export interface TimelineBreak {
  timeline: string;
  previous: string;
  /** Why (no GTIDs, the GTIDs jump, the same server reset its history...). */
  reason: string;
}

/** Per MariaDB domain (`d0`) or MySQL uuid:tag (`u...`), the first and last transaction numbers of a timeline. */
function gtidRanges(t: CatalogTimeline): Map<string, { first: number; last: number }> {
  const out = new Map<string, { first: number; last: number }>();
  const add = (key: string, first: number, last: number): void => {
    const r = out.get(key);
    out.set(key, { first: Math.min(r?.first ?? first, first), last: Math.max(r?.last ?? last, last) });
  };
  for (const s of t.segments) {
    const h = s.header;
    if (!h) continue;
    for (const r of Object.values(h.gtids)) {
      const a = parseMariadbGtid(r.first);
      add(`d${a.domainId}`, a.seqNo, parseMariadbGtid(r.last).seqNo);
    }
    if (h.gtidSet) {
      for (const e of MysqlGtidSet.parse(h.gtidSet).entries()) {
        add(`u${e.uuid}:${e.tag}`, e.intervals[0]!.start, e.intervals.at(-1)!.end);
      }
    }
  }
  return out;
}

/**
 * Whether `later` continues `earlier` by GTIDs: for every GTID domain (MariaDB) or server_uuid
 * (MySQL) both hold, the later timeline's first transaction number is at most one past the earlier
 * one's last (its binlog repeats what it replicated, or starts right after it), and at least one
 * is shared. Undefined when it does; else the reason it does not.
 */
function continuityBreak(earlier: CatalogTimeline, later: CatalogTimeline): string | undefined {
  const a = gtidRanges(earlier);
  const b = gtidRanges(later);
  if (a.size === 0 || b.size === 0) {
    return 'without GTIDs a change of source cannot be stitched: transactions on both sides cannot be matched';
  }
  let shared = 0;
  for (const [key, r] of b) {
    const e = a.get(key);
    if (!e) continue;
    shared += 1;
    if (r.first > e.last + 1) {
      return (
        `its first transaction of ${key.startsWith('d') ? `GTID domain ${key.slice(1)}` : key.slice(1)} is number ` +
        `${r.first} but timeline ${earlier.id} ends at ${e.last}: ${r.first - e.last - 1} transaction(s) are in neither`
      );
    }
  }
  if (shared === 0) return `it shares no GTID domain or server_uuid with timeline ${earlier.id}`;
  return undefined;
}

/**
 * The link from timeline `t` to the one it continues, or the break that separates them. Pure.
 *
 * A record with `forkGtid` and `parent` is a recorded link. Without them, the previous timeline
 * with segments is the parent when `t` was written by another server (a failover or switchover;
 * the same server starting over is a reset, never a continuation) and its GTIDs continue the
 * parent's. Undefined for the first timeline.
 */
export function timelineLink(
  timelines: readonly CatalogTimeline[],
  t: CatalogTimeline,
): { link: TimelineLink } | { break: TimelineBreak } | undefined {
  const recordedParent = parentTimelineId(t.record);
  if (t.record?.forkGtid !== undefined && recordedParent !== undefined) {
    return { link: { timeline: t.id, parent: recordedParent, how: 'recorded', forkGtid: t.record.forkGtid } };
  }
  const older = timelines.filter((x) => x.id < t.id && x.segments.some((s) => s.header));
  const previous = older.at(-1);
  if (!previous || !t.segments.some((s) => s.header)) return undefined;
  if (t.record && previous.record && sameSourceIdentity(t.record.source, previous.record.source)) {
    return {
      break: {
        timeline: t.id,
        previous: previous.id,
        reason: `the same server started a new binlog history (${t.record.reason})`,
      },
    };
  }
  const why = continuityBreak(previous, t);
  if (why) return { break: { timeline: t.id, previous: previous.id, reason: why } };
  return { link: { timeline: t.id, parent: previous.id, how: 'inferred', forkGtid: undefined } };
}

/**
 * The chain of timelines a restore to a point on `newest` can cross, oldest first (just `newest`
 * when it continues nothing), its links, and the break before its oldest member, if any. Pure.
 */
export function timelineChain(
  timelines: readonly CatalogTimeline[],
  newest: CatalogTimeline,
): { chain: CatalogTimeline[]; links: TimelineLink[]; break: TimelineBreak | undefined } {
  const chain = [newest];
  const links: TimelineLink[] = [];
  for (;;) {
    const head = chain[0]!;
    const r = timelineLink(timelines, head);
    if (!r) return { chain, links, break: undefined };
    if ('break' in r) return { chain, links, break: r.break };
    const parent = timelines.find((x) => x.id === r.link.parent);
    if (!parent || chain.includes(parent)) return { chain, links, break: undefined };
    chain.unshift(parent);
    links.unshift(r.link);
  }
}
