import type { ChecksumAlgorithm } from '../binlog/index.js';
import type { BinlogStreamEvent, SourceFacts } from '../mysql/index.js';

/**
 * One item of a binlog dump as the archiver reads it (a `BinlogStreamEvent` is one):
 * - `event`: an event of `file` at `position`, `buffer` exactly as stored, CRC32 already verified;
 * - `format-description-resend`: the file's FORMAT_DESCRIPTION_EVENT sent again (not in the file);
 * - `rotate-artificial`: the source announces `file` from `position` (not in any file);
 * - `heartbeat`: the source is idle (not in any file).
 */
export type SourceItem = Pick<BinlogStreamEvent, 'kind' | 'buffer' | 'file' | 'position'>;

/**
 * The items of one dump, in order (`BinlogStream` is one). Polled without a promise per event:
 * `poll()` returns what is already received, `next()` waits.
 */
export interface SourceItems {
  /** The next item if one is already received, else undefined (then await {@link next}). */
  poll(): SourceItem | undefined;
  /**
   * The next item; `done` once the dump ended (EOF of a non-blocking dump, or {@link close}).
   *
   * @throws the dump's typed error (MysqlServerError, BinlogUnavailableError, MysqlConnectionError,
   *   CorruptDataError, ChecksumMismatchError) after the items received before it
   */
  next(): Promise<IteratorResult<SourceItem>>;
  /** Ends the dump; `next()` is then done. Never throws; safe to call more than once. */
  close(): Promise<void>;
}

/** MariaDB's GTID state at the start of each recent binlog file, and the per-server state. */
export interface GtidStarts {
  /** @@global.gtid_binlog_state. */
  gtidBinlogState?: string;
  /** BINLOG_GTID_POS(file, 4) of the newest files, by file name. */
  fileStartGtidPos?: Record<string, string>;
}

/** What the source has, read when a session starts: its facts and (MariaDB) its GTID starts. */
export type SourceSnapshot = SourceFacts & GtidStarts;

/** An open dump. */
export interface SourceDump {
  readonly items: SourceItems;
  /** Checksum algorithm of the source's events (until a FORMAT_DESCRIPTION_EVENT says otherwise). */
  readonly checksumAlgorithm: ChecksumAlgorithm;
  /** Stops watching the source (the primary check of several sources); call once the dump ended. */
  release(): void;
}

/**
 * Where the archiver's events come from: the port between the archiver and the source. It picks
 * the server to stream from, reads what that server has, opens the dump, and runs the archiver's
 * administrative statements there. It knows nothing of the repository. `MysqlSourcePort` is the
 * real one; tests may pass one that feeds recorded binlog files.
 */
export interface SourcePort {
  /** The server streamed from, as printed (`mysql://repl@db1:3306`, never a password). */
  readonly address: string;
  /**
   * Picks the server to stream from (of several, the primary) and reads what it has.
   *
   * @throws MysqlConnectionError when no server can be reached or none is the primary (retryable);
   *   MysqlPrerequisiteError / PitrError MYSQL_PREREQUISITE when the binary log is off or cannot
   *   be listed; MysqlServerError for other refusals
   */
  connect(): Promise<SourceSnapshot>;
  /**
   * Opens the dump at `file`:`position` on the server {@link connect} picked. With several
   * sources, the dump is closed when that server stops being the primary (a switchover).
   *
   * @throws as connect, and BinlogUnavailableError when the source no longer has the file
   */
  open(from: { file: string; position: number }): Promise<SourceDump>;
  /**
   * Runs one administrative statement (FLUSH BINARY LOGS, PURGE BINARY LOGS TO ?) on that server
   * over a connection of its own.
   *
   * @throws the server's error (the caller logs it; these statements are best effort)
   */
  execute(sql: string, params?: readonly unknown[]): Promise<void>;
}
