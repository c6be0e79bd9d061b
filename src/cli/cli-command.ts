import type { Writable } from 'node:stream';
import type { LoadedConfig, OptionSpec } from '../config/index.js';
import type { Logger } from '../log/index.js';

/** What a command's `run` receives. Everything process-wide is passed in, so commands are testable. */
export interface CommandContext {
  config: LoadedConfig;
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
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
