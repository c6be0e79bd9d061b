// The header of a segment object: a zstd skippable frame holding UTF-8 JSON, in front of the zstd
// frame(s) of the segment's binlog bytes.
// https://github.com/facebook/zstd/blob/dev/doc/zstd_compression_format.md#skippable-frames
//
// zstd (the CLI and libzstd) skips skippable frames, so `zstd -dc segment.zst` yields the raw
// binlog bytes; our reader parses the header first (see docs/archive-layout.md).
import { CorruptDataError } from '../errors/index.js';
import { checkFormatVersion } from './format-version.js';

/** Magic number of the skippable frame we use (0x184D2A50, the first of the 16 skippable magics). */
export const SEGMENT_HEADER_MAGIC = 0x184d2a50;
/** Bytes before the JSON: magic (u32 LE) and length (u32 LE). */
export const SEGMENT_HEADER_PREFIX_BYTES = 8;
/** How much of an object a reader fetches first to find the header (most headers are < 1 KiB). */
export const SEGMENT_HEADER_PROBE_BYTES = 4096;
/** The largest header we write or accept. */
export const SEGMENT_HEADER_MAX_BYTES = 1024 * 1024;
/** Version of the header layout. */
export const SEGMENT_FORMAT = 1;

/** First and last GTID of one MariaDB replication domain within a segment. */
export interface DomainGtidRange {
  first: string;
  last: string;
}

/**
 * What a segment holds: the bytes `[start, end)` of one binlog file of one timeline.
 * Reassembly of a file is the concatenation of its segments' bytes in `start` order; the first
 * segment starts at 0 and holds the 4-byte magic.
 */
export interface SegmentHeader {
  format: typeof SEGMENT_FORMAT;
  timeline: string;
  /** The source's binlog file name. */
  file: string;
  /** First byte (inclusive). */
  start: number;
  /** Last byte (exclusive). */
  end: number;
  /** SHA-256 (hex) of the uncompressed bytes. */
  sha256: string;
  /** Commit time (ISO 8601) of the first transaction that ends in this segment; null when none ends here. */
  firstCommit: string | null;
  /** Commit time of the last transaction that ends in this segment; null when none ends here. */
  lastCommit: string | null;
  /** MariaDB: per gtid_domain_id, the first and last GTID of the transactions that end here. */
  gtids: Record<string, DomainGtidRange>;
  /** MySQL: the GTID set of the transactions that end here (empty for MariaDB or without GTIDs). */
  gtidSet: string;
  /** Transactions that end in this segment. */
  transactions: number;
  /** Events in this segment (whole events only: segments are cut between events). */
  events: number;
  /** The segment starts or ends inside a transaction (a transaction bigger than the segment size). */
  splitTransaction: boolean;
  /** The segment ends with the file's ROTATE or STOP event: nothing follows in this file. */
  closesFile: boolean;
  /** With `closesFile` by ROTATE: the file the source continues in. */
  nextFile?: string;
  /** The epoch of the archiver lease under which the segment was written (see src/archiver/lease.ts). */
  leaseEpoch?: number;
}

/**
 * The skippable frame holding `header` as JSON.
 *
 * @throws RangeError when the JSON is larger than SEGMENT_HEADER_MAX_BYTES
 */
export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > SEGMENT_HEADER_MAX_BYTES) {
    throw new RangeError(`segment header of ${json.length} bytes is larger than ${SEGMENT_HEADER_MAX_BYTES}`);
  }
  const out = Buffer.allocUnsafe(SEGMENT_HEADER_PREFIX_BYTES + json.length);
  out.writeUInt32LE(SEGMENT_HEADER_MAGIC, 0);
  out.writeUInt32LE(json.length, 4);
  json.copy(out, SEGMENT_HEADER_PREFIX_BYTES);
  return out;
}

/**
 * Total bytes of the header frame (prefix + JSON) given at least its first 8 bytes.
 *
 * @throws CorruptDataError when the object does not start with our skippable frame
 */
export function segmentHeaderFrameLength(prefix: Buffer, object: string): number {
  if (prefix.length < SEGMENT_HEADER_PREFIX_BYTES) {
    throw new CorruptDataError(
      object,
      0,
      `only ${prefix.length} bytes: a segment starts with an 8-byte header frame`,
      {
        truncated: true,
      },
    );
  }
  const magic = prefix.readUInt32LE(0);
  if (magic !== SEGMENT_HEADER_MAGIC) {
    throw new CorruptDataError(
      object,
      0,
      `starts with 0x${magic.toString(16).padStart(8, '0')}, not the segment header frame 0x184d2a50: ` +
        'it is not a mysql-pitr segment (or it was overwritten); re-archive the file from the source if it still has it',
    );
  }
  const length = prefix.readUInt32LE(4);
  if (length > SEGMENT_HEADER_MAX_BYTES) {
    throw new CorruptDataError(
      object,
      4,
      `segment header claims ${length} bytes, more than ${SEGMENT_HEADER_MAX_BYTES}`,
    );
  }
  return SEGMENT_HEADER_PREFIX_BYTES + length;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is string | null => v === null || (isStr(v) && !Number.isNaN(Date.parse(v)));

/**
 * Decodes the header at the start of a segment object. `data` must hold at least the whole header
 * frame (see segmentHeaderFrameLength); bytes after it are ignored.
 *
 * @throws CorruptDataError (CORRUPT_DATA) for a missing frame, bad JSON or a header that fails
 *   validation; (TRUNCATED_DATA) when `data` ends inside the frame
 * @throws FormatTooNewError (FORMAT_TOO_NEW) when a newer mysql-pitr wrote it
 */
export function decodeSegmentHeader(
  data: Buffer,
  object: string,
): { header: SegmentHeader; frameLength: number } {
  const frameLength = segmentHeaderFrameLength(data, object);
  if (data.length < frameLength) {
    throw new CorruptDataError(
      object,
      data.length,
      `the header frame is ${frameLength} bytes but only ${data.length} were read`,
      {
        truncated: true,
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(data.subarray(SEGMENT_HEADER_PREFIX_BYTES, frameLength).toString('utf8'));
  } catch (err) {
    throw new CorruptDataError(object, SEGMENT_HEADER_PREFIX_BYTES, 'the segment header is not valid JSON', {
      cause: err,
    });
  }
  const bad = (what: string): CorruptDataError =>
    new CorruptDataError(object, SEGMENT_HEADER_PREFIX_BYTES, `the segment header ${what}`);
  if (typeof value !== 'object' || value === null) throw bad('is not a JSON object');
  const h = value as Record<string, unknown>;
  checkFormatVersion(h.format, SEGMENT_FORMAT, object, 'segment header');
  if (!isStr(h.timeline) || !isStr(h.file)) throw bad('lacks timeline or file');
  if (!isInt(h.start) || !isInt(h.end) || h.end <= h.start)
    throw bad(`has an impossible range ${String(h.start)}..${String(h.end)}`);
  if (!isStr(h.sha256) || !/^[0-9a-f]{64}$/.test(h.sha256)) throw bad('lacks a SHA-256');
  if (!isTime(h.firstCommit) || !isTime(h.lastCommit)) throw bad('has an invalid commit time');
  if (!isInt(h.transactions) || !isInt(h.events)) throw bad('lacks transaction or event counts');
  if (typeof h.splitTransaction !== 'boolean' || typeof h.closesFile !== 'boolean')
    throw bad('lacks its flags');
  if (typeof h.gtids !== 'object' || h.gtids === null) throw bad('lacks gtids');
  for (const r of Object.values(h.gtids as Record<string, unknown>)) {
    const range = r as Record<string, unknown> | null;
    if (!range || !isStr(range.first) || !isStr(range.last)) throw bad('has a malformed GTID range');
  }
  if (h.gtidSet !== undefined && !isStr(h.gtidSet)) throw bad('has a malformed gtidSet');
  if (h.nextFile !== undefined && !isStr(h.nextFile)) throw bad('has a malformed nextFile');
  const header: SegmentHeader = {
    format: SEGMENT_FORMAT,
    timeline: h.timeline,
    file: h.file,
    start: h.start,
    end: h.end,
    sha256: h.sha256,
    firstCommit: h.firstCommit,
    lastCommit: h.lastCommit,
    gtids: h.gtids as Record<string, DomainGtidRange>,
    gtidSet: (h.gtidSet as string | undefined) ?? '',
    transactions: h.transactions,
    events: h.events,
    splitTransaction: h.splitTransaction,
    closesFile: h.closesFile,
    ...(isStr(h.nextFile) ? { nextFile: h.nextFile } : {}),
    ...(isInt(h.leaseEpoch) ? { leaseEpoch: h.leaseEpoch } : {}),
  };
  return { header, frameLength };
}

/**
 * The header of one object holding the bytes of `headers` (consecutive segments of one file, in
 * order), as compaction writes it: the range from the first start to the last end, the commit-time
 * range of the transactions ending anywhere in it, per-domain GTID ranges from the first segment
 * that has one to the last, summed counts, the closing flags of the last segment. `sha256` is the
 * caller's hash of the merged bytes (it cannot be derived from the parts' hashes); `unionGtidSets`
 * unions MySQL GTID sets (this layer cannot parse them; the archiver passes `MysqlGtidSet`'s union).
 *
 * `splitTransaction` is true when the first part may start inside a transaction (it is not at
 * offset 0 and is marked split) or the last part may end inside one (marked split and not closing
 * the file); a part's flag does not say which of its ends is split, so this is the conservative
 * reading, and for one part it is that part's flag.
 *
 * @throws RangeError when `headers` is empty, mixes timelines or files, or does not join up
 *   (each part must start where the previous ended)
 */
export function mergeSegmentHeaders(
  headers: readonly SegmentHeader[],
  sha256: string,
  unionGtidSets: (sets: readonly string[]) => string,
): SegmentHeader {
  const first = headers[0];
  const last = headers.at(-1);
  if (!first || !last) throw new RangeError('cannot merge zero segment headers');
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new RangeError(`"${sha256}" is not a hex SHA-256`);
  let firstCommit: string | null = null;
  let lastCommit: string | null = null;
  const gtids: Record<string, DomainGtidRange> = {};
  let transactions = 0;
  let events = 0;
  for (const [i, h] of headers.entries()) {
    if (h.timeline !== first.timeline || h.file !== first.file) {
      throw new RangeError(
        `cannot merge ${h.timeline}/${h.file} @ ${h.start} with ${first.timeline}/${first.file}: one file per object`,
      );
    }
    const prev = headers[i - 1];
    if (prev && h.start !== prev.end) {
      throw new RangeError(
        `cannot merge ${h.file} segments ${prev.start}-${prev.end} and ${h.start}-${h.end}: they do not join up`,
      );
    }
    firstCommit ??= h.firstCommit;
    if (h.lastCommit !== null) lastCommit = h.lastCommit;
    for (const [domain, range] of Object.entries(h.gtids)) {
      gtids[domain] = { first: gtids[domain]?.first ?? range.first, last: range.last };
    }
    transactions += h.transactions;
    events += h.events;
  }
  const sets = headers.map((h) => h.gtidSet).filter((s) => s !== '');
  return {
    format: SEGMENT_FORMAT,
    timeline: first.timeline,
    file: first.file,
    start: first.start,
    end: last.end,
    sha256,
    firstCommit,
    lastCommit,
    gtids,
    gtidSet: sets.length === 0 ? '' : sets.length === 1 ? sets[0]! : unionGtidSets(sets),
    transactions,
    events,
    splitTransaction:
      (first.start > 0 && first.splitTransaction) || (!last.closesFile && last.splitTransaction),
    closesFile: last.closesFile,
    ...(last.nextFile !== undefined ? { nextFile: last.nextFile } : {}),
  };
}
