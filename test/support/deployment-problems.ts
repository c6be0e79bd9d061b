import assert from 'node:assert/strict';
import { loadDeploymentConfig } from '../../src/config/deployment-config.js';
import { isPitrError } from '../../src/errors/index.js';

/** The problem lines of the ConfigError that loading `data` as a deployment config throws. */
export function deploymentProblems(data: unknown): string[] {
  try {
    loadDeploymentConfig(data as Record<string, unknown>);
  } catch (err) {
    assert.ok(isPitrError(err, 'CONFIG_INVALID'), String(err));
    return err.message
      .split('\n')
      .slice(1)
      .map((l) => l.replace(/^\s+- /, ''));
  }
  assert.fail('expected the config to be rejected');
}
