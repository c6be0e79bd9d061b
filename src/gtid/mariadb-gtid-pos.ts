// MariaDB GTIDs and GTID positions in text form: `domain-server-seq`, comma-separated.
// https://mariadb.com/kb/en/gtid/ (gtid_binlog_pos, gtid_slave_pos, gtid_current_pos, gtid_binlog_state)
//
// A MariaDB GTID names one transaction: replication domain, server_id of the server that committed it,
// sequence number (strictly increasing within a domain under gtid_strict_mode). A *position* holds at
// most one GTID per domain, the last one applied: everything up to it in that domain is included.
// Canonical form: sorted by domain, `0-1-10,1-2-7`.

import { GtidError } from './gtid-error.js';

/** One MariaDB GTID. */
export interface MariadbGtid {
  /** gtid_domain_id, 0 .. 2^32 - 1. */
  readonly domainId: number;
  /** server_id of the server that first committed the transaction, 0 .. 2^32 - 1. */
  readonly serverId: number;
  /** Sequence number within the domain, 0 .. 2^53 - 1 here (MariaDB allows up to 2^64 - 1). */
  readonly seqNo: number;
}

const GTID_RE = /^(\d+)-(\d+)-(\d+)$/;
const U32_MAX = 0xffffffff;

/**
 * Parses one `domain-server-seq`.
 *
 * @throws GtidError (GTID_INVALID)
 */
export function parseMariadbGtid(text: string): MariadbGtid {
  const m = GTID_RE.exec(text.trim());
  if (!m) throw new GtidError(text, 'expected domain-server-sequence, three decimal numbers such as 0-1-42');
  const domainId = Number(m[1]);
  const serverId = Number(m[2]);
  const seqNo = Number(m[3]);
  if (domainId > U32_MAX) throw new GtidError(text, `domain id ${m[1]} is above 2^32 - 1`);
  if (serverId > U32_MAX) throw new GtidError(text, `server id ${m[2]} is above 2^32 - 1`);
  if (!Number.isSafeInteger(seqNo)) throw new GtidError(text, `sequence number ${m[3]} is above 2^53 - 1`);
  return { domainId, serverId, seqNo };
}

/** Formats one GTID as `domain-server-seq`. */
export function formatMariadbGtid(gtid: MariadbGtid): string {
  return `${gtid.domainId}-${gtid.serverId}-${gtid.seqNo}`;
}

/**
 * An immutable MariaDB GTID position: at most one GTID per replication domain (as in
 * `@@gtid_binlog_pos` or a GTID_LIST event reduced to its last GTID per domain). Every operation
 * returns a new position; `toString()` is canonical.
 */
export class MariadbGtidPos {
  private readonly byDomain: ReadonlyMap<number, MariadbGtid>;

  private constructor(byDomain: Map<number, MariadbGtid>) {
    this.byDomain = byDomain;
  }

  /** The empty position (no domain has any transaction). */
  static readonly EMPTY = new MariadbGtidPos(new Map());

  /**
   * Parses a comma-separated list of GTIDs with at most one per domain. Whitespace is ignored; the
   * empty string is the empty position.
   *
   * @throws GtidError (GTID_INVALID) for a malformed GTID or two GTIDs of one domain
   */
  static parse(text: string): MariadbGtidPos {
    const compact = text.replace(/\s+/g, '');
    if (compact === '') return MariadbGtidPos.EMPTY;
    const map = new Map<number, MariadbGtid>();
    for (const part of compact.split(',')) {
      if (part === '') throw new GtidError(text, 'empty element between commas');
      const gtid = parseMariadbGtid(part);
      const seen = map.get(gtid.domainId);
      if (seen) {
        throw new GtidError(
          text,
          `domain ${gtid.domainId} appears twice (${formatMariadbGtid(seen)} and ${part}); a position holds one GTID per domain`,
        );
      }
      map.set(gtid.domainId, gtid);
    }
    return new MariadbGtidPos(map);
  }

  /**
   * A position from any list of GTIDs (a GTID_LIST event, `@@gtid_binlog_state`): per domain, the
   * GTID with the highest sequence number.
   */
  static fromGtids(gtids: Iterable<MariadbGtid>): MariadbGtidPos {
    const map = new Map<number, MariadbGtid>();
    for (const g of gtids) {
      const seen = map.get(g.domainId);
      if (!seen || g.seqNo > seen.seqNo)
        map.set(g.domainId, { domainId: g.domainId, serverId: g.serverId, seqNo: g.seqNo });
    }
    return new MariadbGtidPos(map);
  }

  /** True when no domain has a GTID. */
  get isEmpty(): boolean {
    return this.byDomain.size === 0;
  }

  /** The GTID of `domainId`, if any. */
  get(domainId: number): MariadbGtid | undefined {
    return this.byDomain.get(domainId);
  }

  /** The GTIDs, sorted by domain. */
  gtids(): MariadbGtid[] {
    return [...this.byDomain.values()].sort((a, b) => a.domainId - b.domainId);
  }

  /** This position advanced by one transaction: its domain's GTID becomes `gtid` if it is newer. */
  advance(gtid: MariadbGtid): MariadbGtidPos {
    return this.union(MariadbGtidPos.fromGtids([gtid]));
  }

  /** Per domain, the later (higher sequence number) of the two GTIDs. */
  union(other: MariadbGtidPos): MariadbGtidPos {
    return MariadbGtidPos.fromGtids([...this.byDomain.values(), ...other.byDomain.values()]);
  }

  /**
   * True when everything up to `other` (a position or one GTID) is included in this position: for
   * each of its domains, this position has that domain at the same or a higher sequence number.
   */
  contains(other: MariadbGtidPos | MariadbGtid): boolean {
    const list = other instanceof MariadbGtidPos ? other.gtids() : [other];
    return list.every((g) => {
      const mine = this.byDomain.get(g.domainId);
      return mine !== undefined && mine.seqNo >= g.seqNo;
    });
  }

  /**
   * The domains where this position is ahead of `other` (or that `other` lacks), with this
   * position's GTID: what a replica at `other` still has to apply to reach this position.
   */
  subtract(other: MariadbGtidPos): MariadbGtidPos {
    const map = new Map<number, MariadbGtid>();
    for (const [d, g] of this.byDomain) {
      const theirs = other.byDomain.get(d);
      if (!theirs || theirs.seqNo < g.seqNo) map.set(d, g);
    }
    return new MariadbGtidPos(map);
  }

  /** True when both positions hold the same GTIDs. */
  equals(other: MariadbGtidPos): boolean {
    return this.toString() === other.toString();
  }

  /** Canonical text: `domain-server-seq` sorted by domain, comma-separated; '' when empty. */
  toString(): string {
    return this.gtids().map(formatMariadbGtid).join(',');
  }
}
