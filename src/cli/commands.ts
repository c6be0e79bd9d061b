import type { CliCommand } from './cli-command.js';

/**
 * Every CLI command, in the order `--help` lists them. Commands are loaded lazily so that
 * `mysql-pitr binlog inspect` does not pay for the AWS SDK.
 */
export const COMMANDS: readonly {
  words: readonly string[];
  summary: string;
  load: () => Promise<CliCommand>;
}[] = [
  {
    words: ['binlog', 'inspect'],
    summary: 'List and verify the events of binlog files (plain or .zst) without a server',
    load: async () => (await import('./binlog-inspect.js')).binlogInspect,
  },
  {
    words: ['backup', 'create'],
    summary: 'Take a consistent logical dump (mariadb-dump/mysqldump) into the repository',
    load: async () => (await import('./backup-create.js')).backupCreate,
  },
  {
    words: ['backup', 'list'],
    summary: 'List the backups in a repository (newest last); incomplete ones separately',
    load: async () => (await import('./backup-list.js')).backupList,
  },
  {
    words: ['backup', 'show'],
    summary: 'Show the manifest of one backup',
    load: async () => (await import('./backup-show.js')).backupShow,
  },
  {
    words: ['archive'],
    summary: 'Stream the source binlogs into the repository as they are written (or until caught up)',
    load: async () => (await import('./archive.js')).archive,
  },
  {
    words: ['binlog', 'list'],
    summary: 'List archived binlogs per timeline: files, offsets, time and GTID ranges, gaps',
    load: async () => (await import('./binlog-list.js')).binlogList,
  },
  {
    words: ['binlog', 'fetch'],
    summary: 'Write archived binlogs as plain files, byte-identical to the source, checksums verified',
    load: async () => (await import('./binlog-fetch.js')).binlogFetch,
  },
  {
    words: ['binlog', 'compact'],
    summary: "Merge closed binlog files' many small segments into few large objects (crash-safe)",
    load: async () => (await import('./binlog-compact.js')).binlogCompact,
  },
  {
    words: ['status'],
    summary: 'Show the archive: last durable position and commit time, lag, gaps, lease holder',
    load: async () => (await import('./status.js')).status,
  },
  {
    words: ['restore', 'plan'],
    summary: 'Show what a point-in-time restore would do: backup, binlog range, stop point, bytes, estimate',
    load: async () => (await import('./restore-plan.js')).restorePlan,
  },
  {
    words: ['restore', 'pitr'],
    summary: 'Restore a backup into a target server and apply archived binlogs up to a point in time',
    load: async () => (await import('./restore-pitr.js')).restorePitr,
  },
  {
    words: ['restore', 'apply'],
    summary: 'Roll an existing server forward: apply the archived binlogs from a position to a point in time',
    load: async () => (await import('./restore-apply.js')).restoreApply,
  },
  {
    words: ['restore', 'backup'],
    summary: 'Load one backup into a target server (no binlog apply), in parallel sessions',
    load: async () => (await import('./restore-backup.js')).restoreBackupCommand,
  },
  {
    words: ['restore', 'replica'],
    summary: 'Rebuild a replica (optionally delayed) from a backup and attach it to the primary',
    load: async () => (await import('./restore-replica.js')).restoreReplicaCommand,
  },
  {
    words: ['replica', 'set-delay'],
    summary: 'Change the delay of a (delayed) replica (MASTER_DELAY) and restart replication',
    load: async () => (await import('./replica-set-delay.js')).replicaSetDelay,
  },
  {
    words: ['timeline', 'search'],
    summary: 'Find archived transactions by statement text or table: GTID, position, commit time',
    load: async () => (await import('./timeline-search.js')).timelineSearch,
  },
  {
    words: ['undo'],
    summary: 'Reverse the row changes of bad transactions on the live server, from the archived row images',
    load: async () => (await import('./undo.js')).undo,
  },
  {
    words: ['expire'],
    summary: 'Delete backups and archived binlogs the retention policy no longer needs (crash-safe)',
    load: async () => (await import('./expire.js')).expire,
  },
  {
    words: ['verify'],
    summary:
      'Check every backup and binlog segment checksum and the binlog chain; print the restorable windows',
    load: async () => (await import('./verify.js')).verify,
  },
];
