import { isPitrError } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import type { CatalogFileIndex } from './binlog-catalog.js';
import { decodeBinlogFileIndex } from './binlog-file-index.js';
import { mapLimit } from './map-limit.js';
import type { SegmentHeader } from './segment-header.js';

/** Something wrong with a per-file index (`verify` reports it). */
export interface FileIndexFinding {
  key: string;
  timeline: string;
  file: string;
  /**
   * `unreadable`: damaged (bad JSON or SHA-256); `too-new`: written by a newer mysql-pitr;
   * `mismatch`: an entry names an existing object of the same size but records another header.
   */
  kind: 'unreadable' | 'too-new' | 'mismatch';
  message: string;
}

/**
 * Checks every index in `indexes` against the objects `verify` read: each must decode (format,
 * SHA-256), and each entry naming an object that exists with the same stored size must hold exactly
 * that object's header (readers would otherwise plan with a wrong header). Entries naming objects
 * that are gone are stale, not wrong: readers ignore them. Readers fall back to the segment headers
 * whatever is found, so nothing here loses data; it says what to repair.
 *
 * @param objects every binlog object verify read, by key: stored size and header (undefined when
 *   the header could not be read: such entries are not compared)
 * @throws StorageError for storage failures
 */
export async function checkFileIndexes(
  store: ObjectStore,
  indexes: readonly CatalogFileIndex[],
  objects: ReadonlyMap<string, { size: number; header: SegmentHeader | undefined }>,
  concurrency = 4,
): Promise<FileIndexFinding[]> {
  const found = await mapLimit(indexes, concurrency, async (i): Promise<FileIndexFinding[]> => {
    const base = { key: i.key, timeline: i.timeline, file: i.file };
    let objectsOf;
    try {
      objectsOf = decodeBinlogFileIndex(await store.get(i.key), i.key).objects;
    } catch (err) {
      if (isPitrError(err, 'OBJECT_NOT_FOUND')) return [];
      if (isPitrError(err, 'FORMAT_TOO_NEW')) {
        return [{ ...base, kind: 'too-new', message: (err as Error).message }];
      }
      if (isPitrError(err, 'CORRUPT_DATA', 'TRUNCATED_DATA')) {
        return [{ ...base, kind: 'unreadable', message: (err as Error).message }];
      }
      throw err;
    }
    const prefix = i.key.slice(0, i.key.lastIndexOf('/') + 1);
    const wrong = objectsOf.filter((e) => {
      const o = objects.get(prefix + e.name);
      return o?.header !== undefined && o.size === e.size && !sameHeader(o.header, e.header);
    });
    if (wrong.length === 0) return [];
    return [
      {
        ...base,
        kind: 'mismatch',
        message:
          `${i.key} records headers that differ from the objects' own for ${wrong.length} object(s) ` +
          `(first: ${prefix}${wrong[0]!.name}): readers would plan with wrong headers. Delete the index ` +
          '(it only repeats the headers; readers then read them from the objects) and run ' +
          '`mysql-pitr binlog compact` to write it again',
      },
    ];
  });
  return found.flat();
}

/** Header equality field by field (key order and absent optional fields do not matter). */
function sameHeader(a: SegmentHeader, b: SegmentHeader): boolean {
  const norm = (h: SegmentHeader): string =>
    JSON.stringify([
      h.timeline,
      h.file,
      h.start,
      h.end,
      h.sha256,
      h.firstCommit,
      h.lastCommit,
      Object.entries(h.gtids).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
      h.gtidSet,
      h.transactions,
      h.events,
      h.splitTransaction,
      h.closesFile,
      h.nextFile ?? null,
    ]);
  return norm(a) === norm(b);
}
