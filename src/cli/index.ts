export { main, GLOBAL_OPTIONS, type CliIo } from './main.js';
export { ExitCode, exitCodeFor } from './exit-codes.js';
export type { CliCommand, CommandContext } from './cli-command.js';
