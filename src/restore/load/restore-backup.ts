import { readBackupCatalog, type BackupManifest } from '../../catalog/index.js';
import { TargetOutOfRangeError } from '../../errors/index.js';
import { silentLogger } from '../../log/index.js';
import type { ObjectStore } from '../../storage/index.js';
import {
  checkTargetEmpty,
  dumpLoadPrograms,
  serverGtidState,
  setGtidSlavePos,
  tableRowCounts,
  type TargetConnection,
} from '../execute-restore.js';
import { DEFAULT_LOAD_THREADS, loadBackupDump, type LoadBackupDumpDeps } from './load-backup-dump.js';
import { restorePreflight } from '../restore-preflight.js';

/** What restoreBackup needs: loadBackupDump's dependencies plus a connection for checks and report. */
export interface RestoreBackupDeps extends LoadBackupDumpDeps {
  /** A connection to the target, for the empty check, gtid_slave_pos and the row counts. */
  target: TargetConnection;
  /** Load into a target that already holds user databases. */
  force?: boolean | undefined;
}

/** The report of `restore backup`. */
export interface RestoreBackupReport {
  backup: string;
  /** The backup's binlog coordinates: where a binlog replay would continue. */
  binlog: { file: string; position: number };
  /** The backup's GTID position (set as gtid_slave_pos on MariaDB), null when the source has none. */
  gtidPosition: string | null;
  /** What the target reports afterwards (MariaDB). */
  server: { gtidBinlogPos: string; gtidSlavePos: string } | undefined;
  /** Sessions the dump was loaded on (1 for the single-client load). */
  loadThreads: number;
  /** Exact row counts (COUNT(*)) of every user table, `db.table` -> rows. */
  tables: Record<string, number>;
  seconds: { load: number };
  warnings: string[];
}

/**
 * The backup `id` (or `latest`: the newest complete one) of the repository.
 *
 * @throws TargetOutOfRangeError `no-backup` when there is none, `unknown-backup` (with `backup`) when
 *   `id` names no complete backup
 */
export async function selectBackup(store: ObjectStore, id: string): Promise<BackupManifest> {
  const { complete } = await readBackupCatalog(store);
  if (id === 'latest') {
    const newest = complete.at(-1);
    if (!newest) {
      throw new TargetOutOfRangeError(
        'no-backup',
        'the repository holds no complete backup: take one with `mysql-pitr backup create` first',
      );
    }
    return newest;
  }
  const found = complete.find((b) => b.id === id);
  if (!found) {
    throw new TargetOutOfRangeError(
      'unknown-backup',
      `backup ${id} is not a complete backup of this repository; \`mysql-pitr backup list\` shows the ones there are`,
      { backup: id },
    );
  }
  return found;
}

/**
 * Loads one backup into the target, without any binlog: refuses a target holding user databases
 * (unless `force`), loads the dump (in parallel when `openLoadSession` is given), sets MariaDB's
 * gtid_slave_pos to the backup's GTID position and reports it with per-table row counts.
 *
 * @throws RestorePreflightError RESTORE_TOOL_MISSING / MYSQL_PREREQUISITE, PitrError
 *   RESTORE_TARGET_NOT_EMPTY (nothing is changed), and the errors of loadBackupDump
 */
export async function restoreBackup(
  backup: BackupManifest,
  deps: RestoreBackupDeps,
): Promise<RestoreBackupReport> {
  const log = deps.logger ?? silentLogger;
  await restorePreflight({
    targetName: deps.targetName,
    target: deps.target,
    programs: dumpLoadPrograms(deps),
  });
  const warnings = await checkTargetEmpty(deps.target, deps.targetName, deps.force);
  const t0 = Date.now();
  await loadBackupDump(backup, { ...deps, logger: log });
  const t1 = Date.now();
  let server: RestoreBackupReport['server'];
  if (backup.source.flavor === 'mariadb') {
    if (backup.gtidPosition) await setGtidSlavePos(deps.target, backup.gtidPosition, warnings);
    server = await serverGtidState(deps.target);
  }
  return {
    backup: backup.id,
    binlog: { file: backup.binlog.file, position: backup.binlog.position },
    gtidPosition: backup.gtidPosition,
    server,
    loadThreads: deps.openLoadSession ? Math.max(1, Math.floor(deps.loadThreads ?? DEFAULT_LOAD_THREADS)) : 1,
    tables: await tableRowCounts(deps.target),
    seconds: { load: (t1 - t0) / 1000 },
    warnings,
  };
}
