import { ConfigError } from '../config/config-error.js';

/** The bucket and key prefix of an `s3://bucket/prefix/` repository URL. */
export interface S3RepositoryLocation {
  readonly bucket: string;
  /** Key prefix without leading or trailing `/` (`pitr/orders`), `''` for the bucket root. */
  readonly prefix: string;
}

/**
 * Splits `s3://bucket/prefix/cluster/` into bucket and prefix. Throws ConfigError when the URL is
 * not an s3:// URL with a bucket name.
 */
export function parseS3RepositoryUrl(url: string): S3RepositoryLocation {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) {
    throw new ConfigError(
      `repository '${url}' is not an s3://bucket/prefix/ URL; check the job message and the deployment config`,
    );
  }
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}
