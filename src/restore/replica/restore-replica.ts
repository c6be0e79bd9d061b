import { setTimeout as sleep } from 'node:timers/promises';
import { backupSize, type BackupManifest } from '../../catalog/index.js';
import { PitrError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import type { TlsSettings } from '../../mysql/index.js';
import type { ObjectStore } from '../../storage/index.js';
import type { ClientCommand } from '../apply/client-command.js';
import { checkTargetEmpty, dumpLoadPrograms, type TargetConnection } from '../execute-restore.js';
import { loadBackupDump } from '../load/load-backup-dump.js';
import type { OpenLoadSession } from '../load/parallel-load-session.js';
import {
  REPLICA_SESSION_SQL,
  replicaSourceSql,
  replicaStopSql,
  type ReplicaFlavor,
  type ReplicaStart,
} from './replica-sql.js';
import type { RestoreProgressListener } from '../restore-progress.js';
import { restorePreflight } from '../restore-preflight.js';
import { parseReplicaStatus, replicaHealth, replicaStatusSql, type ReplicaStatus } from './replica-status.js';

/** The primary the new replica replicates from. */
export interface ReplicaPrimary {
  host: string;
  port: number;
  user: string;
  password?: string | undefined;
  /** TLS of the replica's connection to the primary (MASTER_SSL*; paths on the target's host). */
  tls?: TlsSettings | undefined;
}

/** What restoreReplica needs. */
export interface RestoreReplicaDeps {
  store: ObjectStore;
  /** One connection to the target: every statement runs on it. */
  target: TargetConnection;
  /** The target as `host:port`, for messages. */
  targetName: string;
  /** Runs the SQL client against the target (dump load). */
  client: ClientCommand;
  primary: ReplicaPrimary;
  /** MASTER_DELAY in seconds (a delayed replica). */
  delaySeconds?: number | undefined;
  /** Load into a target that already holds user databases. */
  force?: boolean;
  /** How long to wait for both replication threads to run (default 60 s). */
  waitMs?: number;
  /** Time between status polls (default 500 ms). */
  pollMs?: number;
  logger?: Logger;
  signal?: AbortSignal;
  /** Receives `load` progress (stored dump bytes); the last report has `done === total`. */
  onProgress?: RestoreProgressListener;
  /** Opens a load session: the dump is then loaded in `loadThreads` parallel sessions (see loadBackupDump). */
  openLoadSession?: OpenLoadSession | undefined;
  /** Tables loaded at once (default 2). */
  loadThreads?: number | undefined;
}

/** The final report of restore replica. */
export interface RestoreReplicaReport {
  backup: string;
  /** Where replication started from. */
  start: ReplicaStart;
  primary: string;
  /** The statements sent, password redacted. */
  statements: string[];
  status: ReplicaStatus;
  /** Where the time went: the seconds the dump load took. */
  seconds: { load: number };
  warnings: string[];
}

/** Where a replica of this backup starts: its GTID position when it has one, else its binlog coordinates. */
export function replicaStartOf(backup: BackupManifest): ReplicaStart {
  return backup.gtidPosition
    ? { kind: 'gtid', gtid: backup.gtidPosition }
    : { kind: 'position', file: backup.binlog.file, position: backup.binlog.position };
}

async function rows<T>(c: TargetConnection, sql: string): Promise<T[]> {
  const [r] = await c.query(sql);
  return r as T[];
}

/** The status of the replica on `target`, or undefined when it is not one. */
export async function readReplicaStatus(
  target: TargetConnection,
  flavor: ReplicaFlavor,
): Promise<ReplicaStatus | undefined> {
  const [row] = await rows<Record<string, unknown>>(target, replicaStatusSql(flavor));
  return parseReplicaStatus(row);
}

/** The flavor and server_id of a server. */
export async function serverIdentity(
  target: TargetConnection,
): Promise<{ flavor: ReplicaFlavor; serverId: number; version: string }> {
  const [r] = await rows<{ v: string; id: string | number }>(
    target,
    'SELECT VERSION() AS v, @@server_id AS id',
  );
  return { flavor: /mariadb/i.test(r!.v) ? 'mariadb' : 'mysql', serverId: Number(r!.id), version: r!.v };
}

/**
 * Waits until both replication threads run, and stay running for one more poll (the IO thread says
 * Yes as soon as it has connected, before the source has accepted the binlog request).
 *
 * @throws PitrError REPLICA_SOURCE_BINLOGS_MISSING (error 1236), REPLICA_NOT_RUNNING (another error, or timeout)
 */
export async function waitForReplica(
  target: TargetConnection,
  flavor: ReplicaFlavor,
  opts: { targetName: string; primaryName: string; waitMs?: number; pollMs?: number; signal?: AbortSignal },
): Promise<ReplicaStatus> {
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  const poll = opts.pollMs ?? 500;
  let runningOnce = false;
  let last: ReplicaStatus | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    last = await readReplicaStatus(target, flavor);
    const h = replicaHealth(last);
    switch (h.state) {
      case 'running':
        if (runningOnce) return last!;
        runningOnce = true;
        break;
      case 'starting':
        runningOnce = false;
        break;
      case 'source-binlogs-missing':
        throw new PitrError(
          'REPLICA_SOURCE_BINLOGS_MISSING',
          `the primary ${opts.primaryName} no longer has the binlogs this replica needs (error 1236: ${h.message}). ` +
            `${opts.targetName} holds the backup but cannot catch up from the primary. Either take a new backup ` +
            '(`mysql-pitr backup create`) and run `restore replica --force` again, or restore from the archive with ' +
            '`mysql-pitr restore pitr --to latest --force` (it sets gtid_slave_pos) and then attach the target with ' +
            'CHANGE MASTER TO ..., MASTER_USE_GTID=slave_pos; START SLAVE. Replication on the target is configured but stopped',
        );
      case 'io-failed':
      case 'sql-failed':
        throw new PitrError(
          'REPLICA_NOT_RUNNING',
          `replication on ${opts.targetName} from ${opts.primaryName} stopped: the ${h.state === 'io-failed' ? 'IO' : 'SQL'} ` +
            `thread failed with error ${h.errno}: ${h.message}. Fix the cause (SHOW SLAVE STATUS on the target shows it), ` +
            'then START SLAVE on the target',
        );
    }
    if (Date.now() >= deadline) {
      throw new PitrError(
        'REPLICA_NOT_RUNNING',
        `replication on ${opts.targetName} from ${opts.primaryName} did not start within ${Math.round((opts.waitMs ?? 60_000) / 1000)} s ` +
          `(IO thread ${last?.ioRunning || 'absent'}, SQL thread ${last?.sqlRunning || 'absent'}` +
          `${last?.lastIoError ? `, last IO error ${last.lastIoErrno}: ${last.lastIoError}` : ''}). Check that the target can ` +
          'reach the primary and that the replication user has REPLICATION SLAVE; SHOW SLAVE STATUS on the target shows more',
      );
    }
    await sleep(poll, undefined, opts.signal ? { signal: opts.signal } : {});
  }
}

/**
 * Rebuilds a replica: refuses a target holding user databases (unless `force`), a target of the
 * other flavor or with the source's server_id; loads the backup's dump; points the target at the
 * primary from the backup's GTID position (or binlog file and position), with MASTER_DELAY when
 * asked; starts replication and waits until both threads run.
 *
 * @throws RestorePreflightError RESTORE_TOOL_MISSING / MYSQL_PREREQUISITE (nothing is changed),
 *   PitrError RESTORE_TARGET_NOT_EMPTY / MYSQL_PREREQUISITE (nothing is changed),
 *   REPLICA_SOURCE_BINLOGS_MISSING, REPLICA_NOT_RUNNING, and the errors of loadBackupDump
 */
export async function restoreReplica(
  backup: BackupManifest,
  deps: RestoreReplicaDeps,
): Promise<RestoreReplicaReport> {
  const log = deps.logger ?? silentLogger;
  const warnings: string[] = [];
  const primaryName = `${deps.primary.host}:${deps.primary.port}`;
  await restorePreflight({
    targetName: deps.targetName,
    target: deps.target,
    programs: dumpLoadPrograms(deps),
  });
  warnings.push(
    ...(await checkTargetEmpty(
      deps.target,
      deps.targetName,
      deps.force,
      'Build the replica on a fresh server, drop them first, or pass --force to load over them',
    )),
  );
  const id = await serverIdentity(deps.target);
  if (id.flavor !== backup.source.flavor) {
    throw new PitrError(
      'MYSQL_PREREQUISITE',
      `backup ${backup.id} is of a ${backup.source.flavor} server but the target ${deps.targetName} runs ${id.version}; ` +
        'nothing was changed. Build the replica on a server of the same kind as the primary',
    );
  }
  if (id.serverId === backup.source.serverId) {
    throw new PitrError(
      'MYSQL_PREREQUISITE',
      `the target ${deps.targetName} has server_id ${id.serverId}, the same as the primary's; nothing was changed. ` +
        'A replica needs its own server_id: set server_id in its configuration and restart it',
    );
  }
  const start = replicaStartOf(backup);
  const sqlOptions = {
    flavor: id.flavor,
    ...deps.primary,
    start,
    delaySeconds: deps.delaySeconds,
  };
  // Built (and checked) before the target is touched.
  const statements = replicaSourceSql(sqlOptions);
  const printable = replicaSourceSql({ ...sqlOptions, redactPassword: true });

  // A replica being rebuilt with --force must not apply its old source's changes while the dump loads.
  for (const sql of replicaStopSql(id.flavor)) await deps.target.query(sql);
  const t0 = Date.now();
  deps.onProgress?.({ phase: 'load', done: 0, total: backupSize(backup).size });
  // deps carries onProgress on to the loader, which reports the bytes in between
  await loadBackupDump(backup, { ...deps, logger: log });
  deps.onProgress?.({ phase: 'load', done: backupSize(backup).size, total: backupSize(backup).size });
  const loadSeconds = (Date.now() - t0) / 1000;
  await deps.target.query(REPLICA_SESSION_SQL);
  for (let i = 0; i < statements.length; i++) {
    log.info('replica setup', { sql: printable[i] });
    try {
      await deps.target.query(statements[i]!);
    } catch (e) {
      throw new PitrError(
        'REPLICA_NOT_RUNNING',
        `${deps.targetName} is loaded with backup ${backup.id}, but "${printable[i]}" failed: ${(e as Error).message}. ` +
          'Fix the cause and run the remaining statements by hand, or run restore replica --force again',
        { cause: e },
      );
    }
  }
  const status = await waitForReplica(deps.target, id.flavor, {
    targetName: deps.targetName,
    primaryName,
    ...(deps.waitMs !== undefined ? { waitMs: deps.waitMs } : {}),
    ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  return {
    backup: backup.id,
    start,
    primary: primaryName,
    statements: printable,
    status,
    seconds: { load: loadSeconds },
    warnings,
  };
}
