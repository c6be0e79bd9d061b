// MySQL GTID sets in text form: `uuid:1-5:7`, tagged (8.3+) `uuid:tag:1-3`, several uuids comma-separated.
// https://dev.mysql.com/doc/refman/8.4/en/replication-gtids-concepts.html#replication-gtids-concepts-gtid-sets
//
// Canonical form (what the server prints): lowercase uuids in ascending order; for each uuid the
// untagged intervals first, then each tag (lowercase, ascending) with its intervals; intervals sorted,
// merged when they overlap or touch, a single transaction number written alone (`7`, not `7-7`).

import { GtidError } from './gtid-error.js';

/** An inclusive range of transaction numbers (gno), `start <= end`. */
export interface GnoInterval {
  readonly start: number;
  readonly end: number;
}

/** One MySQL GTID: `uuid:gno` or `uuid:tag:gno`. */
export interface MysqlGtid {
  /** server_uuid of the source that committed the transaction (lowercase, with dashes). */
  readonly uuid: string;
  /** GTID tag (MySQL 8.3+), lowercase; '' when untagged. */
  readonly tag: string;
  /** Transaction number, 1 .. 2^53 - 1 here (MySQL allows up to 2^63 - 1). */
  readonly gno: number;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** Tags: a letter or underscore, then letters, digits or underscores, at most 32 characters. */
const TAG_RE = /^[a-z_][a-z0-9_]{0,31}$/i;
const GNO_RE = /^\d+$/;

/** Key of the map: `uuid` or `uuid:tag`. */
function keyOf(uuid: string, tag: string): string {
  return tag ? `${uuid}:${tag}` : uuid;
}

/** Normalises a uuid to lowercase with dashes; throws GtidError. */
function normaliseUuid(text: string, input: string): string {
  const t = text.trim();
  if (!UUID_RE.test(t))
    throw new GtidError(input, `"${t}" is not a server UUID (expected 8-4-4-4-12 hex digits)`);
  const hex = t.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function parseGno(text: string, input: string): number {
  if (!GNO_RE.test(text)) throw new GtidError(input, `"${text}" is not a transaction number`);
  const n = Number(text);
  if (n < 1) throw new GtidError(input, 'transaction numbers start at 1');
  if (!Number.isSafeInteger(n)) throw new GtidError(input, `transaction number ${text} is above 2^53 - 1`);
  return n;
}

/** Sorts and merges overlapping or adjacent intervals into a new array. */
function normaliseIntervals(list: readonly GnoInterval[]): GnoInterval[] {
  const sorted = [...list].sort((a, b) => a.start - b.start);
  const out: GnoInterval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end + 1) {
      if (iv.end > last.end) out[out.length - 1] = { start: last.start, end: iv.end };
    } else {
      out.push({ start: iv.start, end: iv.end });
    }
  }
  return out;
}

/** `a` minus `b`; both normalised. */
function subtractIntervals(a: readonly GnoInterval[], b: readonly GnoInterval[]): GnoInterval[] {
  const out: GnoInterval[] = [];
  let j = 0;
  for (const iv of a) {
    let start = iv.start;
    const end = iv.end;
    while (j < b.length && b[j]!.end < start) j++;
    let k = j;
    while (k < b.length && b[k]!.start <= end && start <= end) {
      const cut = b[k]!;
      if (cut.start > start) out.push({ start, end: Math.min(end, cut.start - 1) });
      start = Math.max(start, cut.end + 1);
      k++;
    }
    if (start <= end) out.push({ start, end });
  }
  return out;
}

/** True when every interval of `inner` lies inside one of `outer` (both normalised). */
function intervalsContain(outer: readonly GnoInterval[], inner: readonly GnoInterval[]): boolean {
  let j = 0;
  for (const iv of inner) {
    while (j < outer.length && outer[j]!.end < iv.start) j++;
    const o = outer[j];
    if (!o || o.start > iv.start || o.end < iv.end) return false;
  }
  return true;
}

/**
 * An immutable MySQL GTID set (gtid_executed, gtid_purged, a PREVIOUS_GTIDS event). Every operation
 * returns a new set; `toString()` gives the canonical form, so two equal sets print the same.
 */
export class MysqlGtidSet {
  /** `uuid` or `uuid:tag` -> normalised, non-empty interval list. */
  private readonly map: ReadonlyMap<string, readonly GnoInterval[]>;

  private constructor(map: Map<string, GnoInterval[]>) {
    this.map = map;
  }

  /** The empty set. */
  static readonly EMPTY = new MysqlGtidSet(new Map());

  /**
   * Parses the text form the server prints and accepts (`SELECT @@gtid_executed`): comma-separated
   * `uuid[:tag]:interval[:interval...]` groups, where a group may switch tags
   * (`uuid:1-5:tag:1-3`). Whitespace and newlines are ignored; the empty string is the empty set.
   *
   * @throws GtidError (GTID_INVALID) naming the bad part
   */
  static parse(text: string): MysqlGtidSet {
    const map = new Map<string, GnoInterval[]>();
    const compact = text.replace(/\s+/g, '');
    if (compact === '') return MysqlGtidSet.EMPTY;
    for (const group of compact.split(',')) {
      if (group === '') throw new GtidError(text, 'empty element between commas');
      const parts = group.split(':');
      const uuid = normaliseUuid(parts[0]!, text);
      if (parts.length < 2)
        throw new GtidError(text, `"${group}" has no transaction numbers (expected uuid:1-5)`);
      let tag = '';
      let sawInterval = false;
      for (const part of parts.slice(1)) {
        if (part === '') throw new GtidError(text, `empty element in "${group}"`);
        if (/^[0-9]/.test(part)) {
          const dash = part.indexOf('-');
          const start = parseGno(dash === -1 ? part : part.slice(0, dash), text);
          const end = dash === -1 ? start : parseGno(part.slice(dash + 1), text);
          if (end < start) throw new GtidError(text, `interval ${part} ends before it starts`);
          const key = keyOf(uuid, tag);
          const list = map.get(key) ?? [];
          list.push({ start, end });
          map.set(key, list);
          sawInterval = true;
        } else {
          if (!TAG_RE.test(part)) {
            throw new GtidError(
              text,
              `"${part}" is neither an interval nor a tag (tags: a letter or _, then letters, digits, _; at most 32)`,
            );
          }
          if (tag !== '' && !sawInterval)
            throw new GtidError(text, `tag "${tag}" in "${group}" has no intervals`);
          tag = part.toLowerCase();
          sawInterval = false;
        }
      }
      if (!sawInterval) throw new GtidError(text, `"${group}" ends without transaction numbers`);
    }
    for (const [k, v] of map) map.set(k, normaliseIntervals(v));
    return new MysqlGtidSet(map);
  }

  /** Builds a set from (uuid, tag, intervals) entries, e.g. decoded from a PREVIOUS_GTIDS event. */
  static fromEntries(
    entries: Iterable<{ uuid: string; tag?: string; intervals: readonly GnoInterval[] }>,
  ): MysqlGtidSet {
    const map = new Map<string, GnoInterval[]>();
    for (const e of entries) {
      const uuid = normaliseUuid(e.uuid, e.uuid);
      const key = keyOf(uuid, (e.tag ?? '').toLowerCase());
      for (const iv of e.intervals) {
        if (!(iv.start >= 1 && iv.end >= iv.start)) {
          throw new GtidError(`${key}:${iv.start}-${iv.end}`, 'interval must satisfy 1 <= start <= end');
        }
      }
      map.set(key, [...(map.get(key) ?? []), ...e.intervals]);
    }
    for (const [k, v] of map) {
      const n = normaliseIntervals(v);
      if (n.length) map.set(k, n);
      else map.delete(k);
    }
    return new MysqlGtidSet(map);
  }

  /** A set holding one GTID. */
  static of(gtid: MysqlGtid): MysqlGtidSet {
    return MysqlGtidSet.fromEntries([
      { uuid: gtid.uuid, tag: gtid.tag, intervals: [{ start: gtid.gno, end: gtid.gno }] },
    ]);
  }

  /** True when the set has no transactions. */
  get isEmpty(): boolean {
    return this.map.size === 0;
  }

  /** Number of transactions in the set. */
  get size(): number {
    let n = 0;
    for (const list of this.map.values()) for (const iv of list) n += iv.end - iv.start + 1;
    return n;
  }

  /** The (uuid, tag, intervals) entries in canonical order. */
  entries(): { uuid: string; tag: string; intervals: readonly GnoInterval[] }[] {
    return [...this.map.keys()].sort(compareKeys).map((k) => {
      const [uuid, tag = ''] = k.split(':') as [string, string?];
      return { uuid, tag, intervals: this.map.get(k)! };
    });
  }

  /** Every transaction of `this` or `other`. */
  union(other: MysqlGtidSet): MysqlGtidSet {
    const map = new Map<string, GnoInterval[]>();
    for (const [k, v] of this.map) map.set(k, [...v]);
    for (const [k, v] of other.map) map.set(k, normaliseIntervals([...(map.get(k) ?? []), ...v]));
    return new MysqlGtidSet(map);
  }

  /** The transactions of `this` that are not in `other`. */
  subtract(other: MysqlGtidSet): MysqlGtidSet {
    const map = new Map<string, GnoInterval[]>();
    for (const [k, v] of this.map) {
      const cut = other.map.get(k);
      const rest = cut ? subtractIntervals(v, cut) : [...v];
      if (rest.length) map.set(k, rest);
    }
    return new MysqlGtidSet(map);
  }

  /** True when every transaction of `other` (a set or one GTID) is in `this`. */
  contains(other: MysqlGtidSet | MysqlGtid): boolean {
    const set = other instanceof MysqlGtidSet ? other : MysqlGtidSet.of(other);
    for (const [k, v] of set.map) {
      const mine = this.map.get(k);
      if (!mine || !intervalsContain(mine, v)) return false;
    }
    return true;
  }

  /** True when both sets hold the same transactions. */
  equals(other: MysqlGtidSet): boolean {
    return this.toString() === other.toString();
  }

  /** The canonical text form (see the module comment); '' for the empty set. */
  toString(): string {
    const byUuid = new Map<string, string[]>();
    for (const { uuid, tag, intervals } of this.entries()) {
      const text = intervals
        .map((iv) => (iv.start === iv.end ? `${iv.start}` : `${iv.start}-${iv.end}`))
        .join(':');
      const parts = byUuid.get(uuid) ?? [];
      parts.push(tag ? `${tag}:${text}` : text);
      byUuid.set(uuid, parts);
    }
    return [...byUuid].map(([uuid, parts]) => `${uuid}:${parts.join(':')}`).join(',');
  }
}

/** Canonical order: by uuid, untagged before tagged, then by tag. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Formats one GTID: `uuid:gno` or `uuid:tag:gno`. */
export function formatMysqlGtid(gtid: MysqlGtid): string {
  return gtid.tag ? `${gtid.uuid}:${gtid.tag}:${gtid.gno}` : `${gtid.uuid}:${gtid.gno}`;
}

/**
 * Parses one GTID (`uuid:gno` or `uuid:tag:gno`).
 *
 * @throws GtidError (GTID_INVALID)
 */
export function parseMysqlGtid(text: string): MysqlGtid {
  const parts = text.trim().split(':');
  if (parts.length !== 2 && parts.length !== 3)
    throw new GtidError(text, 'expected uuid:number or uuid:tag:number');
  const uuid = normaliseUuid(parts[0]!, text);
  let tag = '';
  if (parts.length === 3) {
    if (!TAG_RE.test(parts[1]!)) throw new GtidError(text, `"${parts[1]}" is not a valid tag`);
    tag = parts[1]!.toLowerCase();
  }
  return { uuid, tag, gno: parseGno(parts[parts.length - 1]!, text) };
}
