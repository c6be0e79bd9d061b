import { PitrError } from '../errors/index.js';
import type { ConfigValue, ConfigValues } from './load-config.js';
import type { OptionSpec, OptionType } from './option-spec.js';

type Reader = 'string' | 'number' | 'boolean' | 'list';

/** What each reader returns, and the OptionSpec types it may read. */
const READERS: Readonly<Record<Reader, { what: string; types: readonly OptionType[] }>> = {
  string: { what: 'a string', types: ['string'] },
  number: { what: 'a number', types: ['integer', 'number', 'duration'] },
  boolean: { what: 'true or false', types: ['boolean'] },
  list: { what: 'a list', types: ['list'] },
};

/**
 * Typed reads of the values `loadConfig` resolved, instead of `as` casts: each read checks that the
 * value has the type its reader promises. loadConfig coerces every value to its OptionSpec type, so
 * a mismatch means a command reads an option as another type than it declared: a bug, reported as
 * INTERNAL naming the option, never a silently wrong value.
 *
 * Given the specs the values were resolved from (the CLI passes each command's), every read is
 * also checked against the declaration, set or not: a key the command does not declare, or a
 * reader of another type than the OptionSpec's, fails on the first run of that code path instead
 * of only when someone happens to set the option.
 */
export class OptionValues {
  readonly #values: ConfigValues;
  readonly #specs: ReadonlyMap<string, OptionSpec> | undefined;

  /**
   * @param values what `loadConfig` resolved
   * @param specs the OptionSpecs `values` were resolved from; when given, reads are checked against them
   */
  constructor(values: ConfigValues, specs?: readonly OptionSpec[]) {
    this.#values = values;
    this.#specs = specs && new Map(specs.map((s) => [s.key, s]));
  }

  /**
   * Whether the command declares option `key` (always true without specs): for a shared helper
   * that reads an option only some of its commands have. Never throws.
   */
  has(key: string): boolean {
    return this.#specs === undefined || this.#specs.has(key);
  }

  /** A string option that has a value (required, or with a default). @throws PitrError INTERNAL */
  string(key: string): string {
    return this.#need(key, this.optionalString(key));
  }

  /** A string option, or undefined when no source set it. @throws PitrError INTERNAL */
  optionalString(key: string): string | undefined {
    return this.#read(key, 'string', (v): v is string => typeof v === 'string');
  }

  /**
   * A string option with `choices`, as their union type. loadConfig already refused any other
   * value, so one here means `choices` differ from the OptionSpec's.
   *
   * @throws PitrError INTERNAL when unset, or for a value outside `choices`
   */
  choice<T extends string>(key: string, choices: readonly T[]): T {
    const v = this.string(key);
    const c = choices.find((x) => x === v);
    if (c === undefined) {
      throw new PitrError(
        'INTERNAL',
        `option ${key} is "${v}", not one of ${choices.join(', ')}: the command reads it with other choices than its OptionSpec declares`,
      );
    }
    return c;
  }

  /** An integer, number or duration (ms) option that has a value. @throws PitrError INTERNAL */
  number(key: string): number {
    return this.#need(key, this.optionalNumber(key));
  }

  /** An integer, number or duration (ms) option, or undefined. @throws PitrError INTERNAL */
  optionalNumber(key: string): number | undefined {
    return this.#read(key, 'number', (v): v is number => typeof v === 'number');
  }

  /** A boolean option; unset is false. @throws PitrError INTERNAL */
  boolean(key: string): boolean {
    return this.#read(key, 'boolean', (v): v is boolean => typeof v === 'boolean') ?? false;
  }

  /** A list option; unset is the empty list. @throws PitrError INTERNAL */
  list(key: string): readonly string[] {
    return this.#read(key, 'list', (v): v is readonly string[] => Array.isArray(v)) ?? [];
  }

  #read<T>(key: string, reader: Reader, is: (v: ConfigValue) => v is T & ConfigValue): T | undefined {
    const { what, types } = READERS[reader];
    if (this.#specs !== undefined) {
      const spec = this.#specs.get(key);
      if (spec === undefined) {
        throw new PitrError(
          'INTERNAL',
          `option ${key} is not declared by this command: add its OptionSpec to the command's options, or fix the key`,
        );
      }
      if (!types.includes(spec.type)) {
        throw new PitrError(
          'INTERNAL',
          `option ${key} is declared as ${spec.type}, not ${what}: the command reads it as another type than its ` +
            'OptionSpec declares',
        );
      }
    }
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
