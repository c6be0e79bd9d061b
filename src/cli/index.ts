export { main, GLOBAL_OPTIONS, type CliIo } from './main.js';
export type { CliCommand, CommandContext } from './cli-command.js';
