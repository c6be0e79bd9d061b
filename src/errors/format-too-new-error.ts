import { PitrError } from './pitr-error.js';

/**
 * An object written by a newer mysql-pitr, in a format this build does not know. It is not damage:
 * the object must not be read, replaced or deleted by this build. The fix is to upgrade.
 */
export class FormatTooNewError extends PitrError {
  /** The object key. */
  readonly object: string;
  /** The format the object declares. */
  readonly format: number;
  /** The newest format this build reads. */
  readonly supported: number;

  constructor(object: string, what: string, format: number, supported: number, options?: ErrorOptions) {
    super(
      'FORMAT_TOO_NEW',
      `${object}: the ${what} was written by a newer mysql-pitr (format ${format}); upgrade ` +
        `(this build reads format ${supported} and older). Nothing was changed.`,
      options,
    );
    this.object = object;
    this.format = format;
    this.supported = supported;
  }
}
