import { isBackupId } from './backup-id.js';

/**
 * Where a backup lives in the repository:
 *
 * ```
 * backups/<id>/dump.sql.zst     the data, written first
 * backups/<id>/manifest.json    written last: a backup without it is incomplete and never used
 * ```
 */
export const BACKUPS_PREFIX = 'backups/';

/** File name of the manifest inside a backup's folder. */
export const MANIFEST_NAME = 'manifest.json';

/** File name of the zstd-compressed SQL dump inside a backup's folder. */
export const DUMP_NAME = 'dump.sql.zst';

/** The folder (prefix, with trailing slash) of backup `id`. */
export function backupPrefix(id: string): string {
  assertId(id);
  return `${BACKUPS_PREFIX}${id}/`;
}

/** Key of the compressed dump of backup `id`. */
export function backupDumpKey(id: string): string {
  return `${backupPrefix(id)}${DUMP_NAME}`;
}

/** Key of the manifest of backup `id`. */
export function backupManifestKey(id: string): string {
  return `${backupPrefix(id)}${MANIFEST_NAME}`;
}

/**
 * Splits a key under `backups/` into its backup id and file name; undefined for keys that are not
 * `backups/<id>/<name>` with a well-formed id (foreign files are ignored, not errors).
 */
export function parseBackupKey(key: string): { id: string; name: string } | undefined {
  if (!key.startsWith(BACKUPS_PREFIX)) return undefined;
  const rest = key.slice(BACKUPS_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const id = rest.slice(0, slash);
  const name = rest.slice(slash + 1);
  if (!isBackupId(id) || name === '') return undefined;
  return { id, name };
}

function assertId(id: string): void {
  if (!isBackupId(id)) {
    throw new RangeError(`"${id}" is not a backup id (expected e.g. 20261125T193000123Z-1a2b3c)`);
  }
}
