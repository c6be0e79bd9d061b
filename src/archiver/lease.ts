import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostname } from 'node:os';

import { ARCHIVER_LEASE_KEY, checkFormatVersion } from '../catalog/index.js';
import { PitrError, messageOf } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import { ObjectNotFoundError, PreconditionFailedError, type ObjectStore } from '../storage/index.js';

/** Version of the lease record layout. */
export const LEASE_FORMAT = 1;

/** What `locks/archiver.json` holds. */
export interface LeaseRecord {
  format: typeof LEASE_FORMAT;
  /** Random id of the holder (one per process run). */
  owner: string;
  host: string;
  pid: number;
  /** What the holder archives, for messages (`mysql://repl@db1:3306`). */
  source: string;
  acquiredAt: string;
  renewedAt: string;
  /** The lease is void after this time unless renewed. */
  expiresAt: string;
  /** Set when the holder released the lease on a clean exit: the lease is free. */
  releasedAt?: string;
  /**
   * The holder's epoch: the number of the `<lease>-epochs/<epoch>.json` object it created with
   * put-if-absent when it took the lease (absent in records of older versions: epoch 0).
   */
  epoch?: number;
}

/** Another archiver holds the lease (exit code LOCKED). */
export class LeaseHeldError extends PitrError {
  /** The current holder, as recorded. */
  readonly holder: LeaseRecord | undefined;

  constructor(message: string, holder: LeaseRecord | undefined, options?: ErrorOptions) {
    super('LEASE_HELD', message, options);
    this.holder = holder;
  }
}

/** Options of Lease.acquire. */
export interface LeaseOptions {
  /** Default locks/archiver.json. */
  key?: string;
  /** How long a lease lasts without renewal (default 60 s). Renewed every ttl/3. */
  ttlMs?: number;
  /** What this archiver archives, recorded for `status`. */
  source: string;
  logger?: Logger;
  /** Clock (tests). */
  now?: () => number;
  /** This host's name (default os.hostname()). */
  host?: string;
  /** This process id (default process.pid). */
  pid?: number;
  /** Whether a process of this host is alive (default: signal 0). */
  isProcessAlive?: (pid: number) => boolean;
  /**
   * Epochs, expiry judged on this host's monotonic clock, and the self-fence (see Lease). Default
   * false: the plain lease (put-if-absent record, takeover once `expiresAt` has passed by this
   * host's wall clock, no fence), which `binlog compact` uses. The archiver sets it.
   */
  fencing?: boolean;
  /** Monotonic clock in ms (default performance.now): judges expiry and validity. */
  monotonicNow?: () => number;
  /** How often a held lease is re-read while waiting for it to expire (default min(1 s, ttl/10)). */
  pollMs?: number;
}

/** Default lease duration. */
export const DEFAULT_LEASE_TTL_MS = 60_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Parses a lease record; undefined when it is not one.
 *
 * @throws FormatTooNewError (FORMAT_TOO_NEW) when a newer mysql-pitr wrote it: an older archiver
 *   must neither take over nor overwrite it
 */
export function parseLeaseRecord(text: string, key = ARCHIVER_LEASE_KEY): LeaseRecord | undefined {
  let v: Partial<LeaseRecord> | null;
  try {
    v = JSON.parse(text) as Partial<LeaseRecord> | null;
  } catch {
    return undefined; // not a lease
  }
  if (!v || typeof v !== 'object') return undefined;
  if (typeof v.format === 'number' && v.format > LEASE_FORMAT) {
    checkFormatVersion(v.format, LEASE_FORMAT, key, 'archiver lease');
  }
  if (typeof v.owner === 'string' && typeof v.expiresAt === 'string' && typeof v.pid === 'number') {
    return { ...v, format: LEASE_FORMAT } as LeaseRecord;
  }
  return undefined;
}

/**
 * Reads the lease record at `key`; undefined when there is none (or it is unreadable).
 *
 * @throws StorageError for storage failures other than a missing object
 */
export async function readLease(
  store: ObjectStore,
  key = ARCHIVER_LEASE_KEY,
): Promise<LeaseRecord | undefined> {
  const record = await readLeaseObject(store, key);
  return record?.releasedAt === undefined ? record : undefined;
}

/** The lease object as stored, released or not; undefined when missing or unreadable. */
async function readLeaseObject(store: ObjectStore, key: string): Promise<LeaseRecord | undefined> {
  try {
    return parseLeaseRecord((await store.get(key)).toString('utf8'), key);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}

/** The prefix of the epoch objects of the lease at `key` (`locks/archiver.json` -> `locks/archiver-epochs/`). */
export function leaseEpochsPrefix(key: string): string {
  return `${key.replace(/\.json$/, '')}-epochs/`;
}

/** The key of epoch `epoch` of the lease at `key`. */
export function leaseEpochKey(key: string, epoch: number): string {
  return `${leaseEpochsPrefix(key)}${String(epoch).padStart(10, '0')}.json`;
}

/** The highest epoch object under the lease's epochs prefix, 0 when there is none. */
async function highestEpoch(store: ObjectStore, key: string): Promise<number> {
  let max = 0;
  const prefix = leaseEpochsPrefix(key);
  for await (const obj of store.list(prefix)) {
    const m = /^(\d{10})\.json$/.exec(obj.key.slice(prefix.length));
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** The raw lease object; undefined when missing. */
async function readRaw(store: ObjectStore, key: string): Promise<string | undefined> {
  try {
    return (await store.get(key)).toString('utf8');
  } catch (err) {
    if (err instanceof ObjectNotFoundError) return undefined;
    throw err;
  }
}

/**
 * A lease on the repository, so that two archivers never write at once, and a fence: once another
 * archiver may have taken over, this one writes nothing more.
 *
 * - **Taking it** is decided by put-if-absent (atomic on the filesystem and on S3 with
 *   If-None-Match) of an epoch object `<lease>-epochs/<n>.json`, n one above the highest epoch
 *   so far: of two archivers taking the lease at the same moment exactly one succeeds. The record
 *   `locks/archiver.json` then names the holder and its epoch, for people and for `status`.
 * - **Expiry is judged on the taker's own monotonic clock**, never by comparing another host's
 *   `expiresAt` with this host's time: a held record must stay byte-for-byte unchanged for a full
 *   ttl while the taker watches it. A live holder rewrites it every ttl/3, so the taker refuses
 *   (LEASE_HELD) as soon as it changes. A released record (clean exit), or a holder on this host
 *   whose process is gone (kill -9), is free at once.
 * - **The holder fences itself.** Its lease is valid until ttl after the *start* of its last
 *   renewal that succeeded, measured on its monotonic clock (which keeps running while the process
 *   is stopped). `assertValid()` is called before every object the archiver writes: a holder whose
 *   renewals failed for a ttl, or that was paused (SIGSTOP, a frozen VM, a long GC) past it, stops
 *   without writing. Because the taker waited a full ttl after the holder's last renewal write,
 *   the holder's validity always ends before a taker writes anything. Once expired, a lease is
 *   never renewed again (a taker may be claiming it): the archiver exits and is restarted.
 * - **Renewal checks the next epoch object** (one HEAD) before rewriting the record: a holder that
 *   finds a higher epoch was taken over and stops. A record overwritten by a stale holder is
 *   rewritten by the holder of the higher epoch.
 *
 * What this cannot stop: a write already sent when the process froze lands when it resumes. The
 * archiver stores segments with put-if-absent, so such a late write never replaces an object; it
 * can only add the source's own bytes at the end of the chain.
 */
export class Lease {
  readonly #store: ObjectStore;
  readonly #key: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #mono: () => number;
  readonly #logger: Logger;
  #record: LeaseRecord;
  #timer: NodeJS.Timeout | undefined;
  #released = false;
  /** Monotonic time at which the last successful renewal (or the claim) started. */
  #confirmedAt: number;
  #lost: LeaseHeldError | undefined;
  readonly #fencing: boolean;

  private constructor(
    store: ObjectStore,
    key: string,
    ttlMs: number,
    now: () => number,
    mono: () => number,
    logger: Logger,
    record: LeaseRecord,
    confirmedAt: number,
    fencing: boolean,
  ) {
    this.#fencing = fencing;
    this.#store = store;
    this.#key = key;
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#mono = mono;
    this.#logger = logger;
    this.#record = record;
    this.#confirmedAt = confirmedAt;
  }

  /** The record as last written. */
  get record(): LeaseRecord {
    return this.#record;
  }

  /** This holder's epoch (written into every segment header). */
  get epoch(): number {
    return this.#record.epoch ?? 0;
  }

  /** True while the lease is valid by this host's monotonic clock and was not found taken over. */
  get valid(): boolean {
    return !this.#released && this.#lost === undefined && this.#mono() - this.#confirmedAt < this.#ttlMs;
  }

  /**
   * The fence: call before writing anything to the repository.
   *
   * @throws LeaseHeldError (LEASE_HELD) when the lease expired (renewals failed or the process was
   *   paused for longer than the ttl) or another archiver took it over
   */
  assertValid(what: string): void {
    if (this.#lost) throw this.#lost;
    const age = this.#mono() - this.#confirmedAt;
    if (age < this.#ttlMs) return;
    this.#lost = new LeaseHeldError(
      `the repository lease ${this.#key} (epoch ${this.epoch}) was last confirmed ${Math.round(age)} ms ago, longer ` +
        `than its ttl of ${this.#ttlMs} ms (renewals failed, or this process was paused): another archiver may have ` +
        `taken over, so this one does not ${what} and stops. Restart it; check why it stalled or could not reach the repository.`,
      this.#record,
    );
    throw this.#lost;
  }

  /**
   * Takes the lease.
   *
   * @throws LeaseHeldError (LEASE_HELD) when another live archiver holds it (its record changed
   *   while this one watched it) or took it at the same moment
   * @throws StorageError when the repository fails
   */
  static async acquire(store: ObjectStore, opts: LeaseOptions): Promise<Lease> {
    const key = opts.key ?? ARCHIVER_LEASE_KEY;
    const ttl = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    const now = opts.now ?? Date.now;
    const mono = opts.monotonicNow ?? (() => performance.now());
    const logger = opts.logger ?? silentLogger;
    const host = opts.host ?? hostname();
    const pid = opts.pid ?? process.pid;
    const alive = opts.isProcessAlive ?? processAlive;
    if (!opts.fencing)
      return await Lease.#acquirePlain(store, key, ttl, now, mono, logger, opts, host, pid, alive);
    const pollMs = opts.pollMs ?? Math.max(10, Math.min(1000, Math.floor(ttl / 10)));
    const held = (holder: LeaseRecord, why: string): LeaseHeldError =>
      new LeaseHeldError(
        `another archiver holds the repository lease ${store.describe()}/${key}: host ${holder.host} pid ${holder.pid}, ` +
          `archiving ${holder.source}, since ${holder.acquiredAt} (${why}). ` +
          'Only one archiver may write to a repository. Stop the other one first; if it is dead on another host, ' +
          `start this one again: it takes over once the lease has not been renewed for ${ttl} ms.`,
        holder,
      );
    // the highest epoch is read BEFORE the record: a taker that saw no holder in the record then
    // claims the epoch right after the one it listed, and conflicts with any claim in between
    const highest = await highestEpoch(store, key);
    const raw = await readRaw(store, key);
    const holder = raw === undefined ? undefined : parseLeaseRecord(raw);
    if (holder && holder.releasedAt === undefined) {
      const dead = holder.host === host && holder.pid !== pid && !alive(holder.pid);
      if (!dead) {
        // judge expiry on our own clock: the record must stay unchanged for a full ttl
        const since = mono();
        logger.info('the repository lease is held; waiting to see whether its holder renews it', {
          key,
          holderHost: holder.host,
          holderPid: holder.pid,
          ttlMs: ttl,
        });
        while (mono() - since < ttl) {
          await sleep(pollMs);
          const again = await readRaw(store, key);
          if (again !== raw) {
            const now2 = again === undefined ? undefined : parseLeaseRecord(again);
            // released meanwhile (a clean exit): free now
            if (now2?.releasedAt !== undefined && now2.owner === holder.owner) break;
            throw held(now2 ?? holder, 'it renewed the lease while this archiver watched');
          }
        }
      }
      logger.warn('taking over a stale archiver lease', {
        key,
        holderHost: holder.host,
        holderPid: holder.pid,
        holderEpoch: holder.epoch ?? 0,
        why: dead ? 'its process on this host is gone' : `not renewed for ${ttl} ms by this host's clock`,
      });
    }
    const claimedAt = mono();
    const epoch = Math.max(holder?.epoch ?? 0, highest) + 1;
    const t = now();
    const record: LeaseRecord = {
      format: 1,
      owner: randomUUID(),
      host,
      pid,
      source: opts.source,
      acquiredAt: new Date(t).toISOString(),
      renewedAt: new Date(t).toISOString(),
      expiresAt: new Date(t + ttl).toISOString(),
      epoch,
    };
    const body = Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
    try {
      await store.put(leaseEpochKey(key, epoch), body, { ifAbsent: true, contentType: 'application/json' });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      const winner = parseLeaseRecord((await readRaw(store, leaseEpochKey(key, epoch))) ?? '');
      throw held(winner ?? record, `it took epoch ${epoch} of the lease at the same moment as this one`);
    }
    await store.put(key, body, { contentType: 'application/json' });
    return new Lease(store, key, ttl, now, mono, logger, record, claimedAt, true);
  }

  /** The plain lease (no epochs, no fence): see LeaseOptions.fencing. */
  static async #acquirePlain(
    store: ObjectStore,
    key: string,
    ttl: number,
    now: () => number,
    mono: () => number,
    logger: Logger,
    opts: LeaseOptions,
    host: string,
    pid: number,
    alive: (pid: number) => boolean,
  ): Promise<Lease> {
    const t = now();
    const record: LeaseRecord = {
      format: LEASE_FORMAT,
      owner: randomUUID(),
      host,
      pid,
      source: opts.source,
      acquiredAt: new Date(t).toISOString(),
      renewedAt: new Date(t).toISOString(),
      expiresAt: new Date(t + ttl).toISOString(),
    };
    const body = (): Buffer => Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
    const make = (): Lease => new Lease(store, key, ttl, now, mono, logger, record, mono(), false);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await store.put(key, body(), { ifAbsent: true, contentType: 'application/json' });
        return make();
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
      }
      const holder = await readLeaseObject(store, key);
      if (!holder) continue; // deleted meanwhile, or unreadable: try again
      const expired = holder.releasedAt !== undefined || Date.parse(holder.expiresAt) < now();
      const dead = holder.host === host && holder.pid !== pid && !alive(holder.pid);
      if (!expired && !dead) {
        throw new LeaseHeldError(
          `another process holds the lease ${store.describe()}/${key}: host ${holder.host} pid ${holder.pid}, ` +
            `for ${holder.source}, since ${holder.acquiredAt}, valid until ${holder.expiresAt}. ` +
            'Stop the other one first; if it is dead on another host, ' +
            `wait until the lease expires (or delete ${key} once you are sure it is gone).`,
          holder,
        );
      }
      logger.warn('taking over a stale lease', {
        key,
        holderHost: holder.host,
        holderPid: holder.pid,
        why:
          holder.releasedAt !== undefined
            ? `released at ${holder.releasedAt}`
            : expired
              ? `expired at ${holder.expiresAt}`
              : 'its process is gone',
      });
      await store.put(key, body(), { contentType: 'application/json' });
      const check = await readLease(store, key);
      if (check?.owner === record.owner) return make();
    }
    throw new LeaseHeldError(
      `could not take the lease ${key} after 5 attempts: another process keeps taking it. Stop the other one.`,
      await readLease(store, key),
    );
  }

  /**
   * Extends the lease by its ttl, after checking that nobody took it over.
   *
   * @throws LeaseHeldError when another archiver took it over, or it already expired
   * @throws StorageError when the repository fails
   */
  async renew(): Promise<void> {
    if (this.#released) return;
    const started = this.#mono();
    if (!this.#fencing) {
      const current = await readLease(this.#store, this.#key);
      if (current && current.owner !== this.#record.owner) {
        throw new LeaseHeldError(
          `the lease ${this.#key} was taken over by host ${current.host} pid ${current.pid} at ${current.renewedAt}; ` +
            'this process stops so that two never write at once. Check why it stalled for longer than the lease.',
          current,
        );
      }
    } else {
      this.assertValid('renew the lease');
    }
    const epoch = this.epoch;
    if (this.#fencing && (await this.#store.exists(leaseEpochKey(this.#key, epoch + 1)))) {
      const current = await readLease(this.#store, this.#key);
      this.#lost = new LeaseHeldError(
        `the repository lease ${this.#key} was taken over (epoch ${epoch + 1}` +
          (current ? ` by host ${current.host} pid ${current.pid} at ${current.acquiredAt}` : '') +
          '); this archiver stops so that two never write at once. Check why this process stalled for longer than the lease.',
        current,
      );
      throw this.#lost;
    }
    const t = this.#now();
    const next: LeaseRecord = {
      ...this.#record,
      renewedAt: new Date(t).toISOString(),
      expiresAt: new Date(t + this.#ttlMs).toISOString(),
    };
    await this.#store.put(this.#key, Buffer.from(`${JSON.stringify(next, null, 2)}\n`), {
      contentType: 'application/json',
    });
    this.#record = next;
    this.#confirmedAt = started;
  }

  /**
   * Renews every ttl/3 in the background until release(); calls `onLost` once when renewal finds the
   * lease taken over, or when it could not be renewed for a whole ttl. Other storage errors are
   * logged and retried at the next tick.
   */
  keepAlive(onLost: (err: LeaseHeldError) => void): void {
    const tick = (): void => {
      this.#timer = setTimeout(
        () => {
          this.renew().then(
            () => {
              if (!this.#released) tick();
            },
            (err: unknown) => {
              if (err instanceof LeaseHeldError) {
                onLost(err);
                return;
              }
              this.#logger.warn('could not renew the archiver lease; retrying', { error: messageOf(err) });
              if (!this.#released) tick();
            },
          );
        },
        Math.max(10, Math.floor(this.#ttlMs / 3)),
      );
      this.#timer.unref();
    };
    tick();
  }

  /**
   * Stops renewing and marks the lease released if it is still ours and still valid (an expired
   * lease may be being taken over: it is left alone). Never throws. The record is overwritten, not
   * deleted: the archiver's IAM role has no delete permission (only expire deletes), and a
   * released record is free for the next archiver at once.
   */
  async release(): Promise<void> {
    const valid = this.valid;
    this.#released = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (!valid) return;
    try {
      const current = await readLease(this.#store, this.#key);
      if (current?.owner === this.#record.owner) {
        const at = new Date(this.#now()).toISOString();
        const released: LeaseRecord = { ...this.#record, releasedAt: at, expiresAt: at };
        await this.#store.put(this.#key, Buffer.from(`${JSON.stringify(released, null, 2)}\n`), {
          contentType: 'application/json',
        });
      }
    } catch (err) {
      this.#logger.warn('could not release the archiver lease; it expires by itself', {
        error: messageOf(err),
      });
    }
  }
}
