import { PitrError } from '../../errors/index.js';
import {
  DumpStatementSplitter,
  SKIPPED_KINDS,
  type DumpStatement,
  type DumpStatementKind,
} from './dump-statement-splitter.js';
import type { ParallelLoadSession } from './parallel-load-session.js';

/** Statements queued on a lane's session beyond the running one. */
const QUEUE_PER_LANE = 2;

/** Statements every lane runs on its own session, in dump order (session state). */
const SESSION_KINDS: ReadonlySet<DumpStatementKind> = new Set(['session', 'use', 'transaction']);
/** Statements of one table: they run on the lane that owns the table. */
const TABLE_KINDS: ReadonlySet<DumpStatementKind> = new Set(['drop-table', 'create-table', 'insert']);

/** What the lanes did, for logs. */
export interface LaneLoadStats {
  lanes: number;
  statements: number;
  tables: number;
  inserts: number;
}

/** Inputs of {@link loadInLanes}. */
export interface LaneLoadOptions {
  /**
   * One decompressed copy of the dump per lane. Every copy must hold the same bytes (each lane
   * finds the same statements in the same order).
   */
  sources: readonly AsyncIterable<Buffer>[];
  /** One open session per source, same order. */
  sessions: readonly ParallelLoadSession[];
  /** The message of a failed statement from its description and the server's error. */
  describeFailure: (statement: string, cause: Error) => string;
  signal?: AbortSignal | undefined;
}

interface Shared {
  /** Per lane: every statement with a lower or equal index is done (run or skipped). */
  done: number[];
  failure: unknown;
  failed: boolean;
  waiters: (() => void)[];
}

function notify(s: Shared): void {
  const w = s.waiters;
  s.waiters = [];
  for (const f of w) f();
}

async function waitUntil(s: Shared, ready: () => boolean): Promise<void> {
  while (!s.failed && !ready()) await new Promise<void>((resolve) => s.waiters.push(resolve));
  if (s.failed) throw s.failure;
}

function describe(st: DumpStatement, database: string | undefined, table: string | undefined): string {
  const text = st.sql.toString('utf8', 0, Math.min(st.sql.length, 160)).replace(/\s+/g, ' ');
  const t = st.table ?? table;
  const where =
    t !== undefined
      ? ` (table ${database !== undefined ? `${database}.` : ''}${t})`
      : database !== undefined
        ? ` (database ${database})`
        : '';
  return `dump line ${st.line}${where}: ${text}${st.sql.length > 160 ? ' ...' : ''}`;
}

/**
 * Loads a dump on N sessions ("lanes"), each reading its own copy of the dump. Tables are dealt
 * out in dump order: the k-th table (its DROP TABLE, CREATE TABLE and all its INSERTs) belongs to
 * lane k mod N, so N tables load at once, each by one session (InnoDB appends to each primary key
 * in order, as a single client would). Every lane runs the session statements (`SET`, `USE`,
 * `COMMIT`) on its own session, in dump order, so each has the dump's character set, sql_mode,
 * time zone, unique_checks and foreign_key_checks. Lane 0 also runs everything else (`CREATE
 * DATABASE`, triggers, views, routines, events, `SET @@GLOBAL...`).
 *
 * Order: a lane runs a statement only after lane 0 has run every one of those "everything else"
 * statements before it (so `USE db` follows `CREATE DATABASE db`), and lane 0 runs each of them
 * (but `CREATE DATABASE`) only after every lane has finished all the statements before it, so a
 * trigger never fires on the dump's own rows and a view sees its tables. `LOCK TABLES` and
 * `DISABLE/ENABLE KEYS` are left out: a lock held by one session would block the others.
 *
 * Memory stays bounded: each lane holds a chunk and at most a few statements.
 *
 * @throws PitrError RESTORE_APPLY_FAILED naming the first failed statement (dump line, table,
 *   text, server error), or the first error of a source (storage, decompression), or the
 *   signal's reason
 */
export async function loadInLanes(opts: LaneLoadOptions): Promise<LaneLoadStats> {
  const n = opts.sources.length;
  if (n < 1 || opts.sessions.length !== n) {
    throw new RangeError('loadInLanes needs at least one lane and one session per lane');
  }
  const shared: Shared = {
    done: new Array<number>(n).fill(-1),
    failure: undefined,
    failed: false,
    waiters: [],
  };
  const stats: LaneLoadStats = { lanes: n, statements: 0, tables: 0, inserts: 0 };
  const fail = (e: unknown): void => {
    if (!shared.failed) {
      shared.failed = true;
      shared.failure = e;
      // Stop the other lanes' statements now rather than after they finish.
      for (const s of opts.sessions) s.destroy();
    }
    notify(shared);
  };
  const onAbort = (): void => fail(opts.signal!.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const lane = async (k: number): Promise<void> => {
    const session = opts.sessions[k]!;
    const splitter = new DumpStatementSplitter();
    const inflight: number[] = [];
    let index = -1;
    /** Every statement up to here has been handled (sent, skipped or run). */
    let handled = -1;
    /** The last statement only lane 0 runs (schema and global statements). */
    let lastGlobal = -1;
    /** Which lane owns each table (`db\0table`), dealt out in dump order. */
    const owners = new Map<string, number>();
    let dealt = 0;
    let database: string | undefined;
    let table: string | undefined;

    const publish = (): void => {
      const d = inflight.length > 0 ? inflight[0]! - 1 : handled;
      if (d !== shared.done[k]) {
        shared.done[k] = d;
        notify(shared);
      }
    };
    /** Queues `st` on this lane's session; the lane's done index follows completions in order. */
    const send = (st: DumpStatement, at: number): Promise<void> => {
      inflight.push(at);
      const ctx = describe(st, database, table);
      return session.query(st.sql).then(
        () => {
          inflight.shift();
          publish();
        },
        (e: unknown) => {
          const cause = e instanceof Error ? e : new Error(String(e));
          fail(new PitrError('RESTORE_APPLY_FAILED', opts.describeFailure(ctx, cause), { cause }));
        },
      );
    };
    const queue: Promise<void>[] = [];
    const drainTo = async (max: number): Promise<void> => {
      while (queue.length > max) await queue.shift();
      if (shared.failed) throw shared.failure;
    };
    const ownerOf = (name: string | undefined): number => {
      const key = `${database ?? ''}\u0000${name ?? ''}`;
      let owner = owners.get(key);
      if (owner === undefined) {
        owner = dealt++ % n;
        owners.set(key, owner);
        if (k === 0) stats.tables++;
      }
      return owner;
    };
    /** Runs `st` on this lane after lane 0's global statements before it, pipelined. */
    const queueInOrder = async (st: DumpStatement): Promise<void> => {
      if (k !== 0) await waitUntil(shared, () => shared.done[0]! >= lastGlobal);
      await drainTo(QUEUE_PER_LANE - 1);
      queue.push(send(st, index));
    };

    const handle = async (st: DumpStatement): Promise<void> => {
      index++;
      if (shared.failed) throw shared.failure;
      const kind = st.kind;
      if (SKIPPED_KINDS.has(kind)) return;
      if (kind === 'use' || kind === 'create-database') database = st.database;
      if (TABLE_KINDS.has(kind)) {
        if (ownerOf(st.table) !== k) return;
        table = st.table;
        if (kind === 'insert') stats.inserts++;
        stats.statements++;
        await queueInOrder(st);
        return;
      }
      if (SESSION_KINDS.has(kind)) {
        if (k === 0) stats.statements++;
        await queueInOrder(st);
        return;
      }
      lastGlobal = index;
      if (k !== 0) return;
      stats.statements++;
      if (kind !== 'create-database') {
        await waitUntil(shared, () => shared.done.every((d, i) => i === 0 || d >= index - 1));
      }
      await drainTo(0);
      queue.push(send(st, index));
      await drainTo(0);
    };

    for await (const chunk of opts.sources[k]!) {
      if (shared.failed) throw shared.failure;
      for (const st of splitter.push(chunk)) {
        await handle(st);
        handled = index;
        publish();
      }
    }
    for (const st of splitter.end()) {
      await handle(st);
      handled = index;
      publish();
    }
    await drainTo(0);
    shared.done[k] = Number.MAX_SAFE_INTEGER;
    notify(shared);
  };

  try {
    const results = await Promise.allSettled(
      opts.sessions.map((_, k) =>
        lane(k).catch((e: unknown) => {
          fail(e);
          throw e;
        }),
      ),
    );
    if (shared.failed) throw shared.failure;
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    return stats;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
