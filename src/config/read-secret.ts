import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

/**
 * A password from a file (first line, trailing newline stripped) or from a value already taken
 * from the environment. The file wins when both are given. Returns undefined when neither is set.
 */
export function readSecret(opts: { value?: string; file?: string; what: string }): string | undefined {
  if (opts.file) {
    try {
      return readFileSync(opts.file, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new ConfigError(`cannot read ${opts.what} from ${opts.file}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return opts.value;
}
