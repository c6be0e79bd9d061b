import type { OptionSpec, OptionValues } from '../config/index.js';
import { PitrError } from '../errors/index.js';
import { DEFAULT_LOAD_THREADS } from '../restore/index.js';

/** More sessions than this would only queue on the target. */
const MAX_LOAD_THREADS = 64;

/** `--load-threads N`, shared by the commands that load a backup's dump. */
export const LOAD_THREADS_OPTION: OptionSpec = {
  key: 'loadThreads',
  flag: 'load-threads',
  type: 'integer',
  default: DEFAULT_LOAD_THREADS,
  valueName: 'N',
  description:
    'Tables loaded at once, each on its own session reading its own copy of the stored dump; 1 = the whole dump in order on one session',
};

/**
 * `--no-defer-keys`, shared by the same commands: create an InnoDB table's plain secondary keys
 * with the table, as the dump does, instead of after its rows (split backups; see loadBackupParts).
 */
export const NO_DEFER_KEYS_OPTION: OptionSpec = {
  key: 'noDeferKeys',
  flag: 'no-defer-keys',
  type: 'boolean',
  description:
    "Split backups: create InnoDB tables' plain secondary keys with the tables, not in one ALTER TABLE after their rows",
};

/**
 * The validated `--load-threads` value.
 *
 * @throws PitrError USAGE when it is not an integer from 1 to 64
 */
export function readLoadThreads(options: OptionValues): number {
  const threads = options.number('loadThreads');
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_LOAD_THREADS) {
    throw new PitrError(
      'USAGE',
      `--load-threads ${threads} is out of range: give 1 to ${MAX_LOAD_THREADS} (about the target's CPU count)`,
    );
  }
  return threads;
}
