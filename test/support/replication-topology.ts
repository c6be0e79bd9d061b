/**
 * Replication set-ups shared by the failover, switchover, diverged-history and replica-backup tests:
 * attach a GTID replica, wait for it, promote it as an orchestrator does, read a server's binlog
 * position. Real servers from `startMariadb` (log_slave_updates is on in the harness).
 */
import assert from 'node:assert/strict';
import { startMariadb, type MariadbOptions, type MariadbServer } from './mariadb-server.js';

/** Where a server's binlog is: SHOW MASTER STATUS and `gtid_binlog_pos`. */
export interface MasterStatus {
  file: string;
  position: number;
  gtid: string;
}

/** SHOW MASTER STATUS and `@@global.gtid_binlog_pos` of `server`. */
export async function masterStatus(server: MariadbServer): Promise<MasterStatus> {
  const [row] = await server.query<{ File: string; Position: string | number }[]>('SHOW MASTER STATUS');
  return { file: row!.File, position: Number(row!.Position), gtid: await gtidBinlogPos(server) };
}

/** `@@global.gtid_binlog_pos` of `server`. */
export async function gtidBinlogPos(server: MariadbServer): Promise<string> {
  const [g] = await server.query<{ p: string }[]>('SELECT @@global.gtid_binlog_pos AS p');
  return g!.p;
}

/** Makes `replica` a GTID replica of `primary` (MASTER_USE_GTID=slave_pos) and starts it. */
export async function replicate(replica: MariadbServer, primary: MariadbServer): Promise<void> {
  await replica.query(
    `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primary.port}, MASTER_USER='${primary.repl.user}', ` +
      `MASTER_PASSWORD='${primary.repl.password}', MASTER_USE_GTID=slave_pos`,
  );
  await replica.query('START SLAVE');
}

/** Waits until `replica` has applied `gtid` (a GTID position); fails the test after `seconds`. */
export async function waitForGtid(replica: MariadbServer, gtid: string, seconds = 60): Promise<void> {
  const [w] = await replica.query<{ r: number | string }[]>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [
    gtid,
    seconds,
  ]);
  assert.equal(Number(w!.r), 0, `the replica on port ${replica.port} did not reach ${gtid} in ${seconds} s`);
}

/** Promotes `replica`: it stops replicating, forgets its primary and becomes writable. */
export async function promote(replica: MariadbServer): Promise<void> {
  await replica.query('STOP SLAVE');
  await replica.query('RESET SLAVE ALL');
  await replica.query('SET GLOBAL read_only = 0');
}

/**
 * A failover as an orchestrator does it: the replica catches up with what it received, the primary
 * goes away (`stop`, datadir kept when `keep`, or `kill -9` when `kill`), the replica is promoted.
 */
export async function failover(
  primary: MariadbServer,
  replica: MariadbServer,
  opts: { keep?: boolean; kill?: boolean } = {},
): Promise<void> {
  if (opts.kill) await primary.kill();
  else await primary.stop(opts.keep ? { keep: true } : {});
  await promote(replica);
}

/** Starts a primary and a read-only GTID replica of it. */
export async function startPair(opts: MariadbOptions = {}): Promise<[MariadbServer, MariadbServer]> {
  const [p, r] = await Promise.all([startMariadb(opts), startMariadb(opts)]);
  await r.query('SET GLOBAL read_only = 1');
  await replicate(r, p);
  return [p, r];
}
