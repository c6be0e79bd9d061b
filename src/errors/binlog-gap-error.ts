import { PitrError } from './pitr-error.js';

/** Bytes of an archived binlog file that the repository does not hold. */
export interface MissingBinlogRange {
  /** The timeline of the file. */
  timeline: string;
  /** The binlog file name. */
  file: string;
  /** First missing byte offset. */
  from: number;
  /** One past the last missing byte, or undefined when the rest of the file (or its end) is missing. */
  to: number | undefined;
}

/** A range of binlog bytes is missing from the archive (code BINLOG_GAP): nothing can cross it. */
export class BinlogGapError extends PitrError {
  readonly timeline: string;
  readonly file: string;
  readonly from: number;
  readonly to: number | undefined;

  constructor(missing: MissingBinlogRange, message: string, options?: ErrorOptions) {
    super('BINLOG_GAP', message, options);
    this.timeline = missing.timeline;
    this.file = missing.file;
    this.from = missing.from;
    this.to = missing.to;
  }
}
