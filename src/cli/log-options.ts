import type { OptionSpec, OptionValues } from '../config/index.js';
import type { LogLevel } from '../log/index.js';

/** The values of `--log-level`. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** `--log-format`: JSON lines, text, or auto (text on a terminal, JSON otherwise). */
export type LogFormat = 'auto' | 'json' | 'text';

/** The values of `--log-format`. */
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'text'];

/** `--log-level` and `--log-format`, which every command accepts (part of main's GLOBAL_OPTIONS). */
export const LOG_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'logLevel',
    flag: 'log-level',
    type: 'string',
    choices: LOG_LEVELS,
    default: 'info',
    description: 'Log level (logs go to stderr)',
  },
  {
    key: 'logFormat',
    flag: 'log-format',
    type: 'string',
    choices: LOG_FORMATS,
    default: 'auto',
    description: 'Log format: JSON lines, text, or auto (text on a terminal, JSON otherwise)',
  },
];

/**
 * The `createLogger` settings of LOG_OPTIONS: the level, and `json` unless the format is `auto`
 * (then the logger picks text on a terminal, JSON otherwise).
 *
 * @throws PitrError INTERNAL when `options` were not resolved from LOG_OPTIONS
 */
export function readLogSettings(options: OptionValues): { level: LogLevel; json?: boolean } {
  const format = options.choice('logFormat', LOG_FORMATS);
  return {
    level: options.choice('logLevel', LOG_LEVELS),
    ...(format === 'auto' ? {} : { json: format === 'json' }),
  };
}
