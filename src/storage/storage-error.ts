import { PitrError, type PitrErrorCode } from '../errors/index.js';

/** Codes a storage operation can fail with. */
export type StorageErrorCode = Extract<
  PitrErrorCode,
  | 'OBJECT_NOT_FOUND'
  | 'STORAGE_ACCESS_DENIED'
  | 'STORAGE_BUCKET_MISSING'
  | 'STORAGE_UNAVAILABLE'
  | 'STORAGE_NO_SPACE'
  | 'STORAGE_PRECONDITION_FAILED'
  | 'CONFIG_INVALID'
  | 'USAGE'
  | 'INTERNAL'
>;

/** A repository operation failed; `code` says why, `store` and `key` say where. */
export class StorageError extends PitrError {
  /** The store's printable URL (`ObjectStore.describe()`), secrets redacted. */
  readonly store: string;
  /** The object key (relative to the store's root), when one key was involved. */
  readonly key: string | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    where: { store: string; key?: string | undefined },
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.store = where.store;
    this.key = where.key;
  }
}
