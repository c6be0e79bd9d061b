import { PitrError } from '../../errors/index.js';
import type { DumpStatement } from './dump-statement-splitter.js';
import type { ParallelLoadSession } from './parallel-load-session.js';

/** Statements queued per session beyond the running one (a few MiB in flight at most). */
const QUEUE_PER_SESSION = 2;

/** Where a statement came from, for the error message of a failure. */
interface Origin {
  line: number;
  database: string | undefined;
  table: string | undefined;
  sql: Buffer;
}

/** Counts of what the loader did, for logs and tests. */
export interface ParallelLoadStats {
  statements: number;
  inserts: number;
  /** Statements left out in parallel mode (LOCK/UNLOCK TABLES, DISABLE/ENABLE KEYS, comments...). */
  skipped: number;
}

function describe(o: Origin): string {
  const text = o.sql.toString('utf8', 0, Math.min(o.sql.length, 160)).replace(/\s+/g, ' ');
  const where =
    o.table !== undefined
      ? ` (table ${o.database !== undefined ? `${o.database}.` : ''}${o.table})`
      : o.database !== undefined
        ? ` (database ${o.database})`
        : '';
  return `dump line ${o.line}${where}: ${text}${o.sql.length > 160 ? ' ...' : ''}`;
}

/**
 * Runs the statements of one dump on N sessions: the data (`INSERT`s) of a table goes to whichever
 * session has the least queued, everything else runs in dump order after a barrier (every session
 * idle). Session state (`SET`, `USE`, `COMMIT`...) runs on every session, so each one has the dump's
 * character set, time zone, sql_mode, unique_checks=0 and foreign_key_checks=0; other statements
 * (DDL, views, routines, `SET @@GLOBAL...`) run once, on the first session. `LOCK TABLES` and
 * `DISABLE/ENABLE KEYS` are left out: a lock held by one session would block the others, and the
 * caller has checked the target is empty (or was told to load over it).
 *
 * loadBackupDump uses it with one session (`--load-threads 1`: the dump in order, read once); with
 * more, it uses loadInLanes (whole tables per session), which measured faster than spreading one
 * table's INSERTs over sessions (they contend for the same index pages).
 *
 * The first failure stops the load: `feed` and `finish` then throw RESTORE_APPLY_FAILED naming the
 * statement (dump line, table, text) and the server's error.
 */
export class ParallelDumpLoader {
  private readonly outstanding: number[];
  private waiters: (() => void)[] = [];
  private failure: PitrError | undefined;
  private database: string | undefined;
  private table: string | undefined;
  readonly stats: ParallelLoadStats = { statements: 0, inserts: 0, skipped: 0 };

  /**
   * @param sessions open sessions (at least one)
   * @param describeFailure builds the message of a failed statement from its description and the
   *   server's error (the caller adds what to do next)
   */
  constructor(
    private readonly sessions: readonly ParallelLoadSession[],
    private readonly describeFailure: (statement: string, cause: Error) => string,
  ) {
    if (sessions.length === 0) throw new RangeError('ParallelDumpLoader needs at least one session');
    this.outstanding = sessions.map(() => 0);
  }

  /** The first failure, once one happened. */
  get failed(): PitrError | undefined {
    return this.failure;
  }

  /**
   * Hands over the next statement of the dump; resolves once it is queued (data) or done (anything
   * else), so the caller's reading is held back by the target's speed.
   *
   * @throws PitrError RESTORE_APPLY_FAILED after any statement failed
   */
  async feed(st: DumpStatement): Promise<void> {
    this.throwIfFailed();
    switch (st.kind) {
      case 'sandbox':
      case 'comment':
      case 'delimiter':
      case 'lock-tables':
      case 'unlock-tables':
      case 'disable-keys':
      case 'enable-keys':
        this.stats.skipped++;
        return;
      case 'insert':
        this.stats.statements++;
        this.stats.inserts++;
        await this.dispatch(st);
        return;
      case 'use':
      case 'create-database':
        this.database = st.database;
        break;
      case 'create-table':
      case 'drop-table':
        this.table = st.table;
        break;
      default:
        break;
    }
    this.stats.statements++;
    await this.barrier();
    const origin = this.origin(st);
    if (st.kind === 'session' || st.kind === 'use' || st.kind === 'transaction') {
      await Promise.all(this.sessions.map((_, i) => this.run(i, st.sql, origin)));
    } else {
      await this.run(0, st.sql, origin);
    }
    this.throwIfFailed();
  }

  /**
   * Waits for every queued statement.
   *
   * @throws PitrError RESTORE_APPLY_FAILED when one failed
   */
  async finish(): Promise<void> {
    await this.barrier();
    this.throwIfFailed();
  }

  private origin(st: DumpStatement): Origin {
    return { line: st.line, database: this.database, table: st.table ?? this.table, sql: st.sql };
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Queues an INSERT on the least busy session, waiting while all of them are full. */
  private async dispatch(st: DumpStatement): Promise<void> {
    if (st.table !== undefined) this.table = st.table;
    for (;;) {
      this.throwIfFailed();
      let best = 0;
      for (let i = 1; i < this.outstanding.length; i++) {
        if (this.outstanding[i]! < this.outstanding[best]!) best = i;
      }
      if (this.outstanding[best]! < QUEUE_PER_SESSION) {
        void this.run(best, st.sql, this.origin(st));
        return;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Runs one statement on session `i`; never rejects (a failure is recorded). */
  private async run(i: number, sql: Buffer, origin: Origin): Promise<void> {
    this.outstanding[i]!++;
    try {
      if (!this.failure) await this.sessions[i]!.query(sql);
    } catch (e) {
      if (!this.failure) {
        const cause = e instanceof Error ? e : new Error(String(e));
        this.failure = new PitrError('RESTORE_APPLY_FAILED', this.describeFailure(describe(origin), cause), {
          cause,
        });
      }
    } finally {
      this.outstanding[i]!--;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  /** Resolves when no session has anything queued. */
  private async barrier(): Promise<void> {
    while (this.outstanding.some((n) => n > 0)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
