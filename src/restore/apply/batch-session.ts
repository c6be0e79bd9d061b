import type { Connection } from 'mysql2/promise';
import { rawQuery, type RawQueryResult } from '../../mysql/index.js';
import type { ApplyResult } from './binlog-applier.js';
import type { PlanFile, RestorePlan } from '../plan/plan-restore.js';
import type { RestoreProgressListener } from '../restore-progress.js';

/** A transaction (or the statements before the first one of a file): what errors are named after. */
export interface ApplyUnit {
  gtid: string | undefined;
  file: string;
  /** Position of its first event. */
  position: number;
}

/** Statements sent to the target as one multi-statement COM_QUERY. */
export interface SqlBatch {
  parts: Buffer[];
  bytes: number;
  /** The unit of each statement, in order. */
  units: ApplyUnit[];
  /** Indexes of the `BINLOG '...'` statements. */
  binlog: Set<number>;
  /** Position applying reached once this batch is done (the start of what follows it). */
  endFile: string;
  endPosition: number;
  /** Transactions with a GTID whose first statement is in this batch. */
  gtids: number;
  lastGtid: string | undefined;
}

/** What the session reports when a batch is done. */
export interface BatchOutcome {
  batch: SqlBatch;
  result: RawQueryResult | undefined;
  lost: Error | undefined;
}

/** Between two statements of a batch: a newline first, so a statement ending in a `#`/`--` comment stays closed. */
export const BATCH_SEPARATOR = Buffer.from('\n;\n');
/** Room left in max_allowed_packet for the COM_QUERY header. */
export const PACKET_MARGIN = 1024;
/** Default batch size in bytes of SQL. */
export const DEFAULT_BATCH_BYTES = 1024 * 1024;
/** Default batch size in transactions. */
export const DEFAULT_BATCH_TRANSACTIONS = 64;

/** An empty batch starting at `file`:`position`. */
export const newBatch = (file: string, position: number): SqlBatch => ({
  parts: [],
  bytes: 0,
  units: [],
  binlog: new Set(),
  endFile: file,
  endPosition: position,
  gtids: 0,
  lastGtid: undefined,
});

/** Adds one statement of `unit` to `batch` (separator, size, BINLOG index). */
export function appendStatement(batch: SqlBatch, sql: Buffer, unit: ApplyUnit, binlog: boolean): void {
  if (batch.parts.length > 0) batch.parts.push(BATCH_SEPARATOR);
  if (binlog) batch.binlog.add(batch.units.length);
  batch.parts.push(sql);
  batch.bytes += sql.length + BATCH_SEPARATOR.length;
  batch.units.push(unit);
}

/** How errors name a unit. */
export const describeUnit = (u: ApplyUnit): string =>
  `transaction ${u.gtid ?? '(no GTID)'} at ${u.file}:${u.position}`;

/** What a lost connection means for the batch on the wire, and how to continue (both appliers say it). */
export function lostConnectionMessage(
  batch: SqlBatch,
  lost: Error,
  lastApplied: ApplyUnit | undefined,
  plan: RestorePlan,
): string {
  const where = describeUnit;
  return (
    `lost the connection to the target while applying ${batch.units.length} statement(s) from ${where(batch.units[0]!)} ` +
    `(${lost.message}). Transactions before it are applied${lastApplied ? ` (the last one: ${where(lastApplied)})` : ''}; ` +
    `the ones of this batch may or may not be: check the target's @@gtid_binlog_pos (or the tables), then ` +
    `continue from the first transaction missing with \`mysql-pitr restore apply --from FILE:POS ${plan.targetText}\``
  );
}

/** Bytes of binlog a planned file covers (what apply progress counts). */
export const planFileRange = (f: PlanFile): number =>
  Math.max(0, (f.to ?? f.segments.at(-1)?.end ?? f.from) - f.from);

/** What an applier tells runBatchSession. */
export interface BatchSessionHooks {
  signal?: AbortSignal | undefined;
  onProgress?: RestoreProgressListener | undefined;
  /** The error for a failed batch (a server error or a lost connection). */
  failure: (o: BatchOutcome, lastApplied: ApplyUnit | undefined) => Error;
  /** The last unit a done batch applied in full (default: its last unit with a GTID). */
  lastAppliedOf?: (batch: SqlBatch) => ApplyUnit | undefined;
}

/**
 * One applying session: batches are sent in order, each only once the previous one succeeded
 * (so an error names the exact failing transaction), while the caller builds the next one.
 */
export class BatchSession {
  transactions = 0;
  lastGtid: string | undefined;
  /** The last unit known applied. */
  lastApplied: ApplyUnit | undefined;
  private inflight: Promise<BatchOutcome> | undefined;
  private doneBefore = 0; // bytes of the files finished
  private current: PlanFile | undefined;
  private readonly total: number;

  constructor(
    readonly conn: Connection,
    plan: RestorePlan,
    private readonly hooks: BatchSessionHooks,
  ) {
    this.total = plan.files.reduce((a, f) => a + planFileRange(f), 0);
  }

  /** Starts applying `f` (checks the signal; progress counts from it). */
  beginFile(f: PlanFile): void {
    this.hooks.signal?.throwIfAborted();
    this.current = f;
  }

  private send(batch: SqlBatch): Promise<BatchOutcome> {
    return rawQuery(this.conn, Buffer.concat(batch.parts), {
      // MariaDB omits SERVER_MORE_RESULTS_EXISTS after a BINLOG statement (see rawQuery)
      moreExpected: (completed) => completed < batch.units.length && batch.binlog.has(completed - 1),
    }).then(
      (result) => ({ batch, result, lost: undefined }),
      (err: Error) => ({ batch, result: undefined, lost: err }),
    );
  }

  /** Waits for the batch on the wire; throws the hooks' failure when it failed. */
  async settle(): Promise<void> {
    if (!this.inflight) return;
    const o = await this.inflight;
    this.inflight = undefined;
    const { batch, result } = o;
    if (o.lost || result!.error) throw this.hooks.failure(o, this.lastApplied);
    this.transactions += batch.gtids;
    if (batch.lastGtid) this.lastGtid = batch.lastGtid;
    const applied = this.hooks.lastAppliedOf
      ? this.hooks.lastAppliedOf(batch)
      : batch.units.findLast((u) => u.gtid !== undefined);
    this.lastApplied = applied ?? this.lastApplied;
    const current = this.current;
    if (current && this.hooks.onProgress && batch.endFile === current.file) {
      this.hooks.onProgress({
        phase: 'apply',
        done:
          this.doneBefore + Math.min(planFileRange(current), Math.max(0, batch.endPosition - current.from)),
        total: this.total,
        transactions: this.transactions,
      });
    }
  }

  /** Sends `batch` once the previous one succeeded; returns without waiting for this one. */
  async flush(batch: SqlBatch): Promise<void> {
    await this.settle();
    this.hooks.signal?.throwIfAborted();
    if (batch.parts.length > 0) this.inflight = this.send(batch);
  }

  /** Sends the file's last batch (ending at the file's range end), waits for it, reports progress. */
  async endFile(f: PlanFile, batch: SqlBatch): Promise<void> {
    batch.endPosition = f.to ?? f.segments.at(-1)?.end ?? batch.endPosition;
    await this.flush(batch);
    await this.settle();
    this.doneBefore += planFileRange(f);
    this.hooks.onProgress?.({
      phase: 'apply',
      done: this.doneBefore,
      total: this.total,
      transactions: this.transactions,
    });
  }

  /** After a failure: waits for the batch on the wire (its outcome is not wanted). */
  async drop(): Promise<void> {
    if (this.inflight) await this.inflight;
  }
}

/**
 * Opens the applying session, runs `body` on it, waits for the last batch and closes the session.
 * On an error the connection is destroyed, which rolls back a transaction a failed batch left open.
 */
export async function runBatchSession(
  connect: () => Promise<Connection>,
  plan: RestorePlan,
  hooks: BatchSessionHooks,
  body: (session: BatchSession) => Promise<void>,
): Promise<ApplyResult> {
  const conn = await connect();
  const session = new BatchSession(conn, plan, hooks);
  try {
    await body(session);
    await session.settle();
  } catch (err) {
    // the session may hold an open transaction of a failed batch: closing it rolls it back
    await session.drop();
    conn.destroy();
    throw err;
  }
  await conn.end().catch(() => conn.destroy());
  return { transactions: session.transactions, lastGtid: session.lastGtid };
}
