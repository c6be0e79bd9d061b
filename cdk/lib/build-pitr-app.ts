import type { App } from 'aws-cdk-lib';
import { loadDeploymentConfig } from '../../src/config/deployment-config.js';
import { PitrStack } from './pitr-stack.js';

export interface BuildPitrAppOptions {
  /** Absolute path of the deployment config JSON. */
  readonly configPath: string;
  /** The repository root. */
  readonly projectRoot: string;
  readonly imageTag?: string;
}

/**
 * Loads and validates the deployment config (throws ConfigError CONFIG_INVALID listing every
 * problem, before any construct exists) and adds the deployment's stack to `app`. The stack is
 * named `mysql-pitr-<deployment>`.
 */
export function buildPitrApp(app: App, options: BuildPitrAppOptions): PitrStack {
  const config = loadDeploymentConfig(options.configPath);
  const { account, region } = config.env;
  return new PitrStack(app, `mysql-pitr-${config.deployment}`, {
    config,
    configPath: options.configPath,
    projectRoot: options.projectRoot,
    ...(options.imageTag ? { imageTag: options.imageTag } : {}),
    ...(account || region ? { env: { account, region } } : {}),
    description: `mysql-pitr ${config.deployment}: binlog archivers, scheduled dumps and point-in-time recovery`,
  });
}
