import { rmSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { isStaleTemp, tempOwnerStem } from './temp-owner.js';

/** Prefix of every local temporary folder mysql-pitr makes (under `os.tmpdir()`). */
export const PRIVATE_TEMP_DIR_PREFIX = 'mysql-pitr-';

/** `mysql-pitr-<kind>-h<host>-p<pid>-XXXXXX`; also the names of older builds, `mysql-pitr-<kind>-XXXXXX`. */
const NAME_RE = /^mysql-pitr-[a-z]+-(?:h[0-9a-f]{8}-p\d+-)?[A-Za-z0-9]{6}$/;
const OWNER_IN_NAME = /-h([0-9a-f]{8})-p(\d+)-[A-Za-z0-9]{6}$/;

const live = new Set<string>();
let exitHook = false;

/**
 * Makes a folder only this user can enter (0700) for files that hold secrets (a defaults file with
 * a password), named after this process: `mysql-pitr-<kind>-h<host>-p<pid>-XXXXXX`. It is removed
 * by removePrivateTempDir on every normal path, by a synchronous `exit` hook when the process ends
 * otherwise (a second SIGTERM, `process.exit`), and, after kill -9, by removeStaleTempDirs at the
 * next start of any command.
 *
 * @param kind a lowercase word saying what it is for (`dump`, `restore`)
 */
export async function createPrivateTempDir(kind: string): Promise<string> {
  if (!/^[a-z]+$/.test(kind)) throw new RangeError(`temp dir kind "${kind}" is not a lowercase word`);
  const dir = await mkdtemp(join(tmpdir(), `${PRIVATE_TEMP_DIR_PREFIX}${kind}${tempOwnerStem()}`));
  await chmod(dir, 0o700);
  live.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const d of live) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

/**
 * Removes a folder made by createPrivateTempDir, with everything in it.
 *
 * @throws the filesystem error when it cannot be removed (the caller says which secret is left)
 */
export async function removePrivateTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  live.delete(dir);
}

/**
 * Removes the private temp folders that processes of this host left when they were killed (their
 * pid is gone), and any older than 24 h (of another host or an older build). Never another user's
 * (their folders are not ours to read), never a live process's. Returns the folders removed.
 *
 * @param dir where to look (default `os.tmpdir()`)
 */
export async function removeStaleTempDirs(dir = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    if (!NAME_RE.test(name)) continue;
    const path = join(dir, name);
    try {
      const st = await stat(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (!isStaleTemp(name, st.mtimeMs, Date.now(), OWNER_IN_NAME)) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // gone meanwhile, or not removable: leave it
    }
  }
  return removed;
}
