import { messageOf } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { SourcePort } from './source-port.js';

/**
 * `--rotate-interval`: runs `FLUSH BINARY LOGS` on the source every `intervalMs` while
 * transactions were archived since the file last rotated, so that no file spans too long. A
 * failure is logged (with the privilege to grant) and never stops the archiver.
 */
export class SourceRotator {
  readonly #port: Pick<SourcePort, 'address' | 'execute'>;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  /** Transactions archived since the file last rotated. */
  #transactions = 0;

  /** Starts the interval timer (unref'd); `stopped` pauses it for good. */
  constructor(
    port: Pick<SourcePort, 'address' | 'execute'>,
    intervalMs: number,
    logger: Logger,
    stopped: AbortSignal,
  ) {
    this.#port = port;
    this.#log = logger;
    let busy = false;
    this.#timer = setInterval(() => {
      if (busy || this.#transactions === 0 || stopped.aborted) return;
      busy = true;
      void (async () => {
        try {
          await this.#port.execute('FLUSH BINARY LOGS');
          this.#transactions = 0;
          this.#log.debug('rotated the source binlog (--rotate-interval)');
        } catch (err) {
          this.#log.warn(
            `could not run FLUSH BINARY LOGS on ${this.#port.address} for --rotate-interval; grant the user RELOAD ` +
              '(or BINLOG ADMIN on MariaDB), or drop --rotate-interval',
            { error: messageOf(err) },
          );
        } finally {
          busy = false;
        }
      })();
    }, intervalMs);
    this.#timer.unref();
  }

  /** Transactions archived since the file last rotated. */
  get transactions(): number {
    return this.#transactions;
  }

  /** A segment was stored: count its transactions, or start again when it closes its file. */
  stored(segment: { closesFile: boolean; transactions: number }): void {
    this.#transactions = segment.closesFile ? 0 : this.#transactions + segment.transactions;
  }

  /** Stops the timer (a FLUSH under way finishes by itself). */
  stop(): void {
    clearInterval(this.#timer);
  }
}
