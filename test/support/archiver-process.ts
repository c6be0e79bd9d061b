/**
 * The `archive` CLI as a long-running child process (follow mode), with what tests wait for: its
 * stored positions (from the metric lines on stderr) and its log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliCommand, PROJECT_ROOT } from './run-cli.js';

/** A running archiver. */
export interface ArchiverProcess {
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  readonly stderr: string;
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The durable file/end of every stored segment so far, in order. */
  stored(): { timeline: string; file: string; end: number }[];
  /** Waits until `predicate(stderr)` holds; throws with the stderr after `timeoutMs` or on exit. */
  waitFor(predicate: (stderr: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Waits until a stored segment reaches `file` at `position` (or a later file). */
  waitForDurable(file: string, position: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM (flush and exit 0), then waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `mysql-pitr ARGS` (an `archive` command line) with `env`; with `--metrics emf` unless ARGS
 * choose, since `stored()` reads the EMF lines (a terminal's default is human lines).
 */
export function startArchiver(args: readonly string[], env: NodeJS.ProcessEnv): ArchiverProcess {
  const { command, args: argv } = cliCommand(
    args.includes('--metrics') ? args : [...args, '--metrics', 'emf'],
  );
  const child = spawn(command, argv, {
    cwd: PROJECT_ROOT,
    env: { MYSQL_PITR_LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  let ended = false;
  void exited.then(() => (ended = true));
  const stored = (): { timeline: string; file: string; end: number }[] =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{"_aws"'))
      .map((l) => JSON.parse(l) as { Timeline: string; file: string; end: number; Segments: number })
      .filter((m) => m.Segments > 0)
      .map((m) => ({ timeline: m.Timeline, file: m.file, end: m.end }));
  const waitFor = async (
    predicate: (s: string) => boolean,
    what: string,
    timeoutMs = 60_000,
  ): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(stderr)) {
      if (ended) throw new Error(`the archiver exited before ${what}:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${stderr}`);
      await sleep(50);
    }
  };
  return {
    child,
    get stderr() {
      return stderr;
    },
    exited,
    stored,
    waitFor,
    waitForDurable: (file, position, timeoutMs) =>
      waitFor(
        () => stored().some((s) => s.file > file || (s.file === file && s.end >= position)),
        `a stored segment up to ${file}:${position}`,
        timeoutMs,
      ),
    async stop() {
      if (!ended) child.kill('SIGTERM');
      return await exited;
    },
  };
}
