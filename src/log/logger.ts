/**
 * Structured logging to stderr. JSON lines when stderr is not a TTY (containers, CI, Lambda);
 * short human lines on a TTY. Data never goes here: stdout is for command output.
 *
 * Modules receive a Logger through their constructors; nothing logs through a global.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** JSON lines (default: when the stream is not a TTY). */
  json?: boolean;
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  fields?: LogFields;
}

/** Serializes an Error (with code and cause) for a log line. */
function serialize(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.cause !== undefined) out.cause = serialize(value.cause);
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const stream = options.stream ?? process.stderr;
  const json = options.json ?? !(stream as { isTTY?: boolean }).isTTY;
  const min = LEVELS[options.level ?? 'info'];
  const base = options.fields ?? {};

  const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVELS[level] < min) return;
    const all: LogFields = { ...base, ...fields };
    if (json) {
      const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
      for (const [k, v] of Object.entries(all)) line[k] = serialize(v);
      stream.write(JSON.stringify(line) + '\n');
    } else {
      const extras = Object.entries(all)
        .map(([k, v]) => {
          const s = serialize(v);
          return `${k}=${typeof s === 'string' ? s : JSON.stringify(s)}`;
        })
        .join(' ');
      const tag = level === 'info' ? '' : `${level.toUpperCase()}: `;
      stream.write(`${tag}${msg}${extras ? `  (${extras})` : ''}\n`);
    }
  };

  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ ...options, stream, json, fields: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (for tests and libraries used quietly). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
