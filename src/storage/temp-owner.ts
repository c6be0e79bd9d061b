import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Temporary files and folders carry their writer in their name (`-h<host>-p<pid>-<random>`), so
 * the next run of any command on this host can tell debris of a dead process (kill -9, a crash)
 * from the work of a live one and remove it at once; debris of another host, or of an older build
 * without the tag, is removed once older than {@link STALE_TEMP_AGE_MS}.
 */

/** Debris whose writer cannot be checked is removed once its last write is older than this. */
export const STALE_TEMP_AGE_MS = 24 * 60 * 60 * 1000;

/** Eight hex digits of SHA-256(hostname): names stay short and reveal nothing. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

const OWNER_RE = /-h([0-9a-f]{8})-p(\d+)-[0-9a-f]{12}$/;

/** `-h<host>-p<pid>-<random>`: the suffix a temporary name ends with. */
export function tempOwnerSuffix(): string {
  return `-h${HOST_TAG}-p${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** The `-h<host>-p<pid>-` part alone (for mkdtemp, which appends its own random characters). */
export function tempOwnerStem(): string {
  return `-h${HOST_TAG}-p${process.pid}-`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the temporary file or folder `name` (last written at `mtimeMs`) is debris: its writer
 * was a process of this host that is gone, or it is older than STALE_TEMP_AGE_MS. Never true for
 * this process's own.
 *
 * @param pattern how the owner tag is found in `name` (default: at its end, as tempOwnerSuffix makes it)
 */
export function isStaleTemp(name: string, mtimeMs: number, now = Date.now(), pattern = OWNER_RE): boolean {
  const m = pattern.exec(name);
  if (m) {
    const pid = Number(m[2]);
    if (m[1] === HOST_TAG && pid === process.pid) return false;
    if (m[1] === HOST_TAG && !processAlive(pid)) return true;
  }
  return now - mtimeMs > STALE_TEMP_AGE_MS;
}
