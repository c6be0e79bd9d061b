import { PitrError } from './pitr-error.js';

/** Stored or streamed bytes do not match their recorded checksum. */
export class ChecksumMismatchError extends PitrError {
  /** The object key, file name or stream name that failed verification. */
  readonly object: string;
  /** Byte offset (in the uncompressed content) where the bad unit starts, when known. */
  readonly offset: number | undefined;

  constructor(object: string, offset: number | undefined, detail: string, options?: ErrorOptions) {
    super(
      'CHECKSUM_MISMATCH',
      `checksum mismatch in ${object}${offset === undefined ? '' : ` at offset ${offset}`}: ${detail}. ` +
        'The data is corrupt; do not use it. Re-fetch it from the source or repository, or restore from another copy.',
      options,
    );
    this.object = object;
    this.offset = offset;
  }
}
