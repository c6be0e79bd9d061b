import { randomUUID } from 'node:crypto';
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

/**
 * A lease on the repository, so that two archivers never write at once: the object
 * `locks/archiver.json` names the holder and an expiry. It is taken with put-if-absent, renewed
 * every ttl/3 (after checking the holder is still us), and marked released on a clean exit. A lease is
 * taken over when it expired, or at once when its holder ran on this host and its process is gone
 * (a crash or kill -9), so a restarted archiver need not wait for the expiry.
 */
export class Lease {
  readonly #store: ObjectStore;
  readonly #key: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  #record: LeaseRecord;
  #timer: NodeJS.Timeout | undefined;
  #released = false;

  private constructor(
    store: ObjectStore,
    key: string,
    ttlMs: number,
    now: () => number,
    logger: Logger,
    record: LeaseRecord,
  ) {
    this.#store = store;
    this.#key = key;
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.#logger = logger;
    this.#record = record;
  }

  /** The record as last written. */
  get record(): LeaseRecord {
    return this.#record;
  }

  /**
   * Takes the lease.
   *
   * @throws LeaseHeldError (LEASE_HELD) when another live archiver holds it
   * @throws StorageError when the repository fails
   */
  static async acquire(store: ObjectStore, opts: LeaseOptions): Promise<Lease> {
    const key = opts.key ?? ARCHIVER_LEASE_KEY;
    const ttl = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    const now = opts.now ?? Date.now;
    const logger = opts.logger ?? silentLogger;
    const host = opts.host ?? hostname();
    const pid = opts.pid ?? process.pid;
    const alive = opts.isProcessAlive ?? processAlive;
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
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await store.put(key, body(), { ifAbsent: true, contentType: 'application/json' });
        return new Lease(store, key, ttl, now, logger, record);
      } catch (err) {
        if (!(err instanceof PreconditionFailedError)) throw err;
      }
      const holder = await readLeaseObject(store, key);
      if (!holder) continue; // deleted meanwhile, or unreadable: try again
      const expired = holder.releasedAt !== undefined || Date.parse(holder.expiresAt) < now();
      const dead = holder.host === host && holder.pid !== pid && !alive(holder.pid);
      if (!expired && !dead) {
        throw new LeaseHeldError(
          `another archiver holds the repository lease ${store.describe()}/${key}: host ${holder.host} pid ${holder.pid}, ` +
            `archiving ${holder.source}, since ${holder.acquiredAt}, valid until ${holder.expiresAt}. ` +
            'Only one archiver may write to a repository. Stop the other one first; if it is dead on another host, ' +
            `wait until the lease expires (or delete ${key} once you are sure it is gone).`,
          holder,
        );
      }
      logger.warn('taking over a stale archiver lease', {
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
      if (check?.owner === record.owner) return new Lease(store, key, ttl, now, logger, record);
    }
    throw new LeaseHeldError(
      `could not take the repository lease ${key} after 5 attempts: another archiver keeps taking it. Stop the other archiver.`,
      await readLease(store, key),
    );
  }

  /**
   * Extends the lease by its ttl, after checking that it is still ours.
   *
   * @throws LeaseHeldError when another archiver took it over
   * @throws StorageError when the repository fails
   */
  async renew(): Promise<void> {
    if (this.#released) return;
    const current = await readLease(this.#store, this.#key);
    if (current && current.owner !== this.#record.owner) {
      throw new LeaseHeldError(
        `the repository lease ${this.#key} was taken over by host ${current.host} pid ${current.pid} at ${current.renewedAt}; ` +
          'this archiver stops so that two never write at once. Check why this process stalled for longer than the lease.',
        current,
      );
    }
    const t = this.#now();
    this.#record = {
      ...this.#record,
      renewedAt: new Date(t).toISOString(),
      expiresAt: new Date(t + this.#ttlMs).toISOString(),
    };
    await this.#store.put(this.#key, Buffer.from(`${JSON.stringify(this.#record, null, 2)}\n`), {
      contentType: 'application/json',
    });
  }

  /**
   * Renews every ttl/3 in the background until release(); calls `onLost` once when renewal finds the
   * lease taken over. Storage errors during renewal are logged and retried at the next tick.
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
        Math.max(1000, Math.floor(this.#ttlMs / 3)),
      );
      this.#timer.unref();
    };
    tick();
  }

  /**
   * Stops renewing and marks the lease released if it is still ours. Never throws. The record is
   * overwritten, not deleted: the archiver's IAM role has no delete permission (only expire
   * deletes), and a released record is free for the next archiver at once.
   */
  async release(): Promise<void> {
    this.#released = true;
    if (this.#timer) clearTimeout(this.#timer);
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
