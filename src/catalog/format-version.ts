import { CorruptDataError, FormatTooNewError } from '../errors/index.js';

/**
 * The format version of a stored object, checked: every object mysql-pitr writes carries a
 * `format`; objects written before the field existed have none and are format 1. A format newer
 * than `current` is refused with FormatTooNewError (upgrade), never read as garbage.
 *
 * @param value the object's `format` field (undefined when absent)
 * @param current the newest format this build reads
 * @param object the key, for messages
 * @param what what the object is ("backup manifest"), for messages
 * @throws FormatTooNewError (FORMAT_TOO_NEW) for a newer format
 * @throws CorruptDataError (CORRUPT_DATA) when `format` is present but not a whole number of 1 or more
 */
export function checkFormatVersion(value: unknown, current: number, object: string, what: string): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new CorruptDataError(
      object,
      undefined,
      `the ${what} has format ${JSON.stringify(value)}, not a version number`,
    );
  }
  if (value > current) throw new FormatTooNewError(object, what, value, current);
  return value;
}
