import { CorruptDataError } from '../errors/index.js';

/** Version of the timeline record layout. */
export const TIMELINE_FORMAT = 1;

/**
 * Who writes a binlog history. Two sources with the same identity write the same history (a
 * restart); anything else is another history and gets its own timeline, even with the same file
 * names (failover, a restored server).
 */
export interface SourceIdentity {
  flavor: 'mariadb' | 'mysql';
  /** @@server_id. */
  serverId: number;
  /** MySQL: @@server_uuid. */
  serverUuid?: string;
  /** MariaDB: @@gtid_domain_id. */
  gtidDomainId?: number;
}

/** Where a timeline forked from its parent: the parent's last archived position. */
export interface TimelineFork {
  timeline: string;
  file: string;
  position: number;
}

/**
 * `timelines/<timeline>.json`: written once (put-if-absent) before the timeline's first segment.
 */
export interface TimelineRecord {
  format: typeof TIMELINE_FORMAT;
  timeline: string;
  /** ISO 8601. */
  createdAt: string;
  source: SourceIdentity & {
    /** VERSION() of the source when the timeline started. */
    version: string;
    /** `mysql://user@host:port` as configured (no password). */
    address: string;
  };
  /** The first binlog file archived on this timeline. */
  firstFile: string;
  /**
   * The timeline this one follows: its id (as the archiver writes it when it follows a new primary)
   * or `TimelineFork` (its id and last archived position, as older archivers wrote it). Absent for
   * the first timeline. Read it with `parentTimelineId`.
   */
  parent?: TimelineFork | string;
  /**
   * The GTID position at the fork, when the archiver followed a failover or switchover: MariaDB
   * gtid list text (`0-1-100,1-5-7`), MySQL GTID set text. Transactions in it are the parent's;
   * this timeline continues from the first transaction not in it. Absent in older records: readers
   * then infer the fork by GTID continuity (restoreChain, src/catalog/timeline-chain.ts).
   */
  forkGtid?: string;
  /** Who started the timeline (`archiver on host pid N`, a CLI command...), for operators. */
  startedBy?: string;
  /** Why this timeline was started (a new repository, RESET MASTER, another server...). */
  reason: string;
}

/** The id of the timeline `record` follows (either form of `parent`), if any. */
export function parentTimelineId(record: TimelineRecord | undefined): string | undefined {
  const p = record?.parent;
  return typeof p === 'string' ? p : p?.timeline;
}

/** True when both identities name the same source history. */
export function sameSourceIdentity(a: SourceIdentity, b: SourceIdentity): boolean {
  return (
    a.flavor === b.flavor &&
    a.serverId === b.serverId &&
    (a.serverUuid ?? '') === (b.serverUuid ?? '') &&
    (a.gtidDomainId ?? 0) === (b.gtidDomainId ?? 0)
  );
}

/** `mariadb server_id 5 domain 0` / `mysql server_uuid ...`, for messages. */
export function describeSourceIdentity(id: SourceIdentity): string {
  return id.flavor === 'mariadb'
    ? `MariaDB server_id ${id.serverId} gtid_domain_id ${id.gtidDomainId ?? 0}`
    : `MySQL server_id ${id.serverId} server_uuid ${id.serverUuid ?? '?'}`;
}

/** JSON text of a record. */
export function serializeTimelineRecord(record: TimelineRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/**
 * Parses and validates a timeline record.
 *
 * @throws CorruptDataError naming `object` when it is not a valid record
 */
export function parseTimelineRecord(text: string, object: string): TimelineRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CorruptDataError(object, undefined, 'the timeline record is not valid JSON', { cause: err });
  }
  const r = v as Partial<TimelineRecord> | null;
  const s = r?.source;
  if (
    !r ||
    r.format !== TIMELINE_FORMAT ||
    typeof r.timeline !== 'string' ||
    typeof r.createdAt !== 'string' ||
    typeof r.firstFile !== 'string' ||
    !s ||
    (s.flavor !== 'mariadb' && s.flavor !== 'mysql') ||
    typeof s.serverId !== 'number'
  ) {
    throw new CorruptDataError(
      object,
      undefined,
      'the timeline record lacks format 1, timeline, createdAt, firstFile or source identity; restore it from a copy ' +
        'or move it aside (the archiver then starts a new timeline)',
    );
  }
  const parent = r.parent as unknown;
  if (
    (parent !== undefined &&
      typeof parent !== 'string' &&
      (typeof parent !== 'object' ||
        parent === null ||
        typeof (parent as TimelineFork).timeline !== 'string')) ||
    (r.forkGtid !== undefined && typeof r.forkGtid !== 'string') ||
    (r.startedBy !== undefined && typeof r.startedBy !== 'string')
  ) {
    throw new CorruptDataError(
      object,
      undefined,
      'the timeline record has a malformed parent, forkGtid or startedBy; restore it from a copy',
    );
  }
  return r as TimelineRecord;
}
