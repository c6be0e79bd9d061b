// First: V8 heap settings, before the other modules load (see heap-tuning.ts).
import './heap-tuning.js';
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { CONFIG_FILE_OPTION, OptionValues, loadConfig, type OptionSpec } from '../config/index.js';
import { PitrError, messageOf } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { removeStaleTempDirs } from '../storage/index.js';
import type { CliCommand } from './cli-command.js';
import { COMMANDS } from './commands.js';
import { ExitCode, exitCodeFor } from '../errors/exit-codes.js';
import { formatHelp } from './format-help.js';
import { KNOWN_CONFIG_KEYS, KNOWN_ENV_NAMES } from './known-settings.js';
import { LOG_OPTIONS, readLogSettings } from './log-options.js';

/** Options every command accepts. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  ...LOG_OPTIONS,
  { key: 'help', flag: 'help', short: 'h', type: 'boolean', env: false, description: 'Show help' },
];

export interface CliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
}

function version(): string {
  // src/cli/main.ts in a checkout, dist/src/cli/main.js in a build.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
      if (
        typeof pkg === 'object' &&
        pkg !== null &&
        'name' in pkg &&
        pkg.name === 'mysql-pitr' &&
        'version' in pkg &&
        typeof pkg.version === 'string'
      )
        return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return 'unknown';
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code. Never exits the
 * process: only bin/ and the `import.meta` entry below do.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  if (argv[0] === '--version' || argv[0] === 'version') {
    io.stdout.write(`mysql-pitr ${version()}\n`);
    return ExitCode.OK;
  }
  if (words[0] === 'help') words.shift();
  const entry = [...COMMANDS]
    .sort((a, b) => b.words.length - a.words.length)
    .find((c) => c.words.every((w, i) => words[i] === w));
  if (!entry) {
    const wantsHelp =
      argv.length === 0 || argv[0] === 'help' || argv.includes('--help') || argv.includes('-h');
    const unknown = words.length ? `unknown command: ${words.join(' ')}\n\n` : '';
    (wantsHelp && !unknown ? io.stdout : io.stderr).write(unknown + formatTopHelp());
    return wantsHelp && !unknown ? ExitCode.OK : ExitCode.USAGE;
  }
  const command = await entry.load();
  const rest = argv.slice(argv.indexOf(entry.words[entry.words.length - 1]!) + 1);
  const specs = [...command.options, ...GLOBAL_OPTIONS];
  if (argv[0] === 'help' || rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(formatHelp(command, specs));
    return ExitCode.OK;
  }

  let logger = createLogger({ stream: io.stderr });
  try {
    const config = loadConfig(specs, rest, io.env, {
      knownKeys: KNOWN_CONFIG_KEYS,
      knownEnv: KNOWN_ENV_NAMES,
    });
    const options = new OptionValues(config.values, [CONFIG_FILE_OPTION, ...specs]);
    logger = createLogger({ stream: io.stderr, ...readLogSettings(options) });
    // Debris of a mysql-pitr killed on this host (kill -9): its defaults files hold passwords.
    const stale = await removeStaleTempDirs();
    if (stale.length > 0) logger.info('removed temporary folders of stopped mysql-pitr processes', { stale });
    const controller = new AbortController();
    // a signal that came while the CLI was starting (SIGTERM during startup) stops the command too
    if (io.signal?.aborted) controller.abort(io.signal.reason);
    else io.signal?.addEventListener('abort', () => controller.abort(io.signal?.reason), { once: true });
    const code = await command.run({
      config,
      options,
      env: io.env,
      stdout: io.stdout,
      stderr: io.stderr,
      logger,
      signal: controller.signal,
    });
    return code ?? ExitCode.OK;
  } catch (err) {
    return reportError(err, command, logger, io);
  }
}

function reportError(
  err: unknown,
  command: CliCommand,
  logger: ReturnType<typeof createLogger>,
  io: CliIo,
): number {
  const code = err instanceof PitrError ? err.code : undefined;
  const exit = exitCodeFor(code);
  const name = `mysql-pitr ${command.words.join(' ')}`;
  if (code === 'CONFIG_INVALID' || code === 'USAGE') {
    io.stderr.write(`${name}: ${messageOf(err)}\nUsage: ${name} ${command.usage}  (see --help)\n`);
  } else {
    logger.error(`${name} failed: ${messageOf(err)}`, {
      code: code ?? 'INTERNAL',
      exitCode: exit,
      ...(err instanceof Error && err.cause ? { cause: err.cause } : {}),
      ...(code ? {} : { stack: err instanceof Error ? err.stack : undefined }),
    });
  }
  return exit;
}

function formatTopHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.words.join(' ').length));
  const lines = COMMANDS.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'mysql-pitr: point-in-time recovery for MySQL and MariaDB',
    '',
    'Usage: mysql-pitr COMMAND [options]     mysql-pitr COMMAND --help',
    '',
    'Commands:',
    ...lines,
    '',
    'Every option can also be set as MYSQL_PITR_<NAME> in the environment or in a JSON --config file.',
    'Passwords come only from the environment or files, never from flags.',
    '',
  ].join('\n');
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  const controller = new AbortController();
  let signals = 0;
  const stopSignals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const sig of stopSignals) {
    process.on(sig, () => {
      signals += 1;
      if (signals > 1) process.exit(ExitCode.INTERRUPTED);
      controller.abort(new PitrError('INTERRUPTED', `stopped by ${sig}`));
    });
  }
  // `mysql-pitr binlog inspect ... | head`: the reader went away, which is not a failure of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(ExitCode.OK);
    throw err;
  });
  main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(
        `mysql-pitr: unexpected failure: ${err instanceof Error ? err.stack : String(err)}\n`,
      );
      process.exitCode = ExitCode.INTERNAL;
    },
  );
}
