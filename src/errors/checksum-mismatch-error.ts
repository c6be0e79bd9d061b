import { PitrError } from './pitr-error.js';

/** What to do about corrupt data when the caller has nothing more specific to say. */
const DEFAULT_ADVICE =
  'The data is corrupt; do not use it. Re-fetch it from the source or repository, or restore from another copy.';

/** Stored or streamed bytes do not match their recorded checksum. */
export class ChecksumMismatchError extends PitrError {
  /** The object key, file name or stream name that failed verification. */
  readonly object: string;
  /** Byte offset (in the uncompressed content) where the bad unit starts, when known. */
  readonly offset: number | undefined;

  /**
   * @param detail what did not match, without a trailing period
   * @param options `advice` replaces the generic "do not use it; re-fetch" sentence when the caller
   *   knows better what happened and what to do (e.g. the bad object was already deleted)
   */
  constructor(
    object: string,
    offset: number | undefined,
    detail: string,
    options?: ErrorOptions & { advice?: string },
  ) {
    const { advice = DEFAULT_ADVICE, ...errorOptions } = options ?? {};
    super(
      'CHECKSUM_MISMATCH',
      `checksum mismatch in ${object}${offset === undefined ? '' : ` at offset ${offset}`}: ${detail}. ${advice}`,
      errorOptions,
    );
    this.object = object;
    this.offset = offset;
  }
}
