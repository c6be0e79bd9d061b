import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDefaultsFile } from '../archiver/dump-command.js';
import type { MysqlEndpoint } from '../config/index.js';

/**
 * The temp dirs holding a defaults file (the target password) that are not closed yet. The process
 * `exit` handler removes them, so they go on every exit path that runs JavaScript: a normal end, an
 * error, `process.exit` (the CLI's second SIGINT/SIGTERM). Only SIGKILL can leave one behind.
 */
const openDirs = new Set<string>();
let exitHookInstalled = false;

function removeOpenDirs(): void {
  for (const dir of openDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort at exit: nothing else can be done here
    }
  }
  openDirs.clear();
}

/**
 * How to run the `mariadb` (or `mysql`) command-line client against the restore target: the
 * password travels in a 0600 defaults file, never argv. The file is removed by close(), and at
 * process exit if close() was never reached.
 */
export class ClientCommand {
  private constructor(
    readonly program: string,
    private readonly dir: string,
    private readonly connectionArgs: string[],
  ) {}

  /** Writes the defaults file; call close() when done. */
  static async create(endpoint: MysqlEndpoint, program = 'mariadb'): Promise<ClientCommand> {
    if (!exitHookInstalled) {
      process.on('exit', removeOpenDirs);
      exitHookInstalled = true;
    }
    const dir = await mkdtemp(join(tmpdir(), 'mysql-pitr-restore-'));
    openDirs.add(dir);
    const file = join(dir, 'client.cnf');
    await writeFile(file, formatDefaultsFile(endpoint.user, endpoint.password), { mode: 0o600 });
    const args = [`--defaults-extra-file=${file}`];
    if (endpoint.socket) args.push('--protocol=SOCKET', `--socket=${endpoint.socket}`);
    else args.push('--protocol=TCP', `--host=${endpoint.host}`, `--port=${endpoint.port}`);
    if (endpoint.tls) args.push('--ssl');
    return new ClientCommand(program, dir, args);
  }

  /**
   * Starts the client reading SQL from stdin, with binary logging off for its session (so loading
   * a dump or replaying another server's transactions never clashes with the target's own GTIDs).
   * `--comments` keeps comments in what the client sends (without it the client strips them, and
   * trigger, routine, view and event bodies lose theirs); `--binary-mode` keeps `\0` and `\r\n` in
   * string literals and stops the client interpreting `\`-commands inside statements.
   */
  spawn(extra: readonly string[] = []): ChildProcessWithoutNullStreams {
    return spawn(
      this.program,
      [
        ...this.connectionArgs,
        '--init-command=SET SESSION sql_log_bin=0',
        '--max-allowed-packet=1073741824',
        '--binary-mode',
        '--comments',
        ...extra,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
  }

  /** Removes the defaults file. */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    openDirs.delete(this.dir);
  }
}
