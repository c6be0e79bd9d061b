import { fileURLToPath } from 'node:url';

import type { Logger } from '../log/index.js';
import { FsObjectStore } from './fs-object-store.js';
import type { ObjectStore } from './object-store.js';
import { LazyS3ObjectStore } from './lazy-s3-object-store.js';
import { redactUrl } from '../log/index.js';
// Types only: the AWS SDK behind S3ObjectStore is loaded on the first S3 operation, never for file://.
import type { S3Credentials, S3ObjectStoreOptions } from './s3-object-store.js';
import { StorageError } from './storage-error.js';

/** Options of {@link openObjectStore}. All values come from the caller's config: nothing here reads the environment. */
export interface OpenObjectStoreOptions {
  /** S3 region (the caller passes `--region` or AWS_REGION); when omitted the SDK resolves it. */
  region?: string;
  /** Endpoint of an S3-compatible store or emulator; implies path-style addressing. */
  endpoint?: string;
  /** Static credentials; when omitted the SDK's default provider chain (profile, SSO, IAM role). */
  credentials?: S3Credentials;
  /** Tuning passed to `S3ObjectStore` (retries, part size, timeouts). */
  s3?: Omit<S3ObjectStoreOptions, 'bucket' | 'prefix' | 'region' | 'endpoint' | 'credentials' | 'logger'>;
  logger?: Logger;
}

/** What an `s3://` URL names. A DNS-compatible bucket name; the prefix loses its outer slashes. */
const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/**
 * Opens the repository at `url`: `file:///abs/path` (or a plain absolute path) gives an
 * {@link FsObjectStore}, `s3://bucket/prefix` a {@link LazyS3ObjectStore}: an `S3ObjectStore` whose
 * AWS SDK is imported on its first operation, so a file:// repository never loads the SDK. Does no
 * I/O: a missing bucket or directory shows up on the first operation.
 *
 * @throws StorageError CONFIG_INVALID when the URL has another scheme, a relative path, a bad
 *   bucket name, or a query string or fragment.
 */
export function openObjectStore(url: string, options: OpenObjectStoreOptions = {}): ObjectStore {
  const shown = redactUrl(url);
  const invalid = (why: string): StorageError =>
    new StorageError(
      'CONFIG_INVALID',
      `repository ${shown} ${why}. Use file:///absolute/path or s3://bucket/prefix (--repo).`,
      { store: shown },
    );
  if (url.startsWith('/')) return new FsObjectStore({ root: url, logger: options.logger });
  if (url.startsWith('file:')) {
    let path: string;
    try {
      const parsed = new URL(url);
      if (parsed.search !== '' || parsed.hash !== '') throw invalid('has a query string or fragment');
      path = fileURLToPath(parsed);
    } catch (err) {
      if (err instanceof StorageError) throw err;
      throw invalid(
        `is not a valid file:// URL (${err instanceof Error ? err.message : String(err)}); a local path needs three slashes`,
      );
    }
    return new FsObjectStore({ root: path, logger: options.logger });
  }
  if (url.startsWith('s3:')) {
    if (/[?#]/.test(url)) throw invalid('has a query string or fragment');
    const m = S3_URL.exec(url);
    if (!m)
      throw invalid(
        'is not s3://bucket/prefix with a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)',
      );
    return new LazyS3ObjectStore({
      ...options.s3,
      bucket: m[1]!,
      prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, ''),
      region: options.region,
      endpoint: options.endpoint,
      credentials: options.credentials,
      logger: options.logger,
    });
  }
  throw invalid('has an unsupported scheme');
}
