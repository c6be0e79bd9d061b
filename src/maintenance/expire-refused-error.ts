import type { RefusedObject } from '../catalog/index.js';
import { PitrError } from '../errors/index.js';

/**
 * expire found objects it cannot account for (a backup manifest it cannot read, or of a newer
 * format) and deleted nothing. Exit code REFUSED.
 */
export class ExpireRefusedError extends PitrError {
  /** The objects that stopped it. */
  readonly refused: readonly RefusedObject[];

  constructor(refused: readonly RefusedObject[], repository: string) {
    const newer = refused.some((r) => r.code === 'FORMAT_TOO_NEW');
    super(
      'EXPIRE_REFUSED',
      `expire deleted nothing in ${repository}: it cannot read ${refused.length === 1 ? 'this backup manifest' : `these ${refused.length} backup manifests`}, ` +
        `so it cannot know what ${refused.length === 1 ? 'that backup needs' : 'those backups need'} kept:\n` +
        refused.map((r) => `  ${r.key}: ${r.reason}`).join('\n') +
        '\n' +
        (newer
          ? 'A newer mysql-pitr wrote a manifest: upgrade this mysql-pitr (or run expire with the newer one). '
          : '') +
        'For a damaged manifest: restore it from a copy (bucket versioning keeps earlier versions), or, once you are ' +
        'sure the backup is not needed, move its folder out of the repository by hand; then run expire again.',
    );
    this.refused = refused;
  }
}
