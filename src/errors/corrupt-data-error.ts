import { PitrError } from './pitr-error.js';

/** Bytes that cannot be what they claim to be: a bad header, an impossible length, a truncated stream. */
export class CorruptDataError extends PitrError {
  /** The object key, file name or stream name. */
  readonly object: string;
  /** Byte offset where the problem was found, when known. */
  readonly offset: number | undefined;

  constructor(
    object: string,
    offset: number | undefined,
    detail: string,
    options?: ErrorOptions & { truncated?: boolean },
  ) {
    super(
      options?.truncated ? 'TRUNCATED_DATA' : 'CORRUPT_DATA',
      `${options?.truncated ? 'truncated' : 'corrupt'} data in ${object}${offset === undefined ? '' : ` at offset ${offset}`}: ${detail}`,
      options,
    );
    this.object = object;
    this.offset = offset;
  }
}
