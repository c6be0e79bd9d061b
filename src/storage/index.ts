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
export { S3ObjectStore, type S3ObjectStoreOptions, type S3Credentials } from './s3-object-store.js';
export { openObjectStore, type OpenObjectStoreOptions } from './open-object-store.js';
export { StorageError, type StorageErrorCode } from './storage-error.js';
export { ObjectNotFoundError } from './object-not-found-error.js';
export { PreconditionFailedError } from './precondition-failed-error.js';
export { validateObjectKey, validateKeyPrefix, compareObjectKeys } from './object-key.js';
export { redactUrl } from './redact-url.js';
