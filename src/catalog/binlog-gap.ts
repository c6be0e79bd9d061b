import { CorruptDataError } from '../errors/index.js';
import { checkFormatVersion } from './format-version.js';

/** Version of the gap record layout (records written before the field existed are format 1). */
export const BINLOG_GAP_FORMAT = 1;

/**
 * `gaps/<timeline>/<file>.json`: a binlog file (or its tail) the source purged before the
 * archiver had it. Bytes from `from` to the end of `file` are not in the archive, so no restore can
 * cross this point on this timeline.
 */
export interface BinlogGap {
  /** Absent in records written before the field existed (read as 1); always written. */
  format?: typeof BINLOG_GAP_FORMAT;
  timeline: string;
  file: string;
  /** The first missing byte of `file` (0 when none of it was archived). */
  from: number;
  /** The file the archiver continued with. */
  resumedAt: string;
  /** ISO 8601. */
  detectedAt: string;
  /** What the source said. */
  reason: string;
}

/** JSON text of a gap record. */
export function serializeBinlogGap(gap: BinlogGap): string {
  return `${JSON.stringify({ format: BINLOG_GAP_FORMAT, ...gap }, null, 2)}\n`;
}

/**
 * Parses a gap record.
 *
 * @throws CorruptDataError naming `object` when it is not a valid record
 * @throws FormatTooNewError (FORMAT_TOO_NEW) when a newer mysql-pitr wrote it
 */
export function parseBinlogGap(text: string, object: string): BinlogGap {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new CorruptDataError(object, undefined, 'the gap record is not valid JSON', { cause: err });
  }
  const g = v as Partial<BinlogGap> | null;
  if (g && typeof g === 'object') checkFormatVersion(g.format, BINLOG_GAP_FORMAT, object, 'gap record');
  if (!g || typeof g.timeline !== 'string' || typeof g.file !== 'string' || typeof g.from !== 'number') {
    throw new CorruptDataError(object, undefined, 'the gap record lacks timeline, file or from');
  }
  return { ...g, format: BINLOG_GAP_FORMAT } as BinlogGap;
}
