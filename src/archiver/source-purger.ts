import {
  binlogFileAfter,
  compareBinlogFiles,
  isBinlogFileName,
  parseBinlogFileName,
} from '../catalog/index.js';
import { messageOf } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { SourcePort } from './source-port.js';

/**
 * `--purge-source`: once a file is archived to its end, purges the source's binlogs before the
 * `keep` most recent archived files (`PURGE BINARY LOGS TO`). One purge at a time, in order; a
 * failure is logged (with the privilege to grant) and never stops the archiver. The source itself
 * refuses to purge a file a connected replica still reads, and never purges its active file.
 */
export class SourcePurger {
  readonly #port: Pick<SourcePort, 'address' | 'execute'>;
  readonly #keep: number;
  readonly #log: Logger;
  /** The purge in progress, awaited by {@link settled}. */
  #purging: Promise<void> = Promise.resolve();
  /** The last file purged up to. */
  #purgedTo: string | undefined;

  constructor(port: Pick<SourcePort, 'address' | 'execute'>, keep: number, logger: Logger) {
    this.#port = port;
    this.#keep = Math.max(0, keep);
    this.#log = logger;
  }

  /** The last file purged up to (asked for), if any. */
  get purgedTo(): string | undefined {
    return this.#purgedTo;
  }

  /**
   * `file` is archived to its end (its closing segment is stored): purge the source's files before
   * the `keep` most recent archived ones, after the previous purge. Never throws.
   */
  fileArchived(file: string): void {
    const keep = this.#keep;
    if (!isBinlogFileName(file)) return;
    const { sequence } = parseBinlogFileName(file);
    // PURGE ... TO 'x' removes the files before x: keep `keep` files ending with `file`
    if (sequence + 1 - keep < 1) return;
    const to = binlogFileAfter(file, 1 - keep);
    if (this.#purgedTo !== undefined && compareBinlogFiles(to, this.#purgedTo) <= 0) return;
    this.#purgedTo = to;
    this.#purging = this.#purging.then(async () => {
      try {
        // the file to purge to must exist, or the source refuses (and it never purges the active file)
        await this.#port.execute('PURGE BINARY LOGS TO ?', [to]);
        this.#log.info(`purged source binlogs before ${to} (archived; --purge-source)`, { to });
      } catch (err) {
        this.#log.warn(
          `could not purge the source's binlogs before ${to}; grant the user BINLOG ADMIN (MariaDB) or ` +
            'SUPER / BINLOG_ADMIN (MySQL), or drop --purge-source',
          { error: messageOf(err) },
        );
      }
    });
  }

  /** Resolves when the purges asked for so far are done (or failed). Never rejects. */
  settled(): Promise<void> {
    return this.#purging;
  }
}
