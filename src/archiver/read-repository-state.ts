import { MariadbGtidPos, parseMariadbGtid } from '../gtid/index.js';
import {
  BINLOGS_PREFIX,
  GAPS_PREFIX,
  TIMELINES_PREFIX,
  compareSegments,
  isTimelineId,
  parseSegmentKey,
  parseTimelineKey,
  parseTimelineRecord,
  readSegmentHeader,
  timelineKey,
  timelineSegmentsPrefix,
  type TimelineRecord,
} from '../catalog/index.js';
import { ObjectNotFoundError, type ObjectStore } from '../storage/index.js';
import type { RepositoryState } from './archive-start-plan.js';

/** Segments read back (newest first) to find the last archived GTID of every domain. */
const ARCHIVED_GTID_LOOKBACK = 20;

/**
 * What the repository holds for planArchiveStart: every timeline id in use, the newest timeline's
 * record, its last segment's header, and (MariaDB) the last archived GTID of every domain.
 *
 * @throws StorageError when the store cannot be read; CorruptDataError for a damaged timeline
 *   record or segment header
 */
export async function readRepositoryState(store: ObjectStore): Promise<RepositoryState> {
  // every prefix that holds timeline ids: a timeline whose record was lost still has segments
  // (or gaps), and a new timeline must never take its id (it would write into its keys)
  const found = new Set<string>();
  for await (const obj of store.list(TIMELINES_PREFIX)) {
    const id = parseTimelineKey(obj.key);
    if (id) found.add(id);
  }
  for (const prefix of [BINLOGS_PREFIX, GAPS_PREFIX]) {
    for (const id of await timelineIdsUnder(store, prefix)) found.add(id);
  }
  const ids = [...found];
  const newestId = ids.sort().at(-1);
  if (!newestId) return { timelineIds: ids };
  let record: TimelineRecord | undefined;
  try {
    record = parseTimelineRecord(
      (await store.get(timelineKey(newestId))).toString('utf8'),
      timelineKey(newestId),
    );
  } catch (err) {
    if (!(err instanceof ObjectNotFoundError)) throw err;
  }
  const keys: { key: string; file: string; start: number }[] = [];
  for await (const obj of store.list(timelineSegmentsPrefix(newestId))) {
    const parts = parseSegmentKey(obj.key);
    if (parts) keys.push({ key: obj.key, ...parts });
  }
  keys.sort(compareSegments);
  const lastKey = keys.at(-1);
  const last = lastKey ? (await readSegmentHeader(store, lastKey.key)).header : undefined;
  // MariaDB: the last archived GTID per domain, from the last segments that end transactions
  let archived = MariadbGtidPos.EMPTY;
  for (let i = keys.length - 1, n = 0; i >= 0 && n < ARCHIVED_GTID_LOOKBACK; i--, n++) {
    const h = i === keys.length - 1 ? last! : (await readSegmentHeader(store, keys[i]!.key)).header;
    for (const [domain, range] of Object.entries(h.gtids)) {
      if (archived.get(Number(domain)) === undefined)
        archived = archived.advance(parseMariadbGtid(range.last));
    }
    if (!archived.isEmpty) break;
  }
  return {
    timelineIds: ids,
    newest: { id: newestId, record },
    ...(last ? { last } : {}),
    ...(archived.isEmpty ? {} : { archivedGtidPos: archived.toString() }),
  };
}

/**
 * The timeline ids that have objects under `prefix` (`binlogs/` or `gaps/`: `<prefix><id>/...`),
 * with one listing request per timeline rather than a listing of every segment: after the first
 * key of a timeline, the listing skips past its last possible key.
 */
export async function timelineIdsUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  let startAfter: string | undefined;
  for (;;) {
    let next: string | undefined;
    for await (const obj of store.list(prefix, startAfter ? { startAfter } : {})) {
      next = obj.key.slice(prefix.length).split('/')[0];
      break;
    }
    if (next === undefined) return ids;
    if (isTimelineId(next)) ids.push(next);
    // '~' sorts after every character of a file name or key segment ([A-Za-z0-9_.-])
    startAfter = `${prefix}${next}/~`;
  }
}
