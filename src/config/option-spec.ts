/**
 * Declarative description of one setting of an entry point. `loadConfig` resolves every setting
 * from, in order of precedence: the command-line flag, the `MYSQL_PITR_*` environment variable,
 * the config file, the default.
 */
export type OptionType = 'string' | 'boolean' | 'integer' | 'number' | 'duration' | 'list';

export interface OptionSpec {
  /** Key in the resolved config object (camelCase), e.g. `flushInterval`. */
  key: string;
  /** Long flag without dashes (kebab-case), e.g. `flush-interval`. Omit for env/file-only settings (secrets). */
  flag?: string;
  /** One-letter alias, e.g. `y` for `--yes`. */
  short?: string;
  type: OptionType;
  /** One line for `--help`. */
  description: string;
  /** Value used when no source sets it. Durations are milliseconds. */
  default?: string | number | boolean | readonly string[];
  /** Environment variable; defaults to `MYSQL_PITR_` + the key in UPPER_SNAKE_CASE. `false` for none. */
  env?: string | false;
  /** Never printed, never accepted as a flag (passwords). */
  secret?: boolean;
  /** Must be set by some source. */
  required?: boolean;
  /** Allowed values for a string option. */
  choices?: readonly string[];
  /** Placeholder for `--help`, e.g. `URL`. */
  valueName?: string;
}

/** `flushInterval` -> `MYSQL_PITR_FLUSH_INTERVAL`. */
export function defaultEnvName(key: string): string {
  return 'MYSQL_PITR_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
