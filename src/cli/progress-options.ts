import { Writable } from 'node:stream';
import type { OptionSpec } from '../config/index.js';
import { createLogger, type Logger } from '../log/index.js';
import type { RestoreProgressListener } from '../restore/index.js';
import type { CommandContext } from './cli-command.js';
import { readLogSettings } from './log-options.js';
import { ProgressRenderer, type ProgressMode } from './progress-renderer.js';

/** The options of commands that show restore progress. */
export const PROGRESS_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'noProgress',
    flag: 'no-progress',
    type: 'boolean',
    description: 'Show no progress (bars on a terminal, a line every 5 s otherwise, JSON lines with --json)',
  },
  {
    key: 'quiet',
    flag: 'quiet',
    short: 'q',
    type: 'boolean',
    description: 'Show neither progress nor the plan on stderr; logs and the final report stay',
  },
];

/** Where a command sends restore progress, and the logger to use while it runs. */
export interface ProgressOutput {
  /** Undefined when progress is off. */
  listener: RestoreProgressListener | undefined;
  /** ctx.logger, or on a terminal one that writes above the bars. */
  logger: Logger;
  /** Prints the final state and stops the timer; call once, also after a failure. */
  close(): void;
}

/** How often time-based refreshes run (a stalled phase still shows its falling rate). */
const TICK_MS = 250;

/**
 * Opens the progress output of a restore command on ctx.stderr: bars on a terminal, plain lines
 * off one, JSON lines with `--json`; nothing with `--quiet` or `--no-progress`. Honours NO_COLOR.
 */
export function openProgress(ctx: CommandContext, opts: { json: boolean }): ProgressOutput {
  const o = ctx.options;
  if (o.boolean('quiet') || o.boolean('noProgress')) {
    return { listener: undefined, logger: ctx.logger, close() {} };
  }
  const stderr = ctx.stderr;
  const mode: ProgressMode = opts.json ? 'json' : stderr.isTTY ? 'tty' : 'plain';
  const noColor = ctx.env['NO_COLOR'] !== undefined && ctx.env['NO_COLOR'] !== '';
  const renderer = new ProgressRenderer({
    mode,
    write: (text) => stderr.write(text),
    color: mode === 'tty' && !noColor,
    ...(stderr.columns ? { columns: stderr.columns } : {}),
  });
  let logger = ctx.logger;
  if (mode === 'tty') {
    // Log lines go above the bars; the same level and format as the command's logger.
    const above = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        renderer.writeAbove(chunk.toString());
        callback();
      },
    });
    logger = createLogger({
      stream: Object.assign(above, { isTTY: true }),
      ...readLogSettings(o),
    });
  }
  const timer = setInterval(() => renderer.tick(), TICK_MS);
  timer.unref();
  return {
    listener: renderer.update,
    logger,
    close() {
      clearInterval(timer);
      renderer.finish();
    },
  };
}
