/**
 * Where archived binlogs live in the repository (see docs/archive-layout.md):
 *
 * ```
 * binlogs/<timeline>/<binlog file>/<start offset, 20 digits>.zst   one segment
 * timelines/<timeline>.json                                       who wrote the timeline, where it forked
 * gaps/<timeline>/<binlog file>.json                              a file the source purged before it was archived
 * locks/archiver.json                                             the archiver's lease
 * ```
 *
 * Keys are deterministic: a retried upload of the same segment rewrites the same object, never a twin.
 * Offsets are zero-padded so that the store's byte-order listing is the order of the file.
 */
export const BINLOGS_PREFIX = 'binlogs/';
/** Prefix of the timeline records. */
export const TIMELINES_PREFIX = 'timelines/';
/** Prefix of the gap records. */
export const GAPS_PREFIX = 'gaps/';
/** Key of the archiver's lease. */
export const ARCHIVER_LEASE_KEY = 'locks/archiver.json';

/** Digits of a segment's start offset in its key (offsets up to 2^64 fit). */
const OFFSET_DIGITS = 20;
/** Digits of a timeline id. */
const TIMELINE_DIGITS = 6;

const TIMELINE_RE = /^\d{6}$/;
/** A binlog file name as MySQL/MariaDB write them: a base name, a dot, a sequence number. */
const FILE_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(\d+)$/;

/** A segment key, split. */
export interface SegmentKeyParts {
  timeline: string;
  file: string;
  start: number;
}

/** True for a timeline id: six decimal digits, `000001` upwards. */
export function isTimelineId(id: string): boolean {
  return TIMELINE_RE.test(id);
}

/** The timeline id for number `n` (1-based). */
export function formatTimelineId(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n >= 10 ** TIMELINE_DIGITS) {
    throw new RangeError(`timeline number ${n} is outside 1..999999`);
  }
  return String(n).padStart(TIMELINE_DIGITS, '0');
}

/** The id following the highest of `existing` (`000001` when there is none). */
export function nextTimelineId(existing: Iterable<string>): string {
  let max = 0;
  for (const id of existing) if (isTimelineId(id)) max = Math.max(max, Number(id));
  return formatTimelineId(max + 1);
}

/** True for a binlog file name we accept in keys (`mysql-bin.000042`): no slashes, a numeric suffix. */
export function isBinlogFileName(file: string): boolean {
  return FILE_RE.test(file) && file !== '.' && file !== '..';
}

/**
 * The base name and sequence number of a binlog file name (`mysql-bin.000042` -> `mysql-bin`, 42).
 *
 * @throws RangeError for a name without a numeric suffix
 */
export function parseBinlogFileName(file: string): { base: string; sequence: number; digits: number } {
  const m = FILE_RE.exec(file);
  if (!m) throw new RangeError(`"${file}" is not a binlog file name (expected base.NNNNNN)`);
  const digits = m[1]!;
  return {
    base: file.slice(0, file.length - digits.length - 1),
    sequence: Number(digits),
    digits: digits.length,
  };
}

/** The file name `steps` after `file` in the same sequence (`mysql-bin.000042` + 1 -> `mysql-bin.000043`). */
export function binlogFileAfter(file: string, steps = 1): string {
  const { base, sequence, digits } = parseBinlogFileName(file);
  return `${base}.${String(sequence + steps).padStart(digits, '0')}`;
}

/**
 * Orders binlog file names by base name, then sequence number (so `x.999999` < `x.1000000`,
 * which a plain string comparison gets wrong). Names without a sequence sort by string.
 */
export function compareBinlogFiles(a: string, b: string): number {
  if (isBinlogFileName(a) && isBinlogFileName(b)) {
    const pa = parseBinlogFileName(a);
    const pb = parseBinlogFileName(b);
    if (pa.base !== pb.base) return pa.base < pb.base ? -1 : 1;
    return pa.sequence - pb.sequence;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function assertTimeline(timeline: string): void {
  if (!isTimelineId(timeline))
    throw new RangeError(`"${timeline}" is not a timeline id (six digits, e.g. 000001)`);
}

function assertFile(file: string): void {
  if (!isBinlogFileName(file))
    throw new RangeError(`"${file}" is not a binlog file name (expected base.NNNNNN)`);
}

/** Prefix (with trailing slash) of every segment of `timeline`. */
export function timelineSegmentsPrefix(timeline: string): string {
  assertTimeline(timeline);
  return `${BINLOGS_PREFIX}${timeline}/`;
}

/** Prefix (with trailing slash) of the segments of one binlog file of `timeline`. */
export function fileSegmentsPrefix(timeline: string, file: string): string {
  assertFile(file);
  return `${timelineSegmentsPrefix(timeline)}${file}/`;
}

/** `binlogs/<timeline>/<file>/<start, 20 digits>.zst`. */
export function segmentKey(timeline: string, file: string, start: number): string {
  if (!Number.isSafeInteger(start) || start < 0)
    throw new RangeError(`segment start ${start} is not an offset`);
  return `${fileSegmentsPrefix(timeline, file)}${String(start).padStart(OFFSET_DIGITS, '0')}.zst`;
}

/** Splits a segment key; undefined for any other key (foreign objects are ignored, not errors). */
export function parseSegmentKey(key: string): SegmentKeyParts | undefined {
  const m = /^binlogs\/(\d{6})\/([^/]+)\/(\d{20})\.zst$/.exec(key);
  if (!m || !isBinlogFileName(m[2]!)) return undefined;
  const start = Number(m[3]);
  if (!Number.isSafeInteger(start)) return undefined;
  return { timeline: m[1]!, file: m[2]!, start };
}

/** `timelines/<timeline>.json`. */
export function timelineKey(timeline: string): string {
  assertTimeline(timeline);
  return `${TIMELINES_PREFIX}${timeline}.json`;
}

/** The timeline id of a timeline record key, or undefined. */
export function parseTimelineKey(key: string): string | undefined {
  const m = /^timelines\/(\d{6})\.json$/.exec(key);
  return m ? m[1] : undefined;
}

/** `gaps/<timeline>/<file>.json`. */
export function gapKey(timeline: string, file: string): string {
  assertTimeline(timeline);
  assertFile(file);
  return `${GAPS_PREFIX}${timeline}/${file}.json`;
}

/** Splits a gap key, or undefined. */
export function parseGapKey(key: string): { timeline: string; file: string } | undefined {
  const m = /^gaps\/(\d{6})\/([^/]+)\.json$/.exec(key);
  if (!m || !isBinlogFileName(m[2]!)) return undefined;
  return { timeline: m[1]!, file: m[2]! };
}
