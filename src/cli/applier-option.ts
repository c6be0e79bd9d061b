import { PitrError } from '../errors/index.js';
import type { OptionSpec, OptionValues } from '../config/index.js';

/** Which binlog applier `restore pitr` / `restore apply` use. */
export type ApplierKind = 'events' | 'batch' | 'client';

const APPLIER_KINDS: readonly ApplierKind[] = ['events', 'batch', 'client'];

/** `--applier events|batch|client`. */
export const APPLIER_OPTION: OptionSpec = {
  key: 'applier',
  flag: 'applier',
  type: 'string',
  default: 'events',
  valueName: 'events|batch|client',
  description:
    "How binlogs are applied: events (default) applies the archive's events themselves, whole transactions per " +
    'round trip, statements as their exact bytes and row events as BINLOG statements; client pipes mariadb-binlog ' +
    'into the SQL client (the fallback, statement by statement); batch re-splits mariadb-binlog text (deprecated: ' +
    'a string holding "/*!*/;" and a newline is restored wrong)',
};

/** `--skip-gtids`. */
export const SKIP_GTIDS_OPTION: OptionSpec = {
  key: 'skipGtids',
  flag: 'skip-gtids',
  type: 'boolean',
  env: false,
  description:
    "--applier events: do not set each transaction's GTID on the target session (for a server in gtid_strict_mode " +
    'whose own GTIDs are ahead, error 1950)',
};

/**
 * The applier the flags ask for.
 *
 * @throws PitrError USAGE for another value
 */
export function readApplierKind(options: OptionValues): ApplierKind {
  const text = options.string('applier');
  const kind = APPLIER_KINDS.find((k) => k === text);
  if (kind === undefined) {
    throw new PitrError('USAGE', `--applier must be events, batch or client, not "${text}"`);
  }
  return kind;
}
