import { PitrError } from '../../errors/index.js';
import type { TargetConnection } from '../execute-restore.js';
import { replicaSetDelaySql } from './replica-sql.js';
import type { ReplicaStatus } from './replica-status.js';
import { readReplicaStatus, serverIdentity, waitForReplica } from './restore-replica.js';

/**
 * Changes the delay of a replica (see replicaSetDelaySql for which threads are stopped), starts
 * replication again and waits until both threads run. Returns the status afterwards.
 *
 * @throws PitrError USAGE for a bad delay, MYSQL_PREREQUISITE when the target is not a replica,
 *   REPLICA_NOT_RUNNING when a statement fails or replication does not run again,
 *   REPLICA_SOURCE_BINLOGS_MISSING (see waitForReplica)
 */
export async function setReplicaDelay(
  target: TargetConnection,
  targetName: string,
  delaySeconds: number,
  opts: { waitMs?: number; signal?: AbortSignal } = {},
): Promise<ReplicaStatus> {
  const { flavor } = await serverIdentity(target);
  const statements = replicaSetDelaySql(flavor, delaySeconds);
  if (!(await readReplicaStatus(target, flavor))) {
    throw new PitrError(
      'MYSQL_PREREQUISITE',
      `${targetName} is not a replica (SHOW SLAVE STATUS is empty); nothing was changed. ` +
        'Build one with `mysql-pitr restore replica` first',
    );
  }
  for (const sql of statements) {
    try {
      await target.query(sql);
    } catch (e) {
      throw new PitrError(
        'REPLICA_NOT_RUNNING',
        `"${sql}" failed on ${targetName}: ${(e as Error).message}. Check SHOW SLAVE STATUS there; ` +
          'if the SQL thread is stopped, START SLAVE SQL_THREAD',
        { cause: e },
      );
    }
  }
  return waitForReplica(target, flavor, {
    targetName,
    primaryName: 'its primary',
    waitMs: opts.waitMs ?? 30_000,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
