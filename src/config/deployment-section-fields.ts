import type { Validator } from './deployment-validator.js';

/** Where a field's value came from: the value (undefined when absent) and the path a problem names. */
export interface FieldSource {
  readonly value: unknown;
  readonly path: string;
}

/** Reads a field's raw value into its type, or reports a problem at `path` and returns undefined. */
export type FieldRead<T> = (value: unknown, path: string) => T | undefined;

/**
 * The fields of one section of the deployment config, read one by one with the Validator's
 * readers: every problem names the field's path, and the section remembers whether any field
 * failed so that it can hand back the whole section or nothing (`complete`).
 *
 * The one home of "required / optional with a default / may be absent" for every section: a
 * top-level section looks its keys up in its own object (`SectionFields.of`), a cluster section
 * in the cluster, then `defaults`, then the built-in value (`ClusterSettings`).
 */
export class SectionFields {
  /** True once a field was invalid or a required one missing. */
  failed = false;

  /**
   * @param v collects the problems
   * @param lookup where key's value comes from and which path to blame
   * @param missing the problem of a required key that is absent (its path is `lookup(key).path`),
   *   or a function of the key giving it
   */
  constructor(
    readonly v: Validator,
    private readonly lookup: (key: string) => FieldSource,
    private readonly missing: string | ((key: string) => string) = 'is required',
  ) {}

  /** The fields of `obj`, at `path` (`repository` -> `repository.prefix`). */
  static of(v: Validator, obj: Record<string, unknown>, path: string): SectionFields {
    return new SectionFields(v, (key) => ({ value: obj[key], path: `${path}.${key}` }));
  }

  /** Whether the key has a value (in the section, or for a cluster in defaults or built in). */
  has(key: string): boolean {
    return this.lookup(key).value !== undefined;
  }

  /** The path a problem about `key` names. */
  path(key: string): string {
    return this.lookup(key).path;
  }

  /** `key` read by `read`; a problem when it is absent. */
  required<T>(key: string, read: FieldRead<T>): T | undefined {
    const { value, path } = this.lookup(key);
    const missing = typeof this.missing === 'string' ? this.missing : this.missing(key);
    return this.check(value === undefined ? this.v.fail(path, missing) : read(value, path));
  }

  /** `key` read by `read`, or `fallback` when it is absent. */
  optional<T>(key: string, fallback: T, read: FieldRead<T>): T | undefined {
    const { value, path } = this.lookup(key);
    return value === undefined ? fallback : this.check(read(value, path));
  }

  /** `key` read by `read`, or undefined (and no problem) when it is absent. */
  maybe<T>(key: string, read: FieldRead<T>): T | undefined {
    const { value, path } = this.lookup(key);
    return value === undefined ? undefined : this.check(read(value, path));
  }

  /**
   * The section from its fields, or undefined when any field failed. A field that is undefined
   * here either failed (then `failed` is set) or was allowed to be absent (`maybe`).
   */
  complete<T>(fields: { [K in keyof T]: T[K] | undefined }): T | undefined {
    return this.failed ? undefined : (fields as T);
  }

  private check<T>(read: T | undefined): T | undefined {
    if (read === undefined) this.failed = true;
    return read;
  }
}
