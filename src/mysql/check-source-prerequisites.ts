import { MysqlPrerequisiteError } from './mysql-prerequisite-error.js';
import type { SourceFacts } from './source-facts.js';

/** Options of checkSourcePrerequisites. */
export interface PrerequisiteOptions {
  /**
   * Refuse MIXED and STATEMENT binlog_format (default false: they only produce a warning, because
   * statement events still replay in order; but row-level features and exact replay of
   * non-deterministic statements need ROW).
   */
  requireRowFormat?: boolean;
}

/** Warnings about settings that work but are not recommended. */
export interface PrerequisiteReport {
  warnings: string[];
}

/**
 * Checks that the source can be archived: binary log on, a non-zero server_id, REPLICATION SLAVE
 * granted (when SHOW GRANTS can tell), a known checksum. binlog_format other than ROW is a warning
 * unless `requireRowFormat`; binlog_checksum NONE is a warning (events cannot be verified).
 *
 * @throws MysqlPrerequisiteError naming the failed prerequisite and how to fix it
 */
export function checkSourcePrerequisites(
  facts: SourceFacts,
  options: PrerequisiteOptions = {},
): PrerequisiteReport {
  const warnings: string[] = [];
  const cnf = facts.flavor === 'mariadb' ? 'my.cnf [mariadbd]' : 'my.cnf [mysqld]';
  if (!facts.logBin) {
    throw new MysqlPrerequisiteError(
      'log_bin',
      'OFF',
      `the source ${facts.version} has the binary log off (log_bin=OFF), so there is nothing to archive. ` +
        `Set log_bin=mysql-bin and server_id in ${cnf}, restart the server, then take a full backup.`,
    );
  }
  if (facts.serverId === 0) {
    throw new MysqlPrerequisiteError(
      'server_id',
      '0',
      `the source has server_id=0, and a source with server_id 0 refuses replicas. Set a unique non-zero ` +
        `server_id in ${cnf} (SET GLOBAL server_id=N works until the next restart).`,
    );
  }
  if (facts.hasReplicationSlave === false) {
    throw new MysqlPrerequisiteError(
      'replication_slave_privilege',
      facts.grants.join('; '),
      'the user lacks the REPLICATION SLAVE privilege needed to stream binlogs. Run on the source: ' +
        (facts.flavor === 'mariadb'
          ? "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'user'@'%'"
          : "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'user'@'%'"),
    );
  }
  if (facts.binlogFormat !== 'ROW') {
    const msg =
      `the source writes binlog_format=${facts.binlogFormat}; point-in-time replay of statements is exact only ` +
      `for deterministic statements. Set binlog_format=ROW in ${cnf} (SET GLOBAL binlog_format=ROW for new sessions).`;
    if (options.requireRowFormat) throw new MysqlPrerequisiteError('binlog_format', facts.binlogFormat, msg);
    warnings.push(msg);
  }
  if (facts.binlogChecksum !== 'CRC32') {
    if (facts.binlogChecksum !== 'NONE') {
      throw new MysqlPrerequisiteError(
        'binlog_checksum',
        facts.binlogChecksum,
        `the source uses binlog_checksum=${facts.binlogChecksum}, which this tool does not know; use CRC32 or NONE.`,
      );
    }
    warnings.push(
      'the source writes binlog_checksum=NONE, so archived events cannot be verified; set binlog_checksum=CRC32.',
    );
  }
  if (facts.binaryLogs === undefined) {
    warnings.push(
      'the user may not list binary logs (SHOW BINARY LOGS); grant ' +
        (facts.flavor === 'mariadb' ? 'BINLOG MONITOR' : 'REPLICATION CLIENT') +
        ' so purged or missing binlogs can be detected before streaming.',
    );
  }
  return { warnings };
}
