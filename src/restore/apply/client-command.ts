import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  clientEnvironment,
  formatDefaultsFile,
  probeClientToolFlavor,
  tlsClientArgs,
  type MysqlEndpoint,
} from '../../mysql/index.js';
import { createPrivateTempDir, removePrivateTempDir } from '../../storage/index.js';

/**
 * How to run the `mariadb` (or `mysql`) command-line client against the restore target: the
 * password travels in a 0600 defaults file, never argv. The file is removed by close(), and at
 * process exit if close() was never reached (createPrivateTempDir's exit hook).
 */
export class ClientCommand {
  private constructor(
    readonly program: string,
    private readonly dir: string,
    private readonly connectionArgs: string[],
  ) {}

  /** Writes the defaults file; call close() when done. */
  static async create(endpoint: MysqlEndpoint, program = 'mariadb'): Promise<ClientCommand> {
    const dir = await createPrivateTempDir('restore');
    const file = join(dir, 'client.cnf');
    await writeFile(file, formatDefaultsFile(endpoint.user, endpoint.password), { mode: 0o600 });
    const args = [`--defaults-extra-file=${file}`];
    if (endpoint.socket) args.push('--protocol=SOCKET', `--socket=${endpoint.socket}`);
    else args.push('--protocol=TCP', `--host=${endpoint.host}`, `--port=${endpoint.port}`);
    const tool = endpoint.tls ? await probeClientToolFlavor(program) : 'mariadb';
    args.push(...tlsClientArgs(endpoint.tls, tool, endpoint.socket !== undefined));
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
      { stdio: ['pipe', 'pipe', 'pipe'], env: clientEnvironment() },
    );
  }

  /** Removes the defaults file. */
  async close(): Promise<void> {
    await removePrivateTempDir(this.dir);
  }
}
