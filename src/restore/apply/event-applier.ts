import type { Connection } from 'mysql2/promise';
import {
  BinlogEventParser,
  EventType,
  MariadbGtidFlags,
  type BinlogEvent,
  type FormatDescription,
} from '../../binlog/index.js';
import { formatMariadbGtid, formatMysqlGtid } from '../../gtid/index.js';
import { silentLogger, type Logger } from '../../log/index.js';
import { enableMultiStatements } from '../../mysql/index.js';
import type { ApplyResult, BinlogApplier } from './binlog-applier.js';
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
  type SqlBatch,
} from './batch-session.js';
import { binlogStatement, isBinlogStatement, rowGroupStatements } from './binlog-statement-builder.js';
import { EventApplyError, type EventApplyFailure } from './event-apply-error.js';
import type { EventFilter } from './event-filter.js';
import type { PlanFile, RestorePlan } from '../plan/plan-restore.js';
import type { RestoreProgressListener } from '../restore-progress.js';
import { SessionContext, type TargetCollation } from './session-context.js';

/** Options of EventBinlogApplier. */
export interface EventApplierOptions {
  /**
   * Keep the target's binary log on for the applying session (it logs the source's transactions,
   * with their GTIDs unless `gtids` is false). Default false: `SET SESSION sql_log_bin=0`.
   */
  binlog?: boolean;
  /**
   * Set each transaction's GTID on the session (MariaDB: gtid_domain_id, server_id, gtid_seq_no),
   * as mariadb-binlog prints them. Default true. False for a side schema restored onto a live
   * server in gtid_strict_mode, where an older gtid_seq_no fails with error 1950.
   */
  gtids?: boolean;
  /** Send a batch once it holds this many bytes of SQL (default 1 MiB; capped by max_allowed_packet). */
  batchBytes?: number;
  /** ... or this many transactions (default 64). */
  batchTransactions?: number;
  /**
   * Largest batch (default and cap: the target's max_allowed_packet less 1 KiB); a statement longer
   * than this goes alone. Statements and BINLOG fragments are sized by max_allowed_packet itself.
   */
  maxQueryBytes?: number;
  /** Which events apply and under which schema (a table-level restore); default: all of them. */
  filter?: EventFilter;
  logger?: Logger;
}

/** The applying session's connection: opened per apply() call and closed at its end. */
export type ConnectEventTarget = () => Promise<Connection>;

type Unit = ApplyUnit;

/** Offset of the flags in the common header. */
const OFFSET_FLAGS = 17;
/** Header flag: the statement needs no default database (CREATE/DROP DATABASE name theirs in it). */
const LOG_EVENT_SUPPRESS_USE_F = 0x0008;
/** Rows events flag: the last rows event of a statement (the tables may be closed after it). */
const STMT_END_F = 0x0001;
/** TABLE_MAP / rows events post-header length of servers with 4-byte table ids (MySQL < 5.1.4). */
const OLD_TABLE_ID_HEADER = 6;

const ROWS_EVENTS: ReadonlySet<number> = new Set([
  EventType.PRE_GA_WRITE_ROWS,
  EventType.PRE_GA_UPDATE_ROWS,
  EventType.PRE_GA_DELETE_ROWS,
  EventType.WRITE_ROWS_V1,
  EventType.UPDATE_ROWS_V1,
  EventType.DELETE_ROWS_V1,
  EventType.WRITE_ROWS_V2,
  EventType.UPDATE_ROWS_V2,
  EventType.DELETE_ROWS_V2,
  EventType.PARTIAL_UPDATE_ROWS,
  EventType.MARIADB_WRITE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_UPDATE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_DELETE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_WRITE_ROWS_COMPRESSED,
  EventType.MARIADB_UPDATE_ROWS_COMPRESSED,
  EventType.MARIADB_DELETE_ROWS_COMPRESSED,
]);

/** Events that change nothing on a target: file bookkeeping, informational, heartbeats. */
const SKIPPED_EVENTS: ReadonlySet<number> = new Set([
  EventType.ROTATE,
  EventType.STOP,
  EventType.HEARTBEAT,
  EventType.HEARTBEAT_V2,
  EventType.IGNORABLE,
  EventType.ROWS_QUERY,
  EventType.ANNOTATE_ROWS,
  EventType.PREVIOUS_GTIDS,
  EventType.MARIADB_GTID_LIST,
  EventType.BINLOG_CHECKPOINT,
  EventType.TRANSACTION_CONTEXT,
  EventType.VIEW_CHANGE,
]);

/** LOAD DATA events: the file's data travels in them; applied with `--applier client`. */
const LOAD_EVENTS: ReadonlySet<number> = new Set([
  EventType.LOAD,
  EventType.CREATE_FILE,
  EventType.APPEND_BLOCK,
  EventType.EXEC_LOAD,
  EventType.DELETE_FILE,
  EventType.NEW_LOAD,
  EventType.BEGIN_LOAD_QUERY,
  EventType.EXECUTE_LOAD_QUERY,
]);

const where = describeUnit;
const xaId = (gtrid: string, bqual: string, formatId: number): string =>
  `X'${gtrid}',X'${bqual}',${formatId}`;

/**
 * Applies the binlog range from the archive's events themselves, as a replica's SQL thread does,
 * with no `mariadb-binlog` in between (nothing is re-parsed from text):
 * - a QUERY event's statement goes as its exact bytes, after the session context it carries
 *   (default database, sql_mode, character sets, time zone, auto-increment, lc_time_names, option
 *   flags, timestamp, pseudo thread id) and the INTVAR, RAND and USER_VAR events before it; only
 *   values that change are sent (SessionContext);
 * - row events go as `BINLOG '<base64>'` statements built from the raw FORMAT_DESCRIPTION,
 *   TABLE_MAP and rows events (BINLOG fragments for an event larger than a packet);
 * - each MariaDB transaction's GTID is set on the session unless `gtids` is false.
 *
 * Whole transactions go to the server as one multi-statement COM_QUERY (up to `batchBytes` or
 * `batchTransactions`), on one session, in binlog order. While the server runs a batch the next
 * one is built; it is sent only once the previous one succeeded, so an error names the exact
 * failing transaction: every transaction before it is applied, nothing after it ran, and the
 * failing one is rolled back (the session is closed with it open). A transaction larger than a
 * packet goes in several COM_QUERYs of the same session.
 *
 * An `EventFilter` decides which TABLE_MAP and QUERY events apply and can rewrite them (a
 * table-level restore into another schema).
 */
export class EventBinlogApplier implements BinlogApplier {
  private readonly logger: Logger;

  constructor(
    private readonly connect: ConnectEventTarget,
    private readonly options: EventApplierOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * @throws EventApplyError (RESTORE_APPLY_FAILED) naming the failing transaction and the command
   *   that continues; CorruptDataError / ChecksumMismatchError / StorageError from reading the archive
   */
  async apply(
    plan: RestorePlan,
    bytes: (file: PlanFile) => AsyncIterable<Buffer>,
    signal?: AbortSignal,
    onProgress?: RestoreProgressListener,
  ): Promise<ApplyResult> {
    const filter = this.options.filter;
    const setGtids = this.options.gtids !== false;
    const hooks = {
      signal,
      onProgress,
      failure: (o: BatchOutcome, lastApplied: Unit | undefined) => this.failure(plan, o, lastApplied),
      lastAppliedOf: (batch: SqlBatch) =>
        batch.units.findLast((u) => u.gtid !== undefined) ?? batch.units.at(-1),
    };
    return runBatchSession(this.connect, plan, hooks, async (bs) => {
      const target = await this.prepareSession(bs.conn);
      /** The largest statement the target takes; a longer one fails or goes in BINLOG fragments. */
      const packetLimit = Math.max(64 * 1024, target.maxPacket - PACKET_MARGIN);
      /** Batches stop here; a statement longer than this (up to packetLimit) goes alone. */
      const maxBytes = Math.min(this.options.maxQueryBytes ?? Infinity, packetLimit);
      const batchBytes = Math.min(this.options.batchBytes ?? DEFAULT_BATCH_BYTES, maxBytes);
      const batchTrx = this.options.batchTransactions ?? DEFAULT_BATCH_TRANSACTIONS;
      let session: SessionContext | undefined;
      let sessionKey = '';
      /** The GTID domain and server id the session holds. */
      let gtidSession: { domainId: number; serverId: number } | undefined;

      for (const f of plan.files) {
        bs.beginFile(f);
        this.logger.info('applying binlog', {
          file: f.file,
          from: f.from,
          to: f.to ?? 'end',
          applier: 'events',
        });
        const parser = new BinlogEventParser({ object: `${plan.timeline}/${f.file}` });
        let fde: { raw: Buffer; desc: FormatDescription } | undefined;
        let fdeSent = false;
        let unit: Unit = { gtid: undefined, file: f.file, position: f.from };
        let inTrx = false;
        /** How the open unit began: a GTID event, BEGIN, or a statement outside both (old binlogs). */
        let unitKind: 'gtid' | 'begin' | 'loose' = 'loose';
        let lastWasGtid = false;
        let batch = newBatch(f.file, f.from);
        let maps: Buffer[] = [];
        let rows: Buffer[] = [];
        let rowBytes = 0;
        const dropped = new Set<number>();
        /** Batches that filled up mid-transaction, sent at the next await point in order. */
        const full: SqlBatch[] = [];

        const push = (sql: Buffer, binlog = false): void => {
          const size = sql.length + BATCH_SEPARATOR.length;
          if (sql.length > packetLimit) {
            throw this.stop(
              'too-big',
              unit,
              plan,
              `a statement of ${sql.length} bytes is larger than the target's max_allowed_packet allows ` +
                `(${packetLimit + PACKET_MARGIN}); raise it on the target to at least ` +
                `${Math.ceil((sql.length + 2 * PACKET_MARGIN) / 1024) * 1024} (SET GLOBAL max_allowed_packet=...)`,
            );
          }
          if (batch.parts.length > 0 && batch.bytes + size > maxBytes) {
            batch.endPosition = unit.position;
            full.push(batch);
            batch = newBatch(f.file, unit.position);
          }
          appendStatement(batch, sql, unit, binlog);
        };
        const sendFull = async (): Promise<void> => {
          while (full.length > 0) await bs.flush(full.shift()!);
        };
        /**
         * After an error that is no SQL error: sends every statement not yet sent that belongs to
         * a transaction before `failing`, so that "the transactions before it are applied" holds.
         */
        const drainBefore = async (failing: Unit): Promise<void> => {
          const all = [...full.splice(0), batch];
          batch = newBatch(f.file, failing.position);
          let out = newBatch(f.file, failing.position);
          for (const b of all) {
            for (let i = 0, n = 0; i < b.parts.length; i++) {
              const p = b.parts[i]!;
              if (p === BATCH_SEPARATOR) continue;
              const u = b.units[n]!;
              const isBinlog = b.binlog.has(n);
              n++;
              if (u === failing) continue;
              if (out.parts.length > 0 && out.bytes + p.length + BATCH_SEPARATOR.length > maxBytes) {
                await bs.flush(out);
                out = newBatch(f.file, failing.position);
              }
              appendStatement(out, p, u, isBinlog);
            }
          }
          await bs.flush(out);
          await bs.settle();
        };

        const ctx = (): SessionContext => {
          if (!fde)
            throw this.stop('unsupported-event', unit, plan, 'no FORMAT_DESCRIPTION event before the range');
          const key = `${fde.desc.flavor}/${fde.desc.versionSplit.join('.')}`;
          if (!session || key !== sessionKey) {
            // a new source version: its flags2 bits differ, so the context starts again
            session = new SessionContext({
              flavor: fde.desc.flavor,
              version: fde.desc.versionSplit,
              collations: target.collations,
            });
            sessionKey = key;
          }
          return session;
        };

        /** Sends the row group gathered; `partial` keeps its table maps for the rows events to come. */
        const flushRows = (partial = false): void => {
          if (rows.length > 0) {
            for (const s of ctx().takePending()) push(Buffer.from(s));
            let parts: Buffer[];
            try {
              parts = rowGroupStatements(maps, rows, packetLimit);
            } catch (err) {
              throw this.stop('too-big', unit, plan, (err as Error).message, err);
            }
            for (const s of parts) push(s, isBinlogStatement(s));
          }
          rows = [];
          rowBytes = 0;
          if (partial) return;
          maps = [];
          dropped.clear();
        };

        const startUnit = async (
          position: number,
          gtid: string | undefined,
          kind: 'gtid' | 'begin' | 'loose',
        ): Promise<void> => {
          flushRows();
          await sendFull();
          unitKind = kind;
          batch.endPosition = position;
          if (batch.bytes >= batchBytes || batch.gtids >= batchTrx) {
            await bs.flush(batch);
            batch = newBatch(f.file, position);
          }
          unit = { gtid, file: f.file, position };
          inTrx = true;
          if (!fdeSent && fde) {
            // once per file, between transactions: a FORMAT_DESCRIPTION of a server's first binlog
            // (created at startup) rolls back a transaction open on the session it runs in
            push(binlogStatement([fde.raw]), true);
            fdeSent = true;
          }
          if (gtid !== undefined) {
            batch.gtids += 1;
            batch.lastGtid = gtid;
          }
        };
        const endUnit = (): void => {
          inTrx = false;
        };

        const handle = async (e: BinlogEvent): Promise<void> => {
          const t = e.typeCode;
          const afterGtid = lastWasGtid;
          lastWasGtid =
            t === EventType.MARIADB_GTID ||
            t === EventType.GTID ||
            t === EventType.ANONYMOUS_GTID ||
            t === EventType.GTID_TAGGED;
          if (t === EventType.MARIADB_GTID) {
            const d = e.data;
            if (d?.kind !== 'mariadb-gtid') return;
            await startUnit(e.offset, formatMariadbGtid(d.gtid), 'gtid');
            if (setGtids) {
              // domain and server id only when they change; the sequence number each time
              const same =
                gtidSession?.domainId === d.gtid.domainId && gtidSession.serverId === d.gtid.serverId;
              gtidSession = { domainId: d.gtid.domainId, serverId: d.gtid.serverId };
              push(
                Buffer.from(
                  same
                    ? `SET @@session.gtid_seq_no=${d.gtid.seqNo}`
                    : `SET @@session.gtid_domain_id=${d.gtid.domainId}, @@session.server_id=${d.gtid.serverId}, ` +
                        `@@session.gtid_seq_no=${d.gtid.seqNo}`,
                ),
              );
            }
            // MariaDB's GTID event stands for the BEGIN of a group that is not standalone (DDL)
            if (d.flags & MariadbGtidFlags.PREPARED_XA && d.xid !== undefined) {
              const [gtrid, bqual, formatId] = d.xid.split(',');
              push(Buffer.from(`XA START ${xaId(gtrid!, bqual!, Number(formatId))}`));
            } else if (!(d.flags & MariadbGtidFlags.STANDALONE)) {
              push(Buffer.from('START TRANSACTION'));
            }
            return;
          }
          if (t === EventType.GTID || t === EventType.ANONYMOUS_GTID || t === EventType.GTID_TAGGED) {
            const d = e.data;
            if (d?.kind !== 'mysql-gtid') return;
            await startUnit(e.offset, d.hasGtid ? formatMysqlGtid(d) : undefined, 'gtid');
            return;
          }
          if (t === EventType.QUERY) {
            const q = e.data;
            if (q?.kind !== 'query') return;
            const control = q.statementKind !== 'statement' && q.statementKind !== 'ddl-transaction';
            if (q.statementKind === 'begin' || q.statementKind === 'xa-start') {
              if (!(inTrx && afterGtid)) await startUnit(e.offset, undefined, 'begin');
            } else if (!inTrx) await startUnit(e.offset, undefined, 'loose');
            flushRows();
            const decision = control || !filter ? { apply: true as const } : filter.query(e, q);
            if (decision.apply) {
              const schema =
                e.raw.readUInt16LE(OFFSET_FLAGS) & LOG_EVENT_SUPPRESS_USE_F
                  ? null
                  : (decision.schema ?? q.schema);
              for (const s of ctx().forQuery(q, e.timestamp, schema)) push(Buffer.from(s));
              push(Buffer.from(decision.statement ?? q.statementBytes));
            }
            if (
              q.statementKind === 'commit' ||
              q.statementKind === 'rollback' ||
              q.statementKind === 'xa-prepare' ||
              (q.statementKind === 'statement' && unitKind === 'loose')
            ) {
              endUnit();
            }
            return;
          }
          if (t === EventType.INTVAR || t === EventType.RAND || t === EventType.USER_VAR) {
            if (!inTrx) await startUnit(e.offset, undefined, 'loose');
            const d = e.data;
            const c = ctx();
            if (d?.kind === 'intvar') c.intvar(d);
            else if (d?.kind === 'rand') c.rand(d);
            else if (d?.kind === 'user-var') c.userVar(d);
            return;
          }
          if (t === EventType.TABLE_MAP) {
            const m = e.data;
            if (m?.kind !== 'table-map') return;
            if (!inTrx) await startUnit(e.offset, undefined, 'loose');
            if (rows.length > 0) flushRows(); // a new statement's maps
            const raw = filter ? filter.tableMap(e, m) : e.raw;
            if (raw === undefined) dropped.add(m.tableId);
            else maps.push(Buffer.from(raw));
            return;
          }
          if (ROWS_EVENTS.has(t)) {
            const idLength = postHeader(e) === OLD_TABLE_ID_HEADER ? 4 : 6;
            const tableId = e.raw.readUIntLE(e.bodyStart, idLength);
            const flags = e.raw.readUInt16LE(e.bodyStart + idLength);
            if (!dropped.has(tableId)) {
              rows.push(Buffer.from(e.raw));
              rowBytes += e.raw.length;
            }
            if (flags & STMT_END_F) flushRows();
            // a statement of many rows events goes in parts: memory stays at about a batch
            else if (rowBytes >= batchBytes) flushRows(true);
            return;
          }
          if (t === EventType.XID) {
            flushRows();
            push(Buffer.from('COMMIT'));
            endUnit();
            return;
          }
          if (t === EventType.XA_PREPARE) {
            const d = e.data;
            if (d?.kind !== 'xa-prepare') return;
            flushRows();
            push(
              Buffer.from(
                d.onePhase
                  ? `XA COMMIT ${xaId(d.gtrid, d.bqual, d.formatId)} ONE PHASE`
                  : `XA PREPARE ${xaId(d.gtrid, d.bqual, d.formatId)}`,
              ),
            );
            endUnit();
            return;
          }
          if (SKIPPED_EVENTS.has(t)) return;
          if (!inTrx) await startUnit(e.offset, undefined, 'loose');
          throw this.stop('unsupported-event', unit, plan, unsupportedReason(e));
        };

        try {
          let stopped = false;
          for await (const chunk of bytes(f)) {
            for (const e of parser.push(chunk)) {
              if (e.typeCode === EventType.FORMAT_DESCRIPTION) {
                const d = e.data;
                if (d?.kind === 'format-description') {
                  fde = { raw: Buffer.from(e.raw), desc: d };
                  fdeSent = false;
                }
                continue;
              }
              if (e.offset < f.from) continue;
              if (f.to !== undefined && e.offset >= f.to) {
                stopped = true;
                break;
              }
              await handle(e);
              await sendFull();
            }
            if (stopped) break;
            signal?.throwIfAborted();
          }
          if (!stopped) parser.end();
          flushRows();
          await sendFull();
        } catch (err) {
          if (
            err instanceof EventApplyError &&
            err.failure !== 'sql-error' &&
            err.failure !== 'connection-lost'
          ) {
            await drainBefore(unit);
          }
          throw err;
        }
        await sendFull();
        await bs.endFile(f, batch);
      }
    });
  }

  /** Multi-statements, sql_log_bin, pseudo_slave_mode; reads max_allowed_packet and the collations. */
  private async prepareSession(
    conn: Connection,
  ): Promise<{ maxPacket: number; collations: Map<number, TargetCollation> }> {
    await enableMultiStatements(conn);
    if (!this.options.binlog) await conn.query('SET SESSION sql_log_bin = 0');
    const [vrows] = await conn.query('SELECT @@max_allowed_packet AS m, @@version AS v');
    const v = (vrows as { m: number | string; v: string }[])[0]!;
    // as mariadb-binlog's output does: temporary tables and XA behave as on a replica
    await conn.query(
      /mariadb/i.test(v.v) ? 'SET SESSION pseudo_slave_mode = 1' : 'SET SESSION pseudo_replica_mode = 1',
    );
    const [crows] = await conn.query(
      'SELECT ID AS id, COLLATION_NAME AS name, CHARACTER_SET_NAME AS cs FROM information_schema.COLLATIONS WHERE ID IS NOT NULL',
    );
    const collations = new Map<number, TargetCollation>();
    for (const r of crows as { id: number | string; name: string; cs: string }[]) {
      collations.set(Number(r.id), { name: r.name, charset: r.cs });
    }
    return { maxPacket: Number(v.m), collations };
  }

  private stop(
    failure: EventApplyFailure,
    unit: Unit,
    plan: RestorePlan,
    reason: string,
    cause?: unknown,
  ): EventApplyError {
    return new EventApplyError(
      failure,
      unit,
      `cannot apply ${where(unit)}: ${reason}. Transactions before it are applied; nothing of it or after it ran. ` +
        `Once the cause is fixed, continue from this transaction with \`mysql-pitr restore apply --from ` +
        `${unit.file}:${unit.position} ${plan.targetText}\`` +
        `${failure === 'unsupported-event' ? '; or restore again with `mysql-pitr restore pitr --applier client` (mariadb-binlog | mariadb), which applies such events' : ''}`,
      cause !== undefined ? { cause } : undefined,
    );
  }

  /** The error for a failed batch: the failing transaction, what is applied, how to continue. */
  private failure(plan: RestorePlan, o: BatchOutcome, lastApplied: Unit | undefined): EventApplyError {
    const { batch, result, lost } = o;
    if (lost) {
      const first = batch.units[0]!;
      return new EventApplyError(
        'connection-lost',
        first,
        lostConnectionMessage(batch, lost, lastApplied, plan),
        { cause: lost },
      );
    }
    const e = result!.error!;
    const failed = batch.units[Math.min(result!.statements, batch.units.length - 1)]!;
    let prev = lastApplied === failed ? undefined : lastApplied;
    for (let i = result!.statements - 1; i >= 0; i--) {
      if (batch.units[i] !== failed) {
        prev = batch.units[i];
        break;
      }
    }
    const rest = plan.files.slice(plan.files.findIndex((f) => f.file === failed.file));
    const stop = rest.at(-1)?.to;
    return new EventApplyError(
      'sql-error',
      failed,
      `applying the binlogs failed at ${where(failed)}: server error ${e.errno}${e.sqlState ? ` (${e.sqlState})` : ''}: ` +
        `${e.sqlMessage}. Transactions before it are applied${prev ? ` (the last one: ${where(prev)})` : ''}; ` +
        'it was rolled back and nothing after it ran. Fix the cause, then continue from this transaction with ' +
        `\`mysql-pitr restore apply --from ${failed.file}:${failed.position} ${plan.targetText}\` (same --repo and ` +
        `--target), or pipe \`mariadb-binlog --start-position=${failed.position}${stop !== undefined ? ` --stop-position=${stop}` : ''} ` +
        `${rest.map((f) => f.file).join(' ')}\` (files from \`mysql-pitr binlog fetch\`) into the target, or restore again ` +
        'into an empty server',
    );
  }
}

/** Post-header length of a rows event per its FORMAT_DESCRIPTION (8 unless MySQL < 5.1.4). */
function postHeader(e: BinlogEvent): number {
  const fde = e.context.fde;
  const len = fde?.postHeaderLengths[e.typeCode - 1];
  return len ?? 8;
}

function unsupportedReason(e: BinlogEvent): string {
  const t = e.typeCode;
  const at = `${e.typeName} event at offset ${e.offset}`;
  if (LOAD_EVENTS.has(t))
    return `a LOAD DATA ${at}: the event applier does not replay LOAD DATA from the file data in the events`;
  if (t === EventType.INCIDENT)
    return `an INCIDENT ${at}: the source lost events here, so the data after it cannot be trusted`;
  if (t === EventType.START_ENCRYPTION)
    return `a START_ENCRYPTION ${at}: the binlog is encrypted, which is not supported`;
  if (t === EventType.MARIADB_QUERY_COMPRESSED)
    return `a compressed statement (${at}, log_bin_compress=ON): not supported by the event applier`;
  if (t === EventType.TRANSACTION_PAYLOAD)
    return `a compressed transaction (${at}, binlog_transaction_compression=ON): not supported by the event applier`;
  return `an ${at} of a type the event applier does not know`;
}
