import { PitrError } from '../errors/index.js';
import type { ConfigValue, ConfigValues } from './load-config.js';

/**
 * Typed reads of the values `loadConfig` resolved, instead of `as` casts: each read checks that the
 * value has the type its reader promises. loadConfig coerces every value to its OptionSpec type, so
 * a mismatch means a command reads an option as another type than it declared: a bug, reported as
 * INTERNAL naming the option, never a silently wrong value.
 */
export class OptionValues {
  readonly #values: ConfigValues;

  constructor(values: ConfigValues) {
    this.#values = values;
  }

  /** A string option that has a value (required, or with a default). @throws PitrError INTERNAL */
  string(key: string): string {
    return this.#need(key, this.optionalString(key));
  }

  /** A string option, or undefined when no source set it. @throws PitrError INTERNAL */
  optionalString(key: string): string | undefined {
    return this.#read(key, 'a string', (v): v is string => typeof v === 'string');
  }

  /** An integer, number or duration (ms) option that has a value. @throws PitrError INTERNAL */
  number(key: string): number {
    return this.#need(key, this.optionalNumber(key));
  }

  /** An integer, number or duration (ms) option, or undefined. @throws PitrError INTERNAL */
  optionalNumber(key: string): number | undefined {
    return this.#read(key, 'a number', (v): v is number => typeof v === 'number');
  }

  /** A boolean option; unset is false. @throws PitrError INTERNAL */
  boolean(key: string): boolean {
    return this.#read(key, 'true or false', (v): v is boolean => typeof v === 'boolean') ?? false;
  }

  /** A list option; unset is the empty list. @throws PitrError INTERNAL */
  list(key: string): readonly string[] {
    return this.#read(key, 'a list', (v): v is readonly string[] => Array.isArray(v)) ?? [];
  }

  #read<T>(key: string, what: string, is: (v: ConfigValue) => v is T & ConfigValue): T | undefined {
    const v = this.#values[key];
    if (v === undefined) return undefined;
    if (!is(v)) {
      throw new PitrError(
        'INTERNAL',
        `option ${key} holds ${typeof v === 'object' ? 'a list' : typeof v}, not ${what}: the command reads it ` +
          'as another type than its OptionSpec declares',
      );
    }
    return v;
  }

  #need<T>(key: string, v: T | undefined): T {
    if (v === undefined) {
      throw new PitrError(
        'INTERNAL',
        `option ${key} has no value: the command reads it as required but its OptionSpec has no default`,
      );
    }
    return v;
  }
}
