import type { Readable } from 'node:stream';

/**
 * What `put` accepts. Buffers are uploaded as they are; streams and async iterables are consumed
 * once, with bounded memory. A body is never read twice: a failed put of a stream must be retried
 * by the caller with a fresh stream.
 */
export type PutBody = Buffer | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** Options of {@link ObjectStore.put}. */
export interface PutOptions {
  /**
   * Put-if-absent: store the object only if no object has this key, atomically when
   * {@link ObjectStore.supportsConditionalPut} is true. Throws `PreconditionFailedError`
   * (STORAGE_PRECONDITION_FAILED) when the key exists.
   */
  ifAbsent?: boolean;
  /** MIME type recorded with the object where the store keeps one (S3); ignored by the filesystem. */
  contentType?: string;
}

/** What `put` stored. */
export interface PutResult {
  key: string;
  /** Bytes stored. */
  size: number;
}

/** A byte range: `start` inclusive, `end` exclusive (omitted: to the end of the object). */
export interface ByteRange {
  start: number;
  end?: number;
}

/** One object as `head` and `list` report it. */
export interface ObjectInfo {
  /** The key relative to the store's root (never the bucket prefix or absolute path). */
  key: string;
  size: number;
  lastModified: Date;
}

/** Options of {@link ObjectStore.list}. */
export interface ListOptions {
  /** List only keys strictly greater (in byte order) than this full key. */
  startAfter?: string;
}

/**
 * The repository: a flat namespace of immutable-until-replaced objects under one root, like
 * WAL-G's `Folder`. Implemented by `FsObjectStore` (file://, the embedded default) and
 * `S3ObjectStore` (s3://); both pass the same contract tests
 * (test/support/object-store-contract.ts).
 *
 * Keys are `/`-separated relative paths (`binlogs/0001/mysql-bin.000042.zst`). A key that is
 * empty, starts or ends with `/`, has an empty, `.` or `..` segment, contains a NUL or a control
 * character, or is longer than 1,024 bytes is rejected with a `StorageError` (code USAGE) before
 * any I/O. A key must not also be a "directory" of another key (`a` and `a/b`): the filesystem
 * store cannot hold both and fails such a put with code INTERNAL; the repository's key layout
 * never needs it.
 *
 * Every method that fails for a storage reason throws a `StorageError` whose code says what to do:
 * OBJECT_NOT_FOUND, STORAGE_PRECONDITION_FAILED, STORAGE_ACCESS_DENIED, STORAGE_BUCKET_MISSING,
 * STORAGE_NO_SPACE, STORAGE_UNAVAILABLE (after the store's own retries), USAGE (a bad key).
 */
export interface ObjectStore {
  /**
   * True when `put(..., { ifAbsent: true })` is atomic: of two concurrent writers exactly one
   * succeeds. When false, put-if-absent is a best-effort check-then-write (a HEAD before the PUT)
   * that is correct for a single writer only; callers that need mutual exclusion (leases) must
   * check this flag.
   */
  readonly supportsConditionalPut: boolean;

  /**
   * Stores `body` under `key`, replacing any object already there. Readers see either the old
   * object or the whole new one, never a part: the filesystem writes a temporary file and renames
   * it; S3 makes the object visible only when the upload completes.
   *
   * Streams are read once with bounded memory (multipart upload on S3). If the stream errors, the
   * put fails and nothing is stored.
   *
   * @throws PreconditionFailedError (STORAGE_PRECONDITION_FAILED) with `ifAbsent` when the key exists.
   * @throws StorageError STORAGE_NO_SPACE (filesystem full), STORAGE_ACCESS_DENIED,
   *   STORAGE_BUCKET_MISSING, STORAGE_UNAVAILABLE (retries exhausted), USAGE (bad key or a stream
   *   that was already read).
   */
  put(key: string, body: PutBody, opts?: PutOptions): Promise<PutResult>;

  /**
   * Reads a whole object, or the bytes of `range` (clamped to the object's size; a range starting
   * at or after the end yields an empty Buffer).
   *
   * @throws ObjectNotFoundError (OBJECT_NOT_FOUND) when no object has this key.
   * @throws StorageError STORAGE_ACCESS_DENIED, STORAGE_BUCKET_MISSING, STORAGE_UNAVAILABLE, USAGE.
   */
  get(key: string, range?: ByteRange): Promise<Buffer>;

  /**
   * Opens an object (or `range` of it, clamped as in `get`) for streaming. The promise rejects
   * when the object cannot be opened; errors while streaming are emitted by the stream (S3
   * resumes a dropped download from the last byte received before giving up).
   *
   * @throws ObjectNotFoundError (OBJECT_NOT_FOUND) when no object has this key.
   * @throws StorageError STORAGE_ACCESS_DENIED, STORAGE_BUCKET_MISSING, STORAGE_UNAVAILABLE, USAGE.
   */
  getStream(key: string, range?: ByteRange): Promise<Readable>;

  /**
   * Size and modification time of an object.
   *
   * @throws ObjectNotFoundError (OBJECT_NOT_FOUND) when no object has this key.
   * @throws StorageError STORAGE_ACCESS_DENIED, STORAGE_BUCKET_MISSING, STORAGE_UNAVAILABLE, USAGE.
   */
  head(key: string): Promise<ObjectInfo>;

  /**
   * Whether an object has this key (a prefix of other keys is not an object).
   *
   * @throws StorageError STORAGE_ACCESS_DENIED, STORAGE_BUCKET_MISSING, STORAGE_UNAVAILABLE, USAGE.
   */
  exists(key: string): Promise<boolean>;

  /**
   * Every object whose key starts with `prefix` (a plain string prefix: `binlogs/mysql-bin.0001`
   * matches `binlogs/mysql-bin.000123.zst`; `''` lists everything), in ascending byte order of the
   * UTF-8 keys, paginated transparently. A prefix that matches nothing yields nothing (no error).
   * Objects put or deleted while listing may or may not appear.
   *
   * @throws StorageError STORAGE_ACCESS_DENIED, STORAGE_BUCKET_MISSING, STORAGE_UNAVAILABLE, USAGE.
   */
  list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectInfo>;

  /**
   * Deletes the objects with these keys (in batches of 1,000 on S3). Keys with no object are not
   * an error. Not atomic across keys: on failure some keys may already be gone.
   *
   * @throws StorageError STORAGE_ACCESS_DENIED, STORAGE_BUCKET_MISSING, STORAGE_UNAVAILABLE, USAGE.
   */
  delete(keys: readonly string[]): Promise<void>;

  /**
   * A printable URL of the store's root for messages and logs (`file:///var/lib/pitr`,
   * `s3://bucket/prefix`), with any secret redacted. Never throws.
   */
  describe(): string;
}
