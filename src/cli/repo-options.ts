import type { OptionSpec } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { openObjectStore, type ObjectStore } from '../storage/index.js';
import type { CommandContext } from './cli-command.js';

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

/** Opens the repository named by REPO_OPTIONS in `values`. Credentials come from the AWS SDK chain. */
export function openRepository(values: CommandContext['config']['values'], logger: Logger): ObjectStore {
  const endpoint = values['s3Endpoint'] as string | undefined;
  const region = values['region'] as string | undefined;
  return openObjectStore(values['repo'] as string, {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    logger,
  });
}
