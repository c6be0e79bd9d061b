import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config-error.js';
import { parseDuration } from './duration.js';
import { defaultEnvName, type OptionSpec } from './option-spec.js';
import { checkConfigFileKeys, checkEnvironment } from './unknown-settings.js';

export type ConfigValue = string | number | boolean | readonly string[] | undefined;
export type ConfigValues = Readonly<Record<string, ConfigValue>>;

export interface LoadedConfig {
  /** Resolved, validated, frozen values keyed by OptionSpec.key. */
  values: ConfigValues;
  /** Positional arguments, in order. */
  positionals: readonly string[];
  /** Where each value came from, for `--help`-style diagnostics: `flag`, `env`, `file`, `default`. */
  sources: Readonly<Record<string, 'flag' | 'env' | 'file' | 'default'>>;
}

/** Setting shared by every entry point: the JSON config file. */
export const CONFIG_FILE_OPTION: OptionSpec = {
  key: 'config',
  flag: 'config',
  type: 'string',
  valueName: 'FILE',
  env: 'MYSQL_PITR_CONFIG',
  description:
    'JSON config file; its keys are the camelCase names of the flags (flags and MYSQL_PITR_* env win)',
};

const FLAG_FOR_SECRET = /pass(word)?$/i;

/**
 * Resolves `specs` from argv (flags after the command words), env and an optional JSON config
 * file. Precedence: flag > environment (`MYSQL_PITR_*`) > config file > default.
 *
 * Throws ConfigError for unknown flags, bad values, a missing required setting, an unreadable
 * config file, or a password passed as a flag (secrets travel only in env or files); for a config
 * file key outside `knownKeys` and a `MYSQL_PITR_*` variable outside `knownEnv` (each defaults to
 * what `specs` read; an entry point serving several commands passes the union of all of them, so
 * one file or environment can serve every command).
 */
export function loadConfig(
  specs: readonly OptionSpec[],
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  opts: { allowPositionals?: boolean; knownKeys?: ReadonlySet<string>; knownEnv?: ReadonlySet<string> } = {},
): LoadedConfig {
  const all = [CONFIG_FILE_OPTION, ...specs];
  checkEnvironment(env, opts.knownEnv ?? new Set(specEnvNames(all)));
  const parseOptions: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const s of all) {
    if (!s.flag || s.secret) continue;
    parseOptions[s.flag] = {
      type: s.type === 'boolean' ? 'boolean' : 'string',
      ...(s.short ? { short: s.short } : {}),
      ...(s.type === 'list' ? { multiple: true } : {}),
    };
  }
  for (const arg of argv) {
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (name && FLAG_FOR_SECRET.test(name) && !parseOptions[name]) {
      throw new ConfigError(
        `--${name} is not accepted: passwords never travel on the command line (they would show in ps and shell history). ` +
          'Set the MYSQL_PITR_*_PASSWORD environment variable or use the matching --*-password-file flag.',
      );
    }
  }

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: parseOptions,
      allowPositionals: opts.allowPositionals ?? true,
      strict: true,
    });
  } catch (err) {
    throw new ConfigError(
      `${(err as Error).message.replace(/\. To specify a positional.*$/s, '')}. See --help.`,
      {
        cause: err,
      },
    );
  }

  const flagValues = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const configPath = (flagValues['config'] as string | undefined) ?? env['MYSQL_PITR_CONFIG'];
  const fileValues = configPath
    ? readConfigFile(configPath, all, opts.knownKeys ?? new Set(all.map((s) => s.key)))
    : {};

  const values: Record<string, ConfigValue> = {};
  const sources: Record<string, 'flag' | 'env' | 'file' | 'default'> = {};
  for (const spec of all) {
    const envName = spec.env === false ? undefined : (spec.env ?? defaultEnvName(spec.key));
    let raw: unknown;
    let from: 'flag' | 'env' | 'file' | 'default' | undefined;
    let origin = '';
    if (spec.flag && !spec.secret && flagValues[spec.flag] !== undefined) {
      raw = flagValues[spec.flag];
      from = 'flag';
      origin = `--${spec.flag}`;
    } else if (envName && env[envName] !== undefined && env[envName] !== '') {
      raw = env[envName];
      from = 'env';
      origin = `environment variable ${envName}`;
    } else if (spec.key in fileValues) {
      raw = fileValues[spec.key];
      from = 'file';
      origin = `"${spec.key}" in ${configPath}`;
    } else if (spec.default !== undefined) {
      raw = spec.default;
      from = 'default';
      origin = 'the default';
    }
    if (from === undefined) {
      if (spec.required) {
        const ways = [
          spec.flag && !spec.secret ? `--${spec.flag}` : undefined,
          envName,
          `"${spec.key}" in the config file`,
        ]
          .filter(Boolean)
          .join(', or ');
        throw new ConfigError(`missing ${spec.description.toLowerCase()}: set ${ways}.`);
      }
      continue;
    }
    values[spec.key] = coerce(spec, raw, origin);
    sources[spec.key] = from;
  }
  return {
    values: Object.freeze(values),
    positionals: Object.freeze([...parsed.positionals]),
    sources: Object.freeze(sources),
  };
}

/** The environment variables `specs` read. */
export function specEnvNames(specs: readonly OptionSpec[]): string[] {
  return specs.flatMap((s) => (s.env === false ? [] : [s.env ?? defaultEnvName(s.key)]));
}

function readConfigFile(
  path: string,
  specs: readonly OptionSpec[],
  knownKeys: ReadonlySet<string>,
): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold a JSON object of settings`);
  }
  // A typo ("keepDay") must not silently leave the default in force. Keys of other commands are
  // known (one file serves several commands) and ignored here.
  checkConfigFileKeys(Object.keys(data), knownKeys, path);
  const known = new Set(specs.map((s) => s.key));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (known.has(k)) out[k] = v;
  return out;
}

function coerce(spec: OptionSpec, raw: unknown, origin: string): ConfigValue {
  const bad = (what: string): never => {
    throw new ConfigError(`${origin}: ${JSON.stringify(raw)} is not ${what}`);
  };
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true;
      if (typeof raw === 'string' && /^(0|false|no|off)$/i.test(raw)) return false;
      return bad('a boolean (true/false)');
    case 'integer': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^-?\d+$/.test(raw.trim())
            ? Number(raw)
            : NaN;
      if (!Number.isSafeInteger(n)) return bad('a whole number');
      return n;
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return bad('a number');
      return n;
    }
    case 'duration': {
      if (typeof raw === 'number') return raw;
      const ms = typeof raw === 'string' ? parseDuration(raw) : undefined;
      if (ms === undefined) return bad('a duration such as 500ms, 1s, 5m, 2h or 7d');
      return ms;
    }
    case 'list': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : bad('a list');
      const out = items
        .flatMap((x) => String(x).split(','))
        .map((x) => x.trim())
        .filter(Boolean);
      return Object.freeze(out);
    }
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return bad('a string');
      const s = String(raw);
      if (spec.choices && !spec.choices.includes(s)) return bad(`one of ${spec.choices.join(', ')}`);
      return s;
    }
  }
}
