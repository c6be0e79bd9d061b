import { StorageError } from './storage-error.js';

/** No object has this key (`get`, `getStream`, `head`). Listing a missing prefix is not an error. */
export class ObjectNotFoundError extends StorageError {
  declare readonly key: string;

  constructor(store: string, key: string, options?: ErrorOptions) {
    super(
      'OBJECT_NOT_FOUND',
      `object ${key} not found in ${store}. Check that --repo points at the right repository, ` +
        'and that the object was not removed by retention.',
      { store, key },
      options,
    );
  }
}
