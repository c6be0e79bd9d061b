export type {
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
  ByteRange,
  ObjectInfo,
  ListOptions,
} from './object-store.js';
export { FsObjectStore, type FsObjectStoreOptions } from './fs-object-store.js';
// Types only: importing this index must not load the AWS SDK. Code that needs the class imports
// it from './s3-object-store.js' directly; openObjectStore gives a LazyS3ObjectStore.
export type { S3ObjectStore, S3ObjectStoreOptions, S3Credentials } from './s3-object-store.js';
export { LazyS3ObjectStore } from './lazy-s3-object-store.js';
export { openObjectStore, type OpenObjectStoreOptions } from './open-object-store.js';
export { StorageError, type StorageErrorCode } from './storage-error.js';
export { ObjectNotFoundError } from './object-not-found-error.js';
export { PreconditionFailedError } from './precondition-failed-error.js';
export { validateObjectKey, validateKeyPrefix, compareObjectKeys } from './object-key.js';
export {
  createPrivateTempDir,
  removePrivateTempDir,
  removeStaleTempDirs,
  PRIVATE_TEMP_DIR_PREFIX,
} from './private-temp-dir.js';
export { isStaleTemp, STALE_TEMP_AGE_MS } from './temp-owner.js';
