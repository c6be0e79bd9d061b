import { PitrError } from '../errors/index.js';

/**
 * A segment key already holds an object with other bytes than the segment the archiver was about
 * to store. The archiver never replaces it (code STORAGE_PRECONDITION_FAILED, exit 4): it re-reads
 * the repository and continues after what is stored, and stops when that repeats.
 */
export class SegmentConflictError extends PitrError {
  /** The key that is taken. */
  readonly key: string;

  constructor(key: string, ours: string, stored: string, options?: ErrorOptions) {
    super(
      'STORAGE_PRECONDITION_FAILED',
      `the repository already holds ${key} with other content (${stored}) than this archiver's segment (${ours}); ` +
        'it is not replaced. Another archiver may be writing to this repository (check `mysql-pitr status`), or ' +
        'the repository was edited by hand; the archiver re-reads the repository and continues after what is stored',
      options,
    );
    this.key = key;
  }
}
