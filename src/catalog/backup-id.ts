/**
 * Backup ids: `20261125T193000123Z-1a2b3c`, the UTC start time to the millisecond followed by six
 * random hex digits. They sort by time as plain strings (and so as object keys), and two backups
 * started in the same millisecond still get different ids.
 */
const BACKUP_ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[0-9a-f]{6}$/;

/**
 * A new backup id for a backup started at `startedAt`.
 *
 * @param random at least 3 random bytes (the caller passes `crypto.randomBytes(3)`; tests pass fixed bytes)
 */
export function newBackupId(startedAt: Date, random: Uint8Array): string {
  if (random.length < 3) throw new RangeError('newBackupId needs 3 random bytes');
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${Buffer.from(random.subarray(0, 3)).toString('hex')}`;
}

/** True when `text` has the shape of a backup id (so it can be used in a key). */
export function isBackupId(text: string): boolean {
  return BACKUP_ID.test(text);
}

/** The start time encoded in a backup id, or undefined when `id` is not one. */
export function backupIdTime(id: string): Date | undefined {
  const m = BACKUP_ID.exec(id);
  if (!m) return undefined;
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
}
