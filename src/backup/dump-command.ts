/**
 * Chooses the dump program and its arguments from what the source is (pure). The password never
 * appears here: it goes into a defaults file (see `formatDefaultsFile` in src/mysql) whose path is the first
 * argument, so neither `ps` nor the manifest shows it.
 *
 * References: https://mariadb.com/kb/en/mariadb-dump/ and
 * https://dev.mysql.com/doc/refman/8.0/en/mysqldump.html (`--source-data` since 8.0.26).
 */
import { tlsClientArgs, type TlsSettings } from '../mysql/index.js';

/** What the dump depends on about the source. */
export interface DumpSourceFlavor {
  flavor: 'mariadb' | 'mysql';
  version: { major: number; minor: number; patch: number };
}

/** Where to connect; the user and password go into the defaults file, not here. */
export interface DumpEndpoint {
  host: string;
  port: number;
  socket?: string;
  /** TLS as --tls-mode; undefined: the tool's default. */
  tls?: TlsSettings | undefined;
}

/** Inputs of {@link buildDumpCommand}. */
export interface DumpCommandOptions {
  source: DumpSourceFlavor;
  endpoint: DumpEndpoint;
  /** Path of the 0600 defaults file holding user and password; always the first argument. */
  defaultsFile: string;
  /** Schemas to dump; empty or undefined = all (`--all-databases`). */
  databases?: readonly string[];
  /**
   * The source is a replica: record its primary's coordinates (`--dump-slave=2`, MySQL 8.0.26+
   * `--dump-replica=2`) instead of its own binlog's. MariaDB's `--gtid` then prints the replica's
   * `gtid_slave_pos`. The tool stops the replica's SQL thread for the dump and starts it again.
   */
  fromReplica?: boolean;
  /** Extra arguments appended before the database selection (e.g. `--skip-lock-tables`). */
  extraArgs?: readonly string[];
}

/** The program candidates and argv of a dump. */
export interface DumpCommand {
  /** Programs to try, in order (the first found on PATH wins). */
  programs: string[];
  /** Arguments, `--defaults-extra-file=...` first (the tools require it there). */
  args: string[];
}

/** True when MySQL `v` knows `--source-data` (8.0.26+); older ones only `--master-data`. */
function mysqlHasSourceData(v: DumpSourceFlavor['version']): boolean {
  return v.major > 8 || (v.major === 8 && (v.minor > 0 || v.patch >= 26));
}

/**
 * The dump command for `opts.source`:
 * - `mariadb-dump` (then `mysqldump`) for MariaDB, with `--master-data=2 --gtid`, so the dump
 *   carries the binlog position and the GTID position (`gtid_slave_pos`) of its snapshot;
 * - `mysqldump` for MySQL, with `--source-data=2` on 8.0.26+ and `--master-data=2` before;
 * - from a replica (`fromReplica`): `--dump-slave=2` / `--dump-replica=2`, the primary's coordinates;
 * - always `--single-transaction` (consistent InnoDB snapshot), routines, events, triggers,
 *   `--hex-blob` (binary-safe), and `--all-databases` or `--databases a b`.
 *
 * @throws RangeError when a database name is empty or starts with `-` (it would read as a flag)
 */
export function buildDumpCommand(opts: DumpCommandOptions): DumpCommand {
  const { source, endpoint } = opts;
  const args = [`--defaults-extra-file=${opts.defaultsFile}`];
  if (endpoint.socket) {
    args.push('--protocol=SOCKET', `--socket=${endpoint.socket}`);
  } else {
    args.push('--protocol=TCP', `--host=${endpoint.host}`, `--port=${endpoint.port}`);
  }
  // the tool is MariaDB's for a MariaDB source (mariadb-dump, or Debian's mysqldump) and MySQL's otherwise
  args.push(...tlsClientArgs(endpoint.tls, source.flavor, endpoint.socket !== undefined));
  args.push('--single-transaction');
  if (source.flavor === 'mariadb') {
    args.push(opts.fromReplica ? '--dump-slave=2' : '--master-data=2', '--gtid');
  } else if (opts.fromReplica) {
    args.push(mysqlHasSourceData(source.version) ? '--dump-replica=2' : '--dump-slave=2');
  } else {
    args.push(mysqlHasSourceData(source.version) ? '--source-data=2' : '--master-data=2');
  }
  args.push('--routines', '--events', '--triggers', '--hex-blob');
  args.push(...(opts.extraArgs ?? []));
  const databases = opts.databases ?? [];
  for (const db of databases) {
    if (db === '' || db.startsWith('-')) throw new RangeError(`invalid database name "${db}"`);
  }
  if (databases.length > 0) args.push('--databases', ...databases);
  else args.push('--all-databases');
  return {
    programs: source.flavor === 'mariadb' ? ['mariadb-dump', 'mysqldump'] : ['mysqldump'],
    args,
  };
}
