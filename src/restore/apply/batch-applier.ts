import type { Connection } from 'mysql2/promise';
import { PitrError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import { enableMultiStatements } from '../../mysql/index.js';
import type { ApplyResult, BinlogApplier } from './binlog-applier.js';
import { BatchSqlSplitter } from './batch-sql-splitter.js';
import {
  BATCH_SEPARATOR,
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_TRANSACTIONS,
  PACKET_MARGIN,
  appendStatement,
  describeUnit,
  lostConnectionMessage,
  newBatch,
  runBatchSession,
  type ApplyUnit,
  type BatchOutcome,
} from './batch-session.js';
import { isBinlogStatement } from './binlog-statement-builder.js';
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

type Unit = ApplyUnit;

const where = describeUnit;

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
    const hooks = {
      signal,
      onProgress,
      failure: (o: BatchOutcome, lastApplied: Unit | undefined) =>
        this.failure(plan, o, lastApplied, program),
    };
    return runBatchSession(this.connect, plan, hooks, async (session) => {
      const conn = session.conn;
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

      for (const f of plan.files) {
        session.beginFile(f);
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
                  await session.flush(batch);
                  batch = newBatch(f.file, item.position);
                }
                unit = { gtid: item.gtid, file: f.file, position: item.position };
                if (item.gtid) {
                  batch.gtids += 1;
                  batch.lastGtid = item.gtid;
                }
                continue;
              }
              const size = item.sql.length + BATCH_SEPARATOR.length;
              if (batch.parts.length > 0 && batch.bytes + size > maxBytes) {
                // a transaction bigger than a packet: its statements go in several queries
                batch.endPosition = unit.position;
                await session.flush(batch);
                batch = newBatch(f.file, unit.position);
              }
              appendStatement(batch, item.sql, unit, isBinlogStatement(item.sql));
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
          await session.settle();
          const lastApplied = session.lastApplied;
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
        await session.endFile(f, batch);
      }
    });
  }

  /** The error for a failed batch: the failing transaction, what is applied, how to continue. */
  private failure(
    plan: RestorePlan,
    o: BatchOutcome,
    lastApplied: Unit | undefined,
    program: string,
  ): PitrError {
    const { batch, result, lost } = o;
    if (lost) {
      return new PitrError('RESTORE_APPLY_FAILED', lostConnectionMessage(batch, lost, lastApplied, plan), {
        cause: lost,
      });
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
