import { Readable } from 'node:stream';

import { messageOf } from '../errors/index.js';

import type {
  ByteRange,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
} from './object-store.js';
import type { S3ObjectStore, S3ObjectStoreOptions } from './s3-object-store.js';
import { validateKeyPrefix } from './object-key.js';
import { assertFreshBody } from './put-body.js';
import { StorageError } from './storage-error.js';

/** S3's smallest multipart part (S3ObjectStore checks the same bound). */
const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * An `s3://` repository whose {@link S3ObjectStore} (and with it the AWS SDK, about 25 MiB of
 * resident memory) is loaded on the first operation, so that commands on a `file://` repository
 * and code paths that never touch the store do not pay for it. `openObjectStore` returns one for
 * every `s3://` URL.
 *
 * Behaves exactly as the {@link S3ObjectStore} it wraps: same contract, same errors. What can be
 * answered without the SDK (`supportsConditionalPut`, `describe()`, `bucket`, `keyPrefix`, and
 * the prefix validation the constructor does) is computed from the options the same way.
 */
export class LazyS3ObjectStore implements ObjectStore {
  readonly supportsConditionalPut: boolean;
  readonly bucket: string;
  /** Key prefix inside the bucket, '' or ending with '/'. */
  readonly keyPrefix: string;
  readonly #options: S3ObjectStoreOptions;
  readonly #url: string;
  #store: Promise<S3ObjectStore> | undefined;
  #destroyed = false;

  /**
   * Checks what S3ObjectStore's constructor checks, so that a bad URL or setting still fails
   * before any I/O.
   *
   * @throws StorageError USAGE when the prefix is not a valid key prefix, CONFIG_INVALID when the
   *   part size is below S3's minimum of 5 MiB.
   */
  constructor(options: S3ObjectStoreOptions) {
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.#options = options;
    this.bucket = options.bucket;
    this.keyPrefix = prefix === '' ? '' : `${prefix}/`;
    this.#url = `s3://${options.bucket}/${prefix}`;
    if (prefix !== '') validateKeyPrefix(this.#url, this.keyPrefix);
    const partSize = options.partSizeBytes ?? MIN_PART_SIZE;
    if (partSize < MIN_PART_SIZE) {
      throw new StorageError('CONFIG_INVALID', `S3 part size ${partSize} is below S3's minimum of 5 MiB`, {
        store: this.#url,
      });
    }
    this.supportsConditionalPut = options.conditionalPut ?? true;
  }

  describe(): string {
    return this.#url;
  }

  /**
   * Closes the underlying client's sockets if it was ever created. The store must not be used
   * afterwards.
   */
  destroy(): void {
    this.#destroyed = true;
    void this.#store?.then(
      (store) => store.destroy(),
      () => undefined,
    );
  }

  async put(key: string, body: PutBody, opts?: PutOptions): Promise<PutResult> {
    assertFreshBody(this.#url, key, body);
    if (!(body instanceof Readable)) return (await this.#load()).put(key, body, opts);
    // S3ObjectStore listens for the caller's stream failing from the moment a put starts. Do the
    // same while the SDK loads, so such a failure is neither an uncaught 'error' nor reported as
    // "stream already read": the caller gets its own error back, as from S3ObjectStore.
    let failed: { error: unknown } | undefined;
    const onError = (error: unknown): void => {
      failed ??= { error };
    };
    body.on('error', onError);
    let store: S3ObjectStore;
    try {
      store = await this.#load();
    } finally {
      body.off('error', onError);
    }
    if (failed !== undefined) throw failed.error;
    // Synchronously from here, S3ObjectStore.put attaches its own listener before any await.
    return store.put(key, body, opts);
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    return (await this.#load()).get(key, range);
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    return (await this.#load()).getStream(key, range);
  }

  async head(key: string): Promise<ObjectInfo> {
    return (await this.#load()).head(key);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.#load()).exists(key);
  }

  async *list(prefix: string, opts?: ListOptions): AsyncIterable<ObjectInfo> {
    yield* (await this.#load()).list(prefix, opts);
  }

  async delete(keys: readonly string[]): Promise<void> {
    return (await this.#load()).delete(keys);
  }

  /** The real store, created once; a failed import or constructor is retried on the next call. */
  #load(): Promise<S3ObjectStore> {
    if (this.#destroyed) {
      // A programming error (use after destroy), not a storage condition; creating a client now
      // would leave keep-alive sockets open that nothing closes.
      return Promise.reject(
        new StorageError('INTERNAL', `store ${this.#url} was used after destroy(); this is a bug`, {
          store: this.#url,
        }),
      );
    }
    if (this.#store === undefined) {
      const store = import('./s3-object-store.js').then(
        ({ S3ObjectStore }) => new S3ObjectStore(this.#options),
        (err: unknown) => {
          throw new StorageError(
            'INTERNAL',
            `cannot load the S3 client for ${this.#url}: ${messageOf(err)}. The AWS SDK is missing ` +
              'or broken in this installation: reinstall mysql-pitr with its dependencies (npm ci).',
            { store: this.#url },
            { cause: err },
          );
        },
      );
      this.#store = store;
      store.catch(() => {
        if (this.#store === store) this.#store = undefined;
      });
    }
    return this.#store;
  }
}
