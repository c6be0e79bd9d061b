import type { Writable } from 'node:stream';
import type { LoadedConfig, OptionSpec, OptionValues } from '../config/index.js';
import type { Logger } from '../log/index.js';

/** What a command's `run` receives. Everything process-wide is passed in, so commands are testable. */
export interface CommandContext {
  config: LoadedConfig;
  /**
   * The command's resolved options, read by type (`options.string('repo')`, `options.boolean('json')`):
   * each read is checked against the command's OptionSpecs (and the global ones), so a key it does
   * not declare or a reader of another type is an INTERNAL error, never a cast.
   */
  options: OptionValues;
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writable;
  /** `columns`: the terminal's width, when it is one (process.stderr has it). */
  stderr: Writable & { isTTY?: boolean; columns?: number };
  logger: Logger;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

/** One noun-verb CLI command; each lives in its own file under src/cli and calls one domain function. */
export interface CliCommand {
  /** The command words, e.g. ['binlog', 'inspect']. */
  words: readonly string[];
  /** One line for the command list. */
  summary: string;
  /** Usage after the command words, e.g. 'FILE... [--json]'. */
  usage: string;
  /** Longer help text shown by `--help`, after the options (examples, notes). */
  details?: string;
  options: readonly OptionSpec[];
  /** Runs the command; returns the exit code (0 when void). Throws PitrError for failures. */
  run(ctx: CommandContext): Promise<number | void>;
}
