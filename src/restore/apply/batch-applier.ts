import type { Connection } from 'mysql2/promise';
import { PitrError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import { enableMultiStatements, rawQuery, type RawQueryResult } from '../../mysql/index.js';
import type { ApplyResult, BinlogApplier } from './binlog-applier.js';
import { BatchSqlSplitter } from './batch-sql-splitter.js';
import { startBinlogDecoder } from './binlog-decoder.js';
import type { PlanFile, RestorePlan } from '../plan/plan-restore.js';
import type { RestoreProgressListener } from '../restore-progress.js';
import type { RequiredProgram } from '../restore-preflight.js';

/** Options of BatchBinlogApplier. */
export interface BatchApplierOptions {
  /**
   * Keep the target's binary log on for the applying session, so the target logs the source's own
   * GTIDs (wanted when it becomes a primary). Default false: `SET SESSION sql_log_bin=0`.
   */
  binlog?: boolean;
  /** Send a batch once it holds this many bytes of SQL (default 1 MiB; capped by max_allowed_packet). */
  batchBytes?: number;
  /** ... or this many transactions (default 64). */
  batchTransactions?: number;
  /**
   * Largest query (default and cap: the target's max_allowed_packet less 1 KiB). A transaction
   * bigger than this goes in several queries, cut between statements.
   */
  maxQueryBytes?: number;
  /** The binlog decoder (default `mariadb-binlog`). */
  binlogProgram?: string;
  logger?: Logger;
}

/** The applying session's connection: opened per apply() call and closed at its end. */
export type ConnectTarget = () => Promise<Connection>;

/** A transaction (or the statements before the first one of a file): what errors are named after. */
interface Unit {
  gtid: string | undefined;
  file: string;
  /** `# at` position of its first event. */
  position: number;
}

interface Batch {
  parts: Buffer[];
  bytes: number;
  /** The unit of each statement, in order. */
  units: Unit[];
  /** Position applying reached once this batch is done (the start of what follows it). */
  endFile: string;
  endPosition: number;
  /** Indexes of the `BINLOG '...'` statements. */
  binlog: Set<number>;
  /** Transactions with a GTID whose first statement is in this batch. */
  gtids: number;
  lastGtid: string | undefined;
}

/** What the session reports when a batch is done. */
interface Outcome {
  batch: Batch;
  result: RawQueryResult | undefined;
  lost: Error | undefined;
}

/** Between two statements of a batch: a newline first, so a statement ending in a `#`/`--` comment stays closed. */
const SEPARATOR = Buffer.from('\n;\n');
/** Room left in max_allowed_packet for the COM_QUERY header. */
const PACKET_MARGIN = 1024;
const DEFAULT_BATCH_BYTES = 1024 * 1024;
const DEFAULT_BATCH_TRANSACTIONS = 64;

const newBatch = (file: string, position: number): Batch => ({
  parts: [],
  bytes: 0,
  units: [],
  binlog: new Set(),
  endFile: file,
  endPosition: position,
  gtids: 0,
  lastGtid: undefined,
});

const BINLOG_PREFIX = Buffer.from('BINLOG ');
const isBinlogStatement = (sql: Buffer): boolean =>
  sql.length > BINLOG_PREFIX.length && sql.subarray(0, BINLOG_PREFIX.length).equals(BINLOG_PREFIX);

const where = (u: Unit): string => `transaction ${u.gtid ?? '(no GTID)'} at ${u.file}:${u.position}`;

/**
 * Applies the binlog range through `mariadb-binlog` (one per file, as MariadbBinlogApplier) but
 * sends its SQL itself: statements are grouped by transaction and whole transactions go to the
 * server as one multi-statement COM_QUERY (up to `batchBytes` or `batchTransactions`), on one
 * session, in binlog order, instead of one round trip per statement. While the server runs a
 * batch the next one is decoded; it is sent only once the previous one succeeded, so an error
 * names the exact failing transaction: every transaction before it is applied, nothing after it
 * ran, and the failing one is rolled back (the session is closed with it open).
 *
 * A transaction larger than a batch goes in several COM_QUERYs of the same session (the
 * transaction stays open between them); memory stays at about two batches plus pipe buffers.
 */
export class BatchBinlogApplier implements BinlogApplier {
  private readonly logger: Logger;
  readonly programs: readonly RequiredProgram[];

  constructor(
    private readonly connect: ConnectTarget,
    private readonly options: BatchApplierOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.programs = [
      {
        program: options.binlogProgram ?? 'mariadb-binlog',
        flag: '--binlog-program',
        purpose: 'decodes the binlogs',
      },
    ];
  }

  async apply(
    plan: RestorePlan,
    bytes: (file: PlanFile) => AsyncIterable<Buffer>,
    signal?: AbortSignal,
    onProgress?: RestoreProgressListener,
  ): Promise<ApplyResult> {
    const program = this.options.binlogProgram ?? 'mariadb-binlog';
    const rangeOf = (f: PlanFile): number => Math.max(0, (f.to ?? f.segments.at(-1)?.end ?? f.from) - f.from);
    const total = plan.files.reduce((a, f) => a + rangeOf(f), 0);
    let transactions = 0;
    let lastGtid: string | undefined;
    let lastApplied: Unit | undefined;
    let doneBefore = 0; // bytes of the files finished
    let current: PlanFile | undefined;

    const conn = await this.connect();
    let inflight: Promise<Outcome> | undefined;
    try {
      await enableMultiStatements(conn);
      if (!this.options.binlog) await conn.query('SET SESSION sql_log_bin = 0');
      const [rows] = await conn.query('SELECT @@max_allowed_packet AS m');
      const maxPacket = Number((rows as { m: number | string }[])[0]!.m);
      const maxBytes = Math.min(
        this.options.maxQueryBytes ?? Infinity,
        Math.max(64 * 1024, maxPacket - PACKET_MARGIN),
      );
      const batchBytes = Math.min(this.options.batchBytes ?? DEFAULT_BATCH_BYTES, maxBytes);
      const batchTrx = this.options.batchTransactions ?? DEFAULT_BATCH_TRANSACTIONS;

      const send = (batch: Batch): Promise<Outcome> =>
        rawQuery(conn, Buffer.concat(batch.parts), {
          // MariaDB omits SERVER_MORE_RESULTS_EXISTS after a BINLOG statement (see rawQuery)
          moreExpected: (completed) => completed < batch.units.length && batch.binlog.has(completed - 1),
        }).then(
          (result) => ({ batch, result, lost: undefined }),
          (err: Error) => ({ batch, result: undefined, lost: err }),
        );

      /** Waits for the batch on the wire; throws RESTORE_APPLY_FAILED when it failed. */
      const settle = async (): Promise<void> => {
        if (!inflight) return;
        const o = await inflight;
        inflight = undefined;
        const { batch, result } = o;
        if (o.lost || result!.error) {
          throw this.failure(plan, o, lastApplied, program);
        }
        transactions += batch.gtids;
        if (batch.lastGtid) lastGtid = batch.lastGtid;
        lastApplied = batch.units.findLast((u) => u.gtid !== undefined) ?? lastApplied;
        if (current && onProgress && batch.endFile === current.file) {
          onProgress({
            phase: 'apply',
            done: doneBefore + Math.min(rangeOf(current), Math.max(0, batch.endPosition - current.from)),
            total,
            transactions,
          });
        }
      };

      /** Sends `batch` once the previous one succeeded; returns without waiting for this one. */
      const flush = async (batch: Batch): Promise<void> => {
        await settle();
        signal?.throwIfAborted();
        if (batch.parts.length > 0) inflight = send(batch);
      };

      for (const f of plan.files) {
        signal?.throwIfAborted();
        current = f;
        this.logger.info('applying binlog', { file: f.file, from: f.from, to: f.to ?? 'end', batched: true });
        const dec = startBinlogDecoder(program, f, bytes(f));

        const splitter = new BatchSqlSplitter();
        let unit: Unit = { gtid: undefined, file: f.file, position: f.from };
        let batch = newBatch(f.file, f.from);
        try {
          for await (const chunk of dec.stdout) {
            for (const item of splitter.push(chunk as Buffer)) {
              if (item.kind === 'position') continue;
              if (item.kind === 'transaction') {
                // a transaction boundary: send what is gathered once it is big enough
                batch.endPosition = item.position;
                if (batch.bytes >= batchBytes || batch.gtids >= batchTrx) {
                  await flush(batch);
                  batch = newBatch(f.file, item.position);
                }
                unit = { gtid: item.gtid, file: f.file, position: item.position };
                if (item.gtid) {
                  batch.gtids += 1;
                  batch.lastGtid = item.gtid;
                }
                continue;
              }
              const size = item.sql.length + SEPARATOR.length;
              if (batch.parts.length > 0 && batch.bytes + size > maxBytes) {
                // a transaction bigger than a packet: its statements go in several queries
                batch.endPosition = unit.position;
                await flush(batch);
                batch = newBatch(f.file, unit.position);
              }
              if (batch.parts.length > 0) batch.parts.push(SEPARATOR);
              if (isBinlogStatement(item.sql)) batch.binlog.add(batch.units.length);
              batch.parts.push(item.sql);
              batch.bytes += size;
              batch.units.push(unit);
            }
          }
        } catch (err) {
          dec.process.kill('SIGKILL');
          await dec.exit;
          throw err;
        }
        const [code] = await dec.exit;
        await dec.feed; // a storage or checksum error is the real cause: report it first
        const decText = dec.stderrText();
        const unfinished = splitter.end();
        if (code !== 0 || unfinished !== undefined) {
          await settle();
          throw new PitrError(
            'RESTORE_APPLY_FAILED',
            `${program} failed on ${f.file} (exit ${code})${decText ? `: ${decText}` : ''}` +
              `${unfinished !== undefined ? `; its output ended inside a statement: ${unfinished}` : ''}. ` +
              `The target holds the transactions before ${f.file}:${f.from}` +
              `${lastApplied ? ` and up to ${where(lastApplied)}` : ''}; fix the cause and continue with ` +
              `\`mysql-pitr restore apply --from ${f.file}:${f.from} ${plan.targetText}\` or restore again`,
          );
        }
        if (decText && !/^WARNING/m.test(decText))
          this.logger.warn(program, { file: f.file, stderr: decText });
        batch.endPosition = f.to ?? f.segments.at(-1)?.end ?? batch.endPosition;
        await flush(batch);
        await settle();
        doneBefore += rangeOf(f);
        onProgress?.({ phase: 'apply', done: doneBefore, total, transactions });
      }
      await settle();
    } catch (err) {
      // the session may hold an open transaction of a failed batch: closing it rolls it back
      if (inflight) await inflight;
      conn.destroy();
      throw err;
    }
    await conn.end().catch(() => conn.destroy());
    return { transactions, lastGtid };
  }

  /** The error for a failed batch: the failing transaction, what is applied, how to continue. */
  private failure(plan: RestorePlan, o: Outcome, lastApplied: Unit | undefined, program: string): PitrError {
    const { batch, result, lost } = o;
    if (lost) {
      const first = batch.units[0]!;
      return new PitrError(
        'RESTORE_APPLY_FAILED',
        `lost the connection to the target while applying ${batch.units.length} statement(s) from ${where(first)} ` +
          `(${lost.message}). Transactions before it are applied${lastApplied ? ` (the last one: ${where(lastApplied)})` : ''}; ` +
          `the ones of this batch may or may not be: check the target's @@gtid_binlog_pos (or the tables), then ` +
          `continue from the first transaction missing with \`mysql-pitr restore apply --from FILE:POS ${plan.targetText}\``,
        { cause: lost },
      );
    }
    const e = result!.error!;
    const failed = batch.units[Math.min(result!.statements, batch.units.length - 1)]!;
    // the last transaction fully applied: the one before the failing statement's, if any
    // (a transaction split over several queries: the previous query held its first statements)
    let prev = lastApplied === failed ? undefined : lastApplied;
    for (let i = result!.statements - 1; i >= 0; i--) {
      if (batch.units[i] !== failed && batch.units[i]!.gtid !== undefined) {
        prev = batch.units[i];
        break;
      }
    }
    const rest = plan.files.slice(plan.files.findIndex((f) => f.file === failed.file));
    const stop = rest.at(-1)?.to;
    return new PitrError(
      'RESTORE_APPLY_FAILED',
      `applying the binlogs failed at ${where(failed)}: server error ${e.errno}${e.sqlState ? ` (${e.sqlState})` : ''}: ` +
        `${e.sqlMessage}. Transactions before it are applied${prev ? ` (the last one: ${where(prev)})` : ''}; ` +
        'it was rolled back and nothing after it ran. Fix the cause, then continue from this transaction with ' +
        `\`mysql-pitr restore apply --from ${failed.file}:${failed.position} ${plan.targetText}\` (same --repo and ` +
        `--target), or pipe \`${program} --start-position=${failed.position}${stop !== undefined ? ` --stop-position=${stop}` : ''} ` +
        `${rest.map((f) => f.file).join(' ')}\` into the target, or restore again into an empty server`,
    );
  }
}
