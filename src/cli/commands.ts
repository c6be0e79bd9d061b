import type { CliCommand } from './cli-command.js';

/**
 * Every CLI command, in the order `--help` lists them. Commands are loaded lazily so that
 * `mysql-pitr binlog inspect` does not pay for the AWS SDK.
 */
export const COMMANDS: readonly { words: readonly string[]; summary: string; load: () => Promise<CliCommand> }[] = [
  {
    words: ['binlog', 'inspect'],
    summary: 'List and verify the events of binlog files (plain or .zst) without a server',
    load: async () => (await import('./binlog-inspect.js')).binlogInspect,
  },
];
