import { MariadbGtidPos, MysqlGtidSet, parseMariadbGtid } from '../gtid/index.js';
import type { CatalogTimeline } from './binlog-catalog.js';
import { timelineLink, type TimelineLink } from './timeline-chain.js';

/**
 * Transactions a timeline's parent holds after the fork that the timeline does not hold: lost in a
 * failover (the old primary committed them, the new one never received them), or errant on an old
 * primary that returned. Restores on the later timeline never apply them.
 */
export interface DivergedHistory {
  /** The timeline that holds the transactions (the parent). */
  parent: string;
  /** The later timeline that lacks them. */
  timeline: string;
  how: TimelineLink['how'];
  /** How many (an upper bound when `upperBound`). */
  transactions: number;
  /**
   * True when the segment headers (first and last GTID per segment) cannot tell the exact count:
   * a segment of either timeline spans the fork, or holds several GTID domains.
   */
  upperBound: boolean;
  /** GTID ranges, MariaDB `domain-server-seq..domain-server-seq` or MySQL GTID set text. */
  ranges: string[];
  /** One line for operators. */
  message: string;
}

interface Endpoint {
  serverId: number;
  seq: number;
}

/** MariaDB: per domain, the first/last GTID endpoints of every segment of `t`. */
function mariadbEndpoints(t: CatalogTimeline): Map<number, Endpoint[]> {
  const out = new Map<number, Endpoint[]>();
  for (const s of t.segments) {
    for (const r of Object.values(s.header?.gtids ?? {})) {
      const a = parseMariadbGtid(r.first);
      const b = parseMariadbGtid(r.last);
      const list = out.get(a.domainId) ?? [];
      list.push({ serverId: a.serverId, seq: a.seqNo }, { serverId: b.serverId, seq: b.seqNo });
      out.set(a.domainId, list);
    }
  }
  return out;
}

/**
 * MariaDB, one domain: the fork as a range of sequence numbers `[lo, hi]`: the child holds the
 * parent's transactions up to `lo` for sure and none after `hi`. From the child's GTID endpoints (in
 * binlog order): its own server's first transaction after the fork starts after it, what it
 * replicated lies before. An endpoint of its own server counts as written after the fork only when
 * the parent holds no transaction of that server at or after that number (a primary that returns
 * carries its old history) and the child's binlog shows replicated transactions before it, or
 * starts with it. Undefined when the headers cannot tell.
 */
function mariadbFork(
  child: CatalogTimeline,
  ends: Endpoint[] | undefined,
  parentEnds: Endpoint[],
  domain: number,
  recorded: MariadbGtidPos | undefined,
): { lo: number; hi: number } | undefined {
  if (!ends || ends.length === 0) {
    const r = recorded?.get(domain);
    return r ? { lo: r.seqNo, hi: r.seqNo } : undefined;
  }
  const own = child.record?.source.serverId;
  const parentOwnMax = Math.max(-1, ...parentEnds.filter((e) => e.serverId === own).map((e) => e.seq));
  const after: number[] = [];
  let seenOther = false;
  ends.forEach((e, i) => {
    if (e.serverId !== own) seenOther = true;
    else if (e.seq > parentOwnMax && (seenOther || (i === 0 && parentOwnMax < 0))) after.push(e.seq);
  });
  if (after.length === 0) {
    if (ends.some((e) => e.serverId === own)) return undefined;
    // the child only replicated in this domain: it holds everything up to its last
    const last = Math.max(...ends.map((e) => e.seq));
    return { lo: last, hi: last };
  }
  const hi = Math.min(...after) - 1;
  const before = ends.filter((e) => e.serverId !== own && e.seq <= hi).map((e) => e.seq);
  const first = Math.min(...ends.map((e) => e.seq));
  const lo = before.length ? Math.max(...before) : Math.min(hi, first - 1);
  return { lo, hi };
}

/** MariaDB: the parent's transactions after the fork in each domain. */
function mariadbDiverged(
  parent: CatalogTimeline,
  child: CatalogTimeline,
  link: TimelineLink,
): { certain: number; possible: number; upperBound: boolean; ranges: string[] } {
  let recorded: MariadbGtidPos | undefined;
  try {
    recorded = link.forkGtid ? MariadbGtidPos.parse(link.forkGtid) : undefined;
  } catch {
    recorded = undefined; // a MySQL set: not used here
  }
  const childEnds = mariadbEndpoints(child);
  const parentEnds = mariadbEndpoints(parent);
  let certain = 0;
  let possible = 0;
  let upperBound = false;
  const ranges: string[] = [];
  const domains = new Set<number>();
  for (const s of parent.segments) {
    for (const r of Object.values(s.header?.gtids ?? {})) domains.add(parseMariadbGtid(r.first).domainId);
  }
  for (const d of [...domains].sort((a, b) => a - b)) {
    const fork = mariadbFork(child, childEnds.get(d), parentEnds.get(d) ?? [], d, recorded);
    if (!fork) continue;
    let first: string | undefined;
    let last: string | undefined;
    let serverAtFirst = 0;
    // transactions of the parent with a sequence number above `after`, counted from the headers
    const countAfter = (after: number): { n: number; exact: boolean } => {
      let n = 0;
      let exact = true;
      for (const s of parent.segments) {
        const h = s.header;
        const r = h
          ? Object.values(h.gtids).find((x) => parseMariadbGtid(x.first).domainId === d)
          : undefined;
        if (!h || !r) continue;
        const a = parseMariadbGtid(r.first);
        const b = parseMariadbGtid(r.last);
        if (b.seqNo <= after) continue;
        const single = Object.keys(h.gtids).length === 1;
        const dense = single && h.transactions === b.seqNo - a.seqNo + 1;
        if (a.seqNo > after) {
          n += single ? h.transactions : Math.min(h.transactions, b.seqNo - a.seqNo + 1);
          if (!single) exact = false;
        } else {
          n += Math.min(h.transactions, b.seqNo - after);
          if (!dense) exact = false;
        }
      }
      return { n, exact };
    };
    const sure = countAfter(fork.hi);
    if (sure.n === 0) continue; // everything the parent holds may be in the child: nothing to report
    const all = countAfter(fork.lo);
    certain += sure.n;
    possible += all.n - sure.n;
    if (!all.exact || all.n !== sure.n) upperBound = true;
    for (const s of parent.segments) {
      const r = Object.values(s.header?.gtids ?? {}).find((x) => parseMariadbGtid(x.first).domainId === d);
      if (!r) continue;
      const a = parseMariadbGtid(r.first);
      const b = parseMariadbGtid(r.last);
      if (b.seqNo <= fork.lo) continue;
      if (first === undefined) {
        first = a.seqNo > fork.lo ? r.first : undefined;
        serverAtFirst = b.serverId;
        if (first === undefined) first = `${d}-${serverAtFirst}-${fork.lo + 1}`;
      }
      last = r.last;
    }
    if (first && last) ranges.push(first === last ? first : `${first}..${last}`);
  }
  return { certain, possible, upperBound, ranges };
}

/** MySQL: the parent's GTIDs after the child's newest GTID of the same server_uuid (or the recorded fork). */
function mysqlDiverged(parent: CatalogTimeline, child: CatalogTimeline, link: TimelineLink): MysqlGtidSet {
  const union = (t: CatalogTimeline): MysqlGtidSet =>
    t.segments.reduce(
      (acc, s) => (s.header?.gtidSet ? acc.union(MysqlGtidSet.parse(s.header.gtidSet)) : acc),
      MysqlGtidSet.EMPTY,
    );
  const p = union(parent);
  const c = union(child);
  if (p.isEmpty) return p;
  let fork = MysqlGtidSet.EMPTY;
  try {
    fork = link.forkGtid ? MysqlGtidSet.parse(link.forkGtid) : MysqlGtidSet.EMPTY;
  } catch {
    fork = MysqlGtidSet.EMPTY; // a MariaDB position
  }
  // what the child holds or the fork covers: for every server_uuid it has, everything up to its newest
  const held = MysqlGtidSet.fromEntries(
    c
      .entries()
      .map((e) => ({ uuid: e.uuid, tag: e.tag, intervals: [{ start: 1, end: e.intervals.at(-1)!.end }] })),
  ).union(fork);
  const known = new Set(held.entries().map((e) => `${e.uuid}:${e.tag}`));
  return MysqlGtidSet.fromEntries(
    p
      .subtract(held)
      .entries()
      .filter((e) => known.has(`${e.uuid}:${e.tag}`)),
  );
}

/**
 * For every timeline linked to a parent (recorded or inferred, see timelineLink), the parent's
 * transactions after the fork that the timeline does not hold. Pure; reads only segment headers
 * (first and last GTID per domain per segment for MariaDB, GTID sets for MySQL), never the binlog
 * bytes: counts are exact for MySQL and for MariaDB segments with dense sequence numbers, else an
 * upper bound (`upperBound`). A fork inside a segment of the child whose ends do not tell it is given
 * the benefit of the doubt: only transactions certainly after the fork are reported.
 */
export function findDivergedHistories(timelines: readonly CatalogTimeline[]): DivergedHistory[] {
  const out: DivergedHistory[] = [];
  for (const t of timelines) {
    const r = timelineLink(timelines, t);
    if (!r || !('link' in r)) continue;
    const parent = timelines.find((x) => x.id === r.link.parent);
    if (!parent) continue;
    const m = mariadbDiverged(parent, t, r.link);
    let transactions = m.certain + m.possible;
    let upperBound = m.upperBound;
    const ranges = [...m.ranges];
    const my = mysqlDiverged(parent, t, r.link);
    if (!my.isEmpty) {
      transactions += my.size;
      ranges.push(my.toString());
    }
    if (transactions === 0) continue;
    if (m.certain === 0 && my.isEmpty) continue;
    upperBound = upperBound && m.possible + m.certain > 0;
    out.push({
      parent: parent.id,
      timeline: t.id,
      how: r.link.how,
      transactions,
      upperBound,
      ranges,
      message:
        `diverged: ${upperBound ? 'up to ' : ''}${transactions} transaction${transactions === 1 ? '' : 's'} on ` +
        `timeline ${parent.id} after the fork are not in timeline ${t.id} (lost in the failover, or errant on a ` +
        `returning old primary): ${ranges.join(', ')}. Restores on timeline ${t.id} never apply them; ` +
        `restore to a point of timeline ${parent.id} with --timeline ${parent.id} to inspect them`,
    });
  }
  return out;
}
