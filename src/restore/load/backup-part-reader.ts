// Reads one stored object of a backup (a part of a split backup, or a single dump) as dump
// statements, streaming: the stored bytes are counted and hashed as they pass, decompressed by
// zstd and split into statements; the size and SHA-256 recorded in the manifest are checked once
// the last byte has been read. Nothing is held whole.
import { createHash } from 'node:crypto';
import type { ManifestObject } from '../../catalog/index.js';
import { createZstdDecompressStream } from '../../codec/index.js';
import { ChecksumMismatchError } from '../../errors/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { DumpStatementSplitter, type DumpStatement } from './dump-statement-splitter.js';

/** How readBackupPart reports and what its checksum error tells the operator. */
export interface BackupPartReadOptions {
  /** Called with every stored (compressed) chunk's length as it is read (progress). */
  onStored?: ((bytes: number) => void) | undefined;
  /** What to do when the object does not match its manifest (ends the error message). */
  remedy: string;
  signal?: AbortSignal | undefined;
}

/** The message of a stored object that does not match its manifest. */
export function storedObjectMismatch(
  object: ManifestObject,
  found: { size: number; sha256: string },
  remedy: string,
  options?: ErrorOptions,
): ChecksumMismatchError {
  return new ChecksumMismatchError(
    object.key,
    0,
    `it read back as ${found.size} bytes with SHA-256 ${found.sha256}; the backup manifest records ` +
      `${object.size} bytes and ${object.sha256}. ${remedy}`,
    options,
  );
}

/**
 * Size and SHA-256 of a stored object, read in full (after a load failed, to tell a damaged object
 * from a failing target); undefined when it cannot be read.
 */
export async function hashStoredObject(
  store: ObjectStore,
  key: string,
): Promise<{ size: number; sha256: string } | undefined> {
  try {
    const h = createHash('sha256');
    let size = 0;
    for await (const c of await store.getStream(key)) {
      h.update(c as Buffer);
      size += (c as Buffer).length;
    }
    return { size, sha256: h.digest('hex') };
  } catch {
    return undefined;
  }
}

/**
 * The decompressed bytes of one stored object, in order. The stored bytes are hashed as they are
 * read; once the last chunk has been handed out, a size or SHA-256 other than the manifest's throws
 * ChecksumMismatchError (the chunks were already handed out: `remedy` says what to do).
 *
 * @throws ChecksumMismatchError at the end, StorageError while reading, PitrError CORRUPT_DATA /
 *   TRUNCATED_DATA from zstd, the signal's reason on abort
 */
export async function* readBackupPartBytes(
  store: ObjectStore,
  object: ManifestObject,
  opts: BackupPartReadOptions,
): AsyncGenerator<Buffer> {
  const source = await store.getStream(object.key);
  const dec = createZstdDecompressStream({ object: object.key });
  const stored = createHash('sha256');
  let size = 0;
  source.on('data', (c: Buffer) => {
    stored.update(c);
    size += c.length;
    opts.onStored?.(c.length);
  });
  source.on('error', (e) => dec.destroy(e));
  source.pipe(dec);
  try {
    for await (const chunk of dec) {
      opts.signal?.throwIfAborted();
      yield chunk as Buffer;
    }
  } finally {
    source.destroy();
    dec.destroy();
  }
  const sha256 = stored.digest('hex');
  if (size !== object.size || sha256 !== object.sha256) {
    throw storedObjectMismatch(object, { size, sha256 }, opts.remedy);
  }
}

/**
 * The statements of one stored object, in order (readBackupPartBytes split by
 * DumpStatementSplitter); the checksum is checked after the last statement was handed out.
 *
 * @throws as readBackupPartBytes
 */
export async function* readBackupPart(
  store: ObjectStore,
  object: ManifestObject,
  opts: BackupPartReadOptions,
): AsyncGenerator<DumpStatement> {
  const splitter = new DumpStatementSplitter();
  for await (const chunk of readBackupPartBytes(store, object, opts)) yield* splitter.push(chunk);
  yield* splitter.end();
}
