import { PitrError } from '../errors/index.js';

/**
 * A dump did not produce a usable backup: the dump tool is missing (DUMP_TOOL_MISSING), exited
 * with an error, was killed, lost its connection, or its output lacked the snapshot coordinates
 * (DUMP_FAILED). No manifest was written.
 */
export class DumpError extends PitrError {
  /** The dump program (path or name). */
  readonly tool: string;
  /** The program's exit code, when it exited. */
  readonly exitCode: number | null;
  /** The signal that ended the program, when one did. */
  readonly signal: string | null;
  /** The last lines the program wrote to stderr (may be empty). */
  readonly stderrTail: string;

  constructor(
    code: 'DUMP_FAILED' | 'DUMP_TOOL_MISSING',
    message: string,
    details: { tool: string; exitCode?: number | null; signal?: string | null; stderrTail?: string },
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.tool = details.tool;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail ?? '';
  }
}
