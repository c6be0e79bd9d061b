import { MariadbGtidPos, formatMariadbGtid, parseMariadbGtid } from '../../gtid/index.js';
import { PitrError } from '../../errors/index.js';
import type { ObjectStore } from '../../storage/index.js';
import { readArchivedSegments } from './archived-segments.js';
import type { BinlogApplier } from './binlog-applier.js';
import { serverGtidState, type ServerGtidState, type TargetConnection } from '../execute-restore.js';
import type { BinlogPoint, RestorePlan } from '../plan/plan-restore.js';
import type { RestoreProgressListener } from '../restore-progress.js';
import { restorePreflight } from '../restore-preflight.js';

/** What rollForward needs. */
export interface RollForwardDeps {
  store: ObjectStore;
  /** A connection to the target for the preflight, the GTID bookkeeping and the report (not the applying session). */
  target: TargetConnection;
  /** The target as `host:port`, for messages (default "the target"). */
  targetName?: string;
  /** Must accept the 4th (progress) argument to report progress. */
  applier: BinlogApplier & {
    apply(
      plan: RestorePlan,
      bytes: Parameters<BinlogApplier['apply']>[1],
      signal?: AbortSignal,
      onProgress?: RestoreProgressListener,
    ): ReturnType<BinlogApplier['apply']>;
  };
  /** The applier logs to the target's binary log (its gtid_binlog_pos advances by itself). */
  binlog: boolean;
  signal?: AbortSignal;
  onProgress?: RestoreProgressListener;
  /** Segments downloaded ahead of the one being applied (default 2). */
  prefetch?: number;
}

/** What rollForward did. */
export interface RollForwardReport {
  from: BinlogPoint;
  stop: BinlogPoint;
  transactionsApplied: number;
  lastGtid: string | null;
  /** MariaDB: what the target reports afterwards. */
  server: { gtidBinlogPos: string; gtidSlavePos: string } | undefined;
  seconds: number;
  warnings: string[];
}

async function rows<T>(c: TargetConnection, sql: string): Promise<T[]> {
  const [r] = await c.query(sql);
  return r as T[];
}

/**
 * The GTIDs a MariaDB server's state ends at, for `--from-gtid-of-target`: per domain the newer of
 * @@gtid_binlog_pos and @@gtid_slave_pos, sorted by domain; at least one domain must be set.
 *
 * @throws PitrError USAGE when the server has no GTID position or is not MariaDB
 */
export async function targetGtids(target: TargetConnection): Promise<string[]> {
  let r: ServerGtidState;
  try {
    r = await serverGtidState(target);
  } catch (err) {
    throw new PitrError(
      'USAGE',
      `--from-gtid-of-target reads @@gtid_binlog_pos and @@gtid_slave_pos (MariaDB), which the target does not have ` +
        `(${(err as Error).message}); give the start with --from FILE:POS`,
      { cause: err },
    );
  }
  const pos = MariadbGtidPos.parse(r.gtidBinlogPos || '').union(MariadbGtidPos.parse(r.gtidSlavePos || ''));
  const gtids = pos.gtids().map(formatMariadbGtid);
  if (gtids.length === 0) {
    throw new PitrError(
      'USAGE',
      'the target has no GTID position (@@gtid_binlog_pos and @@gtid_slave_pos are empty), so where to start is ' +
        'unknown; give it with --from FILE:POS (the backup coordinates, `mysql-pitr backup show`)',
    );
  }
  return gtids;
}

/**
 * The GTIDs of a MariaDB apply plan, one per domain: the plan's expected position (every domain
 * the range touches, from segment headers and the scanned stop file), with the applier's last GTID
 * on top (the one GTID the applier itself saw last). Undefined when neither is known.
 */
export function appliedGtids(plan: RestorePlan, lastGtid: string | undefined): MariadbGtidPos | undefined {
  let pos = plan.expectedGtidPosition ? MariadbGtidPos.parse(plan.expectedGtidPosition) : undefined;
  if (lastGtid && /^\d+-\d+-\d+$/.test(lastGtid)) {
    pos = (pos ?? MariadbGtidPos.EMPTY).advance(parseMariadbGtid(lastGtid));
  }
  return pos;
}

/**
 * Applies a plan from planApplyFrom to a server that already holds everything before `plan.start`.
 * Runs the restore preflight first (the applier's programs, the target user's privileges, the
 * archived range), so a missing program changes nothing. Without the target's binlog, MariaDB's
 * gtid_slave_pos is advanced over every GTID domain the applied range holds (per domain the later
 * of the target's position and the last applied GTID), so that replication or a later
 * `restore apply` continues from there.
 *
 * @throws RestorePreflightError (nothing is changed); PitrError RESTORE_APPLY_FAILED naming the
 *   failing transaction; storage and checksum errors
 */
export async function rollForward(plan: RestorePlan, deps: RollForwardDeps): Promise<RollForwardReport> {
  await restorePreflight({
    targetName: deps.targetName ?? 'the target',
    target: deps.target,
    plan,
    programs: deps.applier.programs ?? [],
    sessionBinlogOff: !deps.binlog,
  });
  const warnings: string[] = [];
  const t0 = Date.now();
  const result = await deps.applier.apply(
    plan,
    (f) => readArchivedSegments(deps.store, f.segments, deps.prefetch ?? 2),
    deps.signal,
    deps.onProgress,
  );
  const seconds = (Date.now() - t0) / 1000;
  let server: RollForwardReport['server'];
  if (plan.backup.source.flavor === 'mariadb') {
    const applied = result.transactions > 0 ? appliedGtids(plan, result.lastGtid) : undefined;
    if (!deps.binlog && applied && !applied.isEmpty) {
      try {
        const [s] = await rows<{ s: string }>(deps.target, 'SELECT @@gtid_slave_pos AS s');
        const next = MariadbGtidPos.parse(s!.s || '')
          .union(applied)
          .toString();
        await deps.target.query(`SET GLOBAL gtid_slave_pos = '${next}'`);
      } catch (e) {
        warnings.push(
          `could not advance gtid_slave_pos to ${applied.toString()} (${(e as Error).message}); set it before making ` +
            'this server a replica',
        );
      }
    }
    server = await serverGtidState(deps.target);
  }
  return {
    from: plan.start,
    stop: plan.stop,
    transactionsApplied: result.transactions,
    lastGtid: result.lastGtid ?? null,
    server,
    seconds,
    warnings,
  };
}
