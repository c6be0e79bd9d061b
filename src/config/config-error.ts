import { PitrError } from '../errors/index.js';

/** A setting is missing, malformed or not allowed. The message names the setting and where it came from. */
export class ConfigError extends PitrError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}
