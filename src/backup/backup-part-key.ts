import { backupPrefix } from '../catalog/index.js';

/** Folder of a split backup's parts inside its backup folder. */
export const PARTS_FOLDER = 'parts/';

/**
 * Key of part `index` (from 0, in restore order) of split backup `id`:
 * `backups/<id>/parts/000042-rows.sql.zst`. Names carry no schema or table name (those may hold any
 * character); the manifest maps each key to its stage, schema, table and chunk.
 */
export function backupPartKey(id: string, index: number, stage: 'pre' | 'rows' | 'post'): string {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new RangeError(`part index ${index} is not a whole number`);
  return `${backupPrefix(id)}${PARTS_FOLDER}${String(index).padStart(6, '0')}-${stage}.sql.zst`;
}
