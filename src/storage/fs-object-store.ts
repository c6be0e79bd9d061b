import { constants as fsConstants, type Dirent } from 'node:fs';
import {
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  type FileHandle,
} from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';

import { PitrError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import { ObjectNotFoundError } from './object-not-found-error.js';
import { compareObjectKeys, TEMP_FILE_PREFIX, validateKeyPrefix, validateObjectKey } from './object-key.js';
import type {
  ByteRange,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
} from './object-store.js';
import { PreconditionFailedError } from './precondition-failed-error.js';
import { StorageError } from './storage-error.js';
import { assertFreshBody, BodySource, isBytes, toBuffer } from './put-body.js';
import { isStaleTemp, tempOwnerSuffix } from './temp-owner.js';
import { clampByteRange, validateByteRange } from './byte-range.js';

/** Options of {@link FsObjectStore}. */
export interface FsObjectStoreOptions {
  /** Absolute path of the repository root; created (with parents) on the first write. */
  root: string;
  logger?: Logger;
}

/**
 * Objects are readable by their owner only: dumps hold every row, `mysql.global_priv` password
 * hashes included. Folders likewise. Set explicitly, whatever the process umask.
 */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** How often `put` re-creates a directory that a concurrent `delete` pruned under it. */
const MKDIR_ATTEMPTS = 3;

type Operation = 'put' | 'get' | 'head' | 'list' | 'delete' | 'clean';

/**
 * The embedded default repository: objects are files under `root`, key segments are directories.
 *
 * Atomicity: `put` writes a temporary file (`.pitr-tmp-*`, in the target's directory, so never
 * across filesystems), fsyncs it, renames it over the target (or, for put-if-absent, `link()`s it,
 * which fails with EEXIST when the target exists) and fsyncs the directory. After a crash a reader
 * sees the old object or the new one, never a part. A temporary file is named after its writer
 * (`.pitr-tmp-<name>-h<host>-p<pid>-<random>`); it is never listed, and `list` removes those left
 * by a dead process of this host (kill -9 of `backup create` mid-dump leaves one as large as the
 * dump) or older than 24 h as it walks past them, so the next run of any command cleans up.
 *
 * Permissions: objects are created 0600 and folders 0700 whatever the umask (a dump holds password
 * hashes). Folders and files that existed before are left as they are.
 *
 * Limitation of a filesystem: a key cannot be both an object and a prefix of another key
 * (`a` and `a/b`); such a put fails with code INTERNAL.
 */
export class FsObjectStore implements ObjectStore {
  /** Always true: `link()` of the fsynced temporary file fails atomically when the key exists. */
  readonly supportsConditionalPut = true;
  /** Absolute path of the repository root. */
  readonly root: string;
  readonly #url: string;
  readonly #logger: Logger;

  constructor(options: FsObjectStoreOptions) {
    if (!isAbsolute(options.root)) {
      throw new StorageError(
        'CONFIG_INVALID',
        `repository path ${options.root} is not absolute; pass an absolute path or a file:/// URL`,
        { store: options.root },
      );
    }
    this.root = resolve(options.root);
    this.#url = pathToFileURL(this.root).href;
    this.#logger = options.logger ?? silentLogger;
  }

  describe(): string {
    return this.#url;
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<PutResult> {
    const target = this.#path(key);
    assertFreshBody(this.#url, key, body);
    // Before any await: from here on a failing source is recorded, not an uncaught 'error'.
    const source = isBytes(body) ? undefined : new BodySource(body);
    const dir = dirname(target);
    // `.pitr-tmp-<name>-h<host>-p<pid>-<random>`: a later run removes it if this process dies
    const tmp = join(dir, `${TEMP_FILE_PREFIX}${basename(target)}${tempOwnerSuffix()}`);
    let fh: FileHandle | undefined;
    try {
      fh = await this.#createTempFile(dir, tmp);
      let size = 0;
      if (source === undefined) {
        const buf = toBuffer(body as Uint8Array);
        await writeAll(fh, buf);
        size = buf.byteLength;
      } else {
        for await (const buf of source.chunks()) {
          await writeAll(fh, buf);
          size += buf.byteLength;
        }
      }
      // Data must be on disk before the name points at it, or a crash could leave a named file
      // with missing blocks.
      await fh.sync();
      await fh.close();
      fh = undefined;
      if (opts.ifAbsent) {
        try {
          await link(tmp, target);
        } catch (err) {
          if (errnoOf(err) === 'EEXIST') {
            throw new PreconditionFailedError(this.#url, key, `object ${key} already exists`, { cause: err });
          }
          throw err;
        } finally {
          await rm(tmp, { force: true });
        }
      } else {
        await rename(tmp, target);
      }
      await fsyncDir(dir);
      return { key, size };
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      // The caller's stream failed: that error is theirs, not the store's.
      const failed = source?.error;
      if (failed !== undefined) throw failed.error;
      throw this.#mapError(err, 'put', key, target);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const path = this.#path(key);
    validateByteRange(this.#url, key, range);
    let fh: FileHandle | undefined;
    try {
      fh = await this.#openObject(key, path);
      const { size } = await fh.stat();
      const [start, end] = clampByteRange(range, size);
      const out = Buffer.allocUnsafe(end - start);
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await fh.read(out, filled, out.length - filled, start + filled);
        if (bytesRead === 0) break; // truncated by a concurrent writer? cannot be: puts rename
        filled += bytesRead;
      }
      return filled === out.length ? out : out.subarray(0, filled);
    } catch (err) {
      throw this.#mapError(err, 'get', key, path);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.#path(key);
    validateByteRange(this.#url, key, range);
    let fh: FileHandle | undefined;
    try {
      fh = await this.#openObject(key, path);
      const { size } = await fh.stat();
      const [start, end] = clampByteRange(range, size);
      if (end <= start) {
        await fh.close();
        return Readable.from([], { objectMode: false });
      }
      // The stream owns the handle from here on (autoClose); `end` is inclusive there.
      const stream = fh.createReadStream({ start, end: end - 1 });
      fh = undefined;
      return stream;
    } catch (err) {
      await fh?.close().catch(() => undefined);
      throw this.#mapError(err, 'get', key, path);
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    const path = this.#path(key);
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new ObjectNotFoundError(this.#url, key);
      return { key, size: st.size, lastModified: st.mtime };
    } catch (err) {
      throw this.#mapError(err, 'head', key, path);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.head(key);
      return true;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return false;
      throw err;
    }
  }

  async *list(prefix: string, opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validateKeyPrefix(this.#url, prefix);
    const cut = prefix.lastIndexOf('/') + 1;
    const dirKey = prefix.slice(0, cut);
    const namePrefix = prefix.slice(cut);
    const startDir = dirKey === '' ? this.root : join(this.root, ...dirKey.slice(0, -1).split('/'));
    yield* this.#walk(startDir, dirKey, namePrefix, opts.startAfter);
  }

  async delete(keys: readonly string[]): Promise<void> {
    const paths = keys.map((key) => [key, this.#path(key)] as const);
    const dirs = new Set<string>();
    for (const [key, path] of paths) {
      try {
        await rm(path);
        dirs.add(dirname(path));
      } catch (err) {
        const code = errnoOf(err);
        // No object there (or only a prefix of other keys): nothing to delete.
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ERR_FS_EISDIR')
          continue;
        throw this.#mapError(err, 'delete', key, path);
      }
    }
    for (const dir of dirs) {
      try {
        await fsyncDir(dir);
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw this.#mapError(err, 'delete', undefined, dir);
      }
      await this.#pruneEmptyDirs(dir);
    }
  }

  /**
   * Removes temporary files left by puts that crashed: those of a dead process of this host, and
   * any older than `olderThanMs` (so that puts in progress are left alone). Returns how many were
   * removed. (`list` does the same for the folders it walks, with a 24 h age.)
   *
   * @throws StorageError STORAGE_ACCESS_DENIED or STORAGE_UNAVAILABLE when the tree cannot be read.
   */
  async cleanTempFiles(opts: { olderThanMs: number }): Promise<number> {
    const cutoff = Date.now() - opts.olderThanMs;
    let removed = 0;
    const visit = async (dir: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return;
        throw this.#mapError(err, 'clean', undefined, dir);
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          await visit(path);
        } else if (entry.name.startsWith(TEMP_FILE_PREFIX)) {
          const st = await lstat(path).catch(() => undefined);
          if (st && (st.mtimeMs < cutoff || isStaleTemp(entry.name, st.mtimeMs))) {
            await rm(path, { force: true });
            removed++;
          }
        }
      }
    };
    await visit(this.root);
    if (removed > 0) this.#logger.info('removed leftover temporary files', { store: this.#url, removed });
    return removed;
  }

  #path(key: string): string {
    validateObjectKey(this.#url, key);
    return join(this.root, ...key.split('/'));
  }

  async #openObject(key: string, path: string): Promise<FileHandle> {
    const fh = await open(path, fsConstants.O_RDONLY);
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw new ObjectNotFoundError(this.#url, key);
    }
    return fh;
  }

  async #createTempFile(dir: string, tmp: string): Promise<FileHandle> {
    for (let attempt = 1; ; attempt++) {
      await ensureDir(dir);
      try {
        const fh = await open(tmp, 'wx', FILE_MODE);
        // The umask can only clear bits of FILE_MODE, never add any; an odd one (0400) could clear
        // the owner's own, so set the mode outright.
        await fh.chmod(FILE_MODE);
        return fh;
      } catch (err) {
        // A concurrent delete may prune the directory between mkdir and open.
        if (errnoOf(err) !== 'ENOENT' || attempt >= MKDIR_ATTEMPTS) throw err;
      }
    }
  }

  async *#walk(
    dir: string,
    keyBase: string,
    namePrefix: string,
    startAfter: string | undefined,
  ): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.#mapError(err, 'list', keyBase || undefined, dir);
    }
    await this.#removeStaleTempFiles(dir, entries);
    // A directory's keys all start with "name/", so sorting directories as "name/" among the
    // files yields keys in byte order ("a-c" < "a/b" < "a0").
    const sorted = entries
      .filter((e) => e.name.startsWith(namePrefix) && !e.name.startsWith(TEMP_FILE_PREFIX))
      .map((e) => ({ entry: e, isDir: isDirectory(e, dir) }));
    const resolved = await Promise.all(sorted.map(async (s) => ({ entry: s.entry, isDir: await s.isDir })));
    resolved.sort((a, b) =>
      compareObjectKeys(a.entry.name + (a.isDir ? '/' : ''), b.entry.name + (b.isDir ? '/' : '')),
    );
    for (const { entry, isDir } of resolved) {
      const key = keyBase + entry.name;
      const path = join(dir, entry.name);
      if (isDir) {
        const sub = key + '/';
        // Skip a directory whose keys all sort at or before startAfter.
        if (
          startAfter !== undefined &&
          compareObjectKeys(sub, startAfter) <= 0 &&
          !startAfter.startsWith(sub)
        ) {
          continue;
        }
        yield* this.#walk(path, sub, '', startAfter);
        continue;
      }
      if (startAfter !== undefined && compareObjectKeys(key, startAfter) <= 0) continue;
      let st;
      try {
        st = await stat(path);
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') continue; // deleted while listing
        throw this.#mapError(err, 'list', key, path);
      }
      if (!st.isFile()) continue;
      yield { key, size: st.size, lastModified: st.mtime };
    }
  }

  /** Removes the stale temporary files among `entries` of `dir` (see isStaleTemp), then `dir` if empty. */
  async #removeStaleTempFiles(dir: string, entries: readonly Dirent[]): Promise<void> {
    let removed = 0;
    for (const e of entries) {
      if (!e.name.startsWith(TEMP_FILE_PREFIX) || !e.isFile()) continue;
      const path = join(dir, e.name);
      try {
        const st = await lstat(path);
        if (!isStaleTemp(e.name, st.mtimeMs)) continue;
        await rm(path, { force: true });
        removed++;
        this.#logger.info('removed a temporary file left by a stopped writer', { store: this.#url, path });
      } catch {
        // gone meanwhile, or not ours to remove (a read-only repository): leave it
      }
    }
    if (removed > 0 && removed === entries.length) await this.#pruneEmptyDirs(dir);
  }

  async #pruneEmptyDirs(dir: string): Promise<void> {
    for (let d = dir; d !== this.root && d.startsWith(this.root); d = dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return; // not empty (or already gone, or not ours to remove): stop climbing
      }
    }
  }

  #mapError(err: unknown, op: Operation, key: string | undefined, path: string): PitrError {
    if (err instanceof PitrError) return err;
    const code = errnoOf(err);
    const where = { store: this.#url, key };
    const what = `${op}${key === undefined ? '' : ` ${key}`} in ${this.#url}`;
    switch (code) {
      case 'ENOENT':
        if (key !== undefined && op !== 'put' && op !== 'delete') {
          return new ObjectNotFoundError(this.#url, key, { cause: err });
        }
        break;
      case 'EEXIST': // mkdir -p of the key's directory met a file: an object is a prefix of this key
      case 'ENOTDIR':
      case 'EISDIR':
      case 'ERR_FS_EISDIR':
        if (code === 'EEXIST' && op !== 'put') break;
        if (key !== undefined && op !== 'put') return new ObjectNotFoundError(this.#url, key, { cause: err });
        return new StorageError(
          'INTERNAL',
          `cannot ${what}: on a filesystem a key cannot be both an object and a prefix of other keys (${path}); ` +
            'this is a bug in the key layout, please report it',
          where,
          { cause: err },
        );
      case 'ENOSPC':
      case 'EDQUOT':
        return new StorageError(
          'STORAGE_NO_SPACE',
          `no space left on the filesystem holding ${path} (${code}) during ${what}. ` +
            'Free space on that filesystem or move the repository (--repo) to a larger one; nothing partial was stored.',
          where,
          { cause: err },
        );
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        return new StorageError(
          'STORAGE_ACCESS_DENIED',
          `${code === 'EROFS' ? 'read-only filesystem' : 'permission denied'} on ${path} during ${what}. ` +
            `Give the user running mysql-pitr (uid ${process.getuid?.() ?? '?'}) read and write access to ${this.root}, or fix --repo.`,
          where,
          { cause: err },
        );
    }
    return new StorageError(
      'STORAGE_UNAVAILABLE',
      `filesystem error during ${what} at ${path}: ${err instanceof Error ? err.message : String(err)}. ` +
        'Check the disk and the mount, then retry.',
      where,
      { cause: err },
    );
  }
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function isDirectory(entry: Dirent, dir: string): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  const st = await stat(join(dir, entry.name)).catch(() => undefined);
  return st?.isDirectory() ?? false;
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}

/**
 * mkdir -p with mode 0700 on every directory it creates (the repository root included), then fsync
 * the parent of each so the new entries survive a crash.
 */
async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await chmod(d, DIR_MODE); // the umask may have cleared bits of DIR_MODE
    await fsyncDir(dirname(d));
    if (d === first || d === dirname(d)) break;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
