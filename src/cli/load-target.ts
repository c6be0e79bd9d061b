import { formatEndpoint } from '../config/index.js';
import { connectMysql, type MysqlEndpoint } from '../mysql/index.js';
import {
  ClientCommand,
  openMysqlLoadSession,
  type LoadBackupDumpDeps,
  type RestoreProgressListener,
  type TargetConnection,
} from '../restore/index.js';
import type { Logger } from '../log/index.js';
import { connectionOptions } from './archive.js';
import type { CommandContext } from './cli-command.js';
import { openProgress, type ProgressOutput } from './progress-options.js';

/** What the commands that load a backup into a target share while they run. */
export interface LoadTarget {
  /** A connection for checks and the report. */
  target: TargetConnection & { end(): Promise<void> };
  /** The progress output (bars, plain lines or JSON lines), already open. */
  progress: ProgressOutput;
  /** The dump-load part of the domain deps: spread into executeRestore / restoreBackup / restoreReplica. */
  load: Omit<LoadBackupDumpDeps, 'store'> & {
    target: TargetConnection;
    logger: Logger;
    onProgress: RestoreProgressListener | undefined;
  };
  /** Closes the progress output, the SQL client's defaults file and the connection. */
  close(): Promise<void>;
}

/**
 * Opens what `restore pitr`, `restore backup` and `restore replica` need on the target: a
 * connection, the `mariadb` client (`--client-program`, when the command has it), parallel load
 * sessions (`loadThreads`, from `readLoadThreads`) and the progress output.
 */
export async function openLoadTarget(
  ctx: CommandContext,
  endpoint: MysqlEndpoint,
  password: string | undefined,
  loadThreads: number,
): Promise<LoadTarget> {
  const o = ctx.options;
  const options = connectionOptions(endpoint, password);
  const target = await connectMysql(options);
  let client: ClientCommand;
  try {
    client = await ClientCommand.create(
      { ...endpoint, ...(password !== undefined ? { password } : {}) },
      // restore backup has no --client-program
      (o.has('clientProgram') ? o.optionalString('clientProgram') : undefined) ?? 'mariadb',
    );
  } catch (e) {
    await target.end().catch(() => undefined);
    throw e;
  }
  const progress = openProgress(ctx, { json: o.boolean('json') });
  return {
    target,
    progress,
    load: {
      target,
      targetName: formatEndpoint(endpoint),
      client,
      openLoadSession: () => openMysqlLoadSession(options),
      loadThreads,
      // the commands without --no-defer-keys load as the dump says
      deferKeys: !(o.has('noDeferKeys') && o.boolean('noDeferKeys')),
      logger: progress.logger,
      signal: ctx.signal,
      onProgress: progress.listener,
    },
    async close() {
      progress.close();
      await client.close();
      await target.end().catch(() => undefined);
    },
  };
}
