import { StorageError } from './storage-error.js';

/** `put(..., { ifAbsent: true })` found an object already at the key (or the object changed while read). */
export class PreconditionFailedError extends StorageError {
  declare readonly key: string;

  constructor(store: string, key: string, detail: string, options?: ErrorOptions) {
    super('STORAGE_PRECONDITION_FAILED', `${detail} (${store}, key ${key})`, { store, key }, options);
  }
}
