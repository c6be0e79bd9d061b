import type { ObjectInfo, ObjectStore } from '../storage/object-store.js';
import { BACKUPS_PREFIX, MANIFEST_NAME, backupManifestKey, parseBackupKey } from './backup-keys.js';
import { parseBackupManifest, type BackupManifest } from './backup-manifest.js';
import { messageOf } from '../errors/index.js';

/** A backup folder without a usable manifest: a dump that failed, was killed, or is still running. */
export interface IncompleteBackup {
  id: string;
  /** Objects in the folder. */
  objects: ObjectInfo[];
  /** Why it does not count: no manifest, or the manifest could not be read. */
  reason: string;
  /**
   * A manifest exists but could not be read (damaged, or a newer format): the backup may be
   * complete. Never deleted by expire; verify reports it as a problem.
   */
  unreadable?: { key: string; code: string };
}

/** The backups in a repository. */
export interface BackupCatalog {
  /** Backups with a valid manifest, oldest first (ids sort by start time). */
  complete: BackupManifest[];
  /** Folders without a valid manifest, oldest first. Never used for a restore. */
  incomplete: IncompleteBackup[];
}

/** The objects under `backups/` grouped by backup id, ids in ascending order; foreign keys ignored. */
export function groupBackupObjects(objects: Iterable<ObjectInfo>): Map<string, ObjectInfo[]> {
  const groups = new Map<string, ObjectInfo[]>();
  for (const o of objects) {
    const parsed = parseBackupKey(o.key);
    if (!parsed) continue;
    const list = groups.get(parsed.id) ?? [];
    list.push(o);
    groups.set(parsed.id, list);
  }
  return new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Reads the backup catalog of a repository: a backup is complete exactly when its manifest exists
 * and parses (data first, manifest last). Manifests that fail to parse are reported as incomplete
 * with the reason, not thrown, so one damaged backup does not hide the others.
 *
 * @throws StorageError when listing or reading fails for a storage reason
 */
export async function readBackupCatalog(store: ObjectStore): Promise<BackupCatalog> {
  const objects: ObjectInfo[] = [];
  for await (const o of store.list(BACKUPS_PREFIX)) objects.push(o);
  const catalog: BackupCatalog = { complete: [], incomplete: [] };
  for (const [id, group] of groupBackupObjects(objects)) {
    const manifestKey = backupManifestKey(id);
    if (!group.some((o) => o.key.endsWith(`/${MANIFEST_NAME}`))) {
      catalog.incomplete.push({
        id,
        objects: group,
        reason: 'no manifest (the dump failed, was stopped or is running)',
      });
      continue;
    }
    try {
      const text = (await store.get(manifestKey)).toString('utf8');
      catalog.complete.push(parseBackupManifest(text, manifestKey));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'CORRUPT_DATA' && code !== 'OBJECT_NOT_FOUND' && code !== 'FORMAT_TOO_NEW') throw err;
      catalog.incomplete.push({
        id,
        objects: group,
        reason: messageOf(err),
        ...(code === 'OBJECT_NOT_FOUND' ? {} : { unreadable: { key: manifestKey, code } }),
      });
    }
  }
  return catalog;
}

/**
 * The manifest of backup `id`.
 *
 * @throws ObjectNotFoundError (OBJECT_NOT_FOUND) when the backup has no manifest
 * @throws CorruptDataError (CORRUPT_DATA) when the manifest cannot be parsed
 */
export async function readBackupManifest(store: ObjectStore, id: string): Promise<BackupManifest> {
  const key = backupManifestKey(id);
  return parseBackupManifest((await store.get(key)).toString('utf8'), key);
}
