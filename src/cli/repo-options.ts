import type { OptionSpec, OptionValues } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { openObjectStore, type ObjectStore } from '../storage/index.js';

/**
 * Options naming the repository, shared by every command that reads or writes one.
 */
export const REPO_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'repo',
    flag: 'repo',
    type: 'string',
    required: true,
    valueName: 'URL',
    description: 'Repository URL: file:///absolute/path or s3://bucket/prefix',
  },
  {
    key: 's3Endpoint',
    flag: 's3-endpoint',
    type: 'string',
    valueName: 'URL',
    description: 'Endpoint of an S3-compatible store (MinIO, an emulator); default: AWS',
  },
  {
    key: 'region',
    flag: 'region',
    type: 'string',
    env: 'AWS_REGION',
    description: 'S3 region (default: the AWS SDK chain)',
  },
];

/**
 * Opens the repository named by REPO_OPTIONS in `options`. Credentials come from the AWS SDK chain.
 *
 * @throws PitrError INTERNAL when the command does not declare REPO_OPTIONS; what openObjectStore throws
 */
export function openRepository(options: OptionValues, logger: Logger): ObjectStore {
  const endpoint = options.optionalString('s3Endpoint');
  const region = options.optionalString('region');
  return openObjectStore(options.string('repo'), {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    logger,
  });
}
