import { fileSegmentsPrefix, isBinlogFileName } from './binlog-keys.js';

/** Digits of an offset in a segment key (as in binlog-keys.ts). */
const OFFSET_DIGITS = 20;

/** A compacted object's key, split: it holds bytes `[start, end)` of `file`. */
export interface CompactedSegmentKeyParts {
  timeline: string;
  file: string;
  start: number;
  end: number;
}

const pad = (n: number): string => String(n).padStart(OFFSET_DIGITS, '0');

/**
 * `binlogs/<timeline>/<file>/<start, 20 digits>-<end, 20 digits>.zst`: the key of an object written
 * by `binlog compact`, holding bytes `[start, end)` of one file in the segment format. The range is
 * in the key so that `readBinlogCatalog` can tell, from a listing alone, which plain segments
 * (`<start>.zst`) it covers. Deterministic: a re-run of the same compaction rewrites the same key.
 * See docs/archive-layout.md, "Compaction".
 *
 * @throws RangeError for a bad timeline, file name or range
 */
export function compactedSegmentKey(timeline: string, file: string, start: number, end: number): string {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
    throw new RangeError(`${start}..${end} is not a byte range of a binlog file`);
  }
  return `${fileSegmentsPrefix(timeline, file)}${pad(start)}-${pad(end)}.zst`;
}

/** Splits a compacted object's key; undefined for any other key (plain segments included). */
export function parseCompactedSegmentKey(key: string): CompactedSegmentKeyParts | undefined {
  const m = /^binlogs\/(\d{6})\/([^/]+)\/(\d{20})-(\d{20})\.zst$/.exec(key);
  if (!m || !isBinlogFileName(m[2]!)) return undefined;
  const start = Number(m[3]);
  const end = Number(m[4]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) return undefined;
  return { timeline: m[1]!, file: m[2]!, start, end };
}
