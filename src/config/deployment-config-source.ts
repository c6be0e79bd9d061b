import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './config-error.js';

/** What can be handed to `loadDeploymentConfig`. */
export type DeploymentConfigSource = string | URL | Record<string, unknown>;

/**
 * The parsed data of a deployment config and how problems name it (`deployment config FILE`).
 *
 * `source` is a path or `file:` URL of a JSON file, JSON text (a string starting with `{`), or an
 * already parsed object (returned as it is).
 *
 * @throws ConfigError (CONFIG_INVALID) when the file cannot be read or is not JSON, saying what to do
 */
export function readDeploymentConfigSource(source: DeploymentConfigSource): {
  origin: string;
  data: unknown;
} {
  if (typeof source === 'string' && source.trimStart().startsWith('{')) {
    const origin = 'deployment config';
    return { origin, data: parseJson(source, origin) };
  }
  if (typeof source === 'string' || source instanceof URL) {
    const path = source instanceof URL ? fileURLToPath(source) : source;
    const origin = `deployment config ${path}`;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `cannot read ${origin}: ${(err as Error).message}. Check the path (cdk: -c config=FILE, relative to cdk/).`,
        { cause: err },
      );
    }
    return { origin, data: parseJson(text, origin) };
  }
  return { origin: 'deployment config', data: source };
}

function parseJson(text: string, origin: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError(
      `${origin} is not valid JSON: ${(err as Error).message}. Fix the syntax and try again.`,
      { cause: err },
    );
  }
}
