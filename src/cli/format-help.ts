import { defaultEnvName, formatDuration, type OptionSpec } from '../config/index.js';
import type { CliCommand } from './cli-command.js';

/** The `--help` text of one command: usage, summary, options with env names and defaults, details. */
export function formatHelp(command: CliCommand, specs: readonly OptionSpec[]): string {
  const name = `mysql-pitr ${command.words.join(' ')}`;
  const rows = specs.map((s): readonly [string, string] => {
    const left = s.flag
      ? `${s.short ? `-${s.short}, ` : '    '}--${s.flag}${s.type === 'boolean' ? '' : ` ${s.valueName ?? s.type.toUpperCase()}`}`
      : `    (${s.env === false ? s.key : (s.env ?? defaultEnvName(s.key))})`;
    const extra: string[] = [];
    if (s.choices) extra.push(`one of: ${s.choices.join(', ')}`);
    if (s.default !== undefined && s.type !== 'boolean') {
      extra.push(
        `default: ${s.type === 'duration' && typeof s.default === 'number' ? formatDuration(s.default) : String(s.default)}`,
      );
    }
    if (s.env !== false && s.flag) extra.push(`env ${s.env ?? defaultEnvName(s.key)}`);
    return [left, `${s.description}${extra.length ? ` (${extra.join('; ')})` : ''}`];
  });
  const width = Math.min(34, Math.max(...rows.map(([l]) => l.length)));
  const lines = rows.map(([l, r]) =>
    l.length > width ? `  ${l}\n  ${' '.repeat(width)}  ${r}` : `  ${l.padEnd(width)}  ${r}`,
  );
  return [
    `Usage: ${name} ${command.usage}`,
    '',
    command.summary,
    '',
    'Options:',
    ...lines,
    ...(command.details ? ['', command.details.trimEnd()] : []),
    '',
  ].join('\n');
}
