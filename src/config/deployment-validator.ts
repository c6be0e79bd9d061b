/**
 * The validator of the deployment config: collects problems with their field paths, and the one
 * home of the typed readers of plain values (strings, whole and decimal numbers, booleans, choices,
 * lists, objects with known keys) that every section reader builds on. Which fields a section
 * requires, defaults or allows to be absent is `SectionFields` (deployment-section-fields.ts).
 */

import { editDistance } from './unknown-settings.js';

/** Collects every problem of a config (each naming its field path) instead of stopping at the first. */
export class Validator {
  readonly problems: string[] = [];

  /** Records the problem `path: what` (once) and returns undefined, so a reader can `return v.fail(...)`. */
  fail(path: string, what: string): undefined {
    const problem = `${path}: ${what}`;
    // A bad value in `defaults` is seen once per cluster; report it once.
    if (!this.problems.includes(problem)) this.problems.push(problem);
    return undefined;
  }

  /** An object with only `allowed` keys; reports each unknown key (with a suggestion) and returns the object. */
  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(path, `must be an object, not ${describe(value)}`);
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) {
        const guess = closest(key, allowed);
        this.fail(
          joinPath(path, key),
          `unknown field${guess ? `; did you mean ${guess}?` : '.'} Allowed here: ${allowed.join(', ')}`,
        );
      }
    }
    return obj;
  }

  /** A non-empty string, matching `re` when given; `hint` says what is expected. */
  string(value: unknown, path: string, re?: RegExp, hint?: string): string | undefined {
    if (typeof value !== 'string' || value === '') {
      return this.fail(path, `must be a non-empty string${hint ? ` (${hint})` : ''}, not ${describe(value)}`);
    }
    if (re && !re.test(value))
      return this.fail(path, `'${value}' is not valid${hint ? `; expected ${hint}` : ''}`);
    return value;
  }

  /** A whole number from `min` to `max`; `unit` follows the range in a problem (`' days'`). */
  integer(value: unknown, path: string, min: number, max: number, unit = ''): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return this.fail(path, `must be a whole number from ${min} to ${max}${unit}, not ${describe(value)}`);
    }
    if (value < min || value > max)
      return this.fail(path, `${value} is out of range; allowed ${min} to ${max}${unit}`);
    return value;
  }

  /** A finite number above `minExclusive` and at most `max` (fractions allowed). */
  number(value: unknown, path: string, minExclusive: number, max: number, unit = ''): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return this.fail(
        path,
        `must be a number above ${minExclusive} and at most ${max}${unit}, not ${describe(value)}`,
      );
    }
    if (value <= minExclusive || value > max) {
      return this.fail(path, `${value} is out of range; allowed above ${minExclusive} up to ${max}${unit}`);
    }
    return value;
  }

  /** `true` or `false` (not `'true'`). */
  boolean(value: unknown, path: string): boolean | undefined {
    if (typeof value !== 'boolean') return this.fail(path, `must be true or false, not ${describe(value)}`);
    return value;
  }

  /** One of `choices`, spelt exactly. */
  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T | undefined {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      return this.fail(
        path,
        `${describe(value)} is not allowed; use one of ${choices.map((c) => `'${c}'`).join(', ')}`,
      );
    }
    return value as T;
  }

  /**
   * A list of at least `minLength` distinct strings matching `re`; each bad item is reported at
   * `path[i]` and left out of the returned list.
   */
  stringList(value: unknown, path: string, re: RegExp, hint: string, minLength = 0): string[] | undefined {
    if (!Array.isArray(value)) return this.fail(path, `must be a list of ${hint}, not ${describe(value)}`);
    if (value.length < minLength) return this.fail(path, `must list at least ${minLength} ${hint}`);
    const out: string[] = [];
    value.forEach((item, i) => {
      const s = this.string(item, `${path}[${i}]`, re, hint);
      if (s !== undefined) out.push(s);
    });
    if (new Set(out).size !== out.length) this.fail(path, 'lists the same value twice');
    return out;
  }
}

/** How a value is named in a problem: `'text'`, `a list`, `number 3`. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `'${value}'`;
  return `${typeof value} ${String(value)}`;
}

/** `path.key` (just `key` at the top level). */
export function joinPath(path: string, key: string): string {
  return path === '(top level)' ? key : `${path}.${key}`;
}

/** The allowed key nearest to a misspelt one (case-insensitive edit distance at most 2). */
export function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
