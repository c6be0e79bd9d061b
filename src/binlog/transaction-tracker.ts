// Transaction boundaries in a sequence of binlog events, for MySQL and MariaDB.
// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
// https://mariadb.com/kb/en/gtid_event/ (event groups)
//
// MySQL 5.6+:  GTID|ANONYMOUS_GTID [BEGIN] ... XID | COMMIT | ROLLBACK | XA_PREPARE
//              GTID DDL-QUERY                      (no BEGIN: the statement is the transaction)
//              GTID TRANSACTION_PAYLOAD            (8.0.20+ compressed transaction)
//              transaction_length in the GTID event is the byte length of the whole group.
// MariaDB:     GTID(162) ... XID | COMMIT | XA_PREPARE   (the GTID event stands for BEGIN)
//              GTID(162, FL_STANDALONE) QUERY             (DDL or a non-transactional statement)
// MySQL 5.5:   BEGIN ... XID | COMMIT, or a lone QUERY (autocommitted statement, DDL), possibly
//              preceded by INTVAR/RAND/USER_VAR.

import { CorruptDataError } from '../errors/index.js';
import type { BinlogEvent } from './binlog-event.js';
import { EventType } from './event-type.js';
import { formatMariadbGtid } from '../gtid/mariadb-gtid-pos.js';
import { MariadbGtidFlags } from './mariadb-gtid-event.js';
import { formatMysqlGtid } from '../gtid/mysql-gtid-set.js';
import { queryStatementKind } from './query-event.js';

/** How a transaction ended. */
export type TransactionEnd =
  'xid' | 'commit' | 'rollback' | 'statement' | 'xa-prepare' | 'xa-commit' | 'payload';

/** One complete transaction (event group) as found in the binlog. */
export interface BinlogTransaction {
  /** 1-based count of transactions this tracker has completed. */
  number: number;
  /** Offset of the first event (the GTID event, BEGIN, or the lone statement). */
  startOffset: number;
  /** Offset just past the terminating event. */
  endOffset: number;
  /** MySQL `uuid:gno` / `uuid:tag:gno`, MariaDB `domain-server-seq`; undefined without GTIDs (anonymous, 5.5). */
  gtid: string | undefined;
  /**
   * Commit time in microseconds since the epoch: MySQL's immediate_commit_timestamp (8.0.1+) when
   * present, else the header timestamp of the terminating event (second precision).
   */
  commitTimestamp: number;
  /** Events in the transaction, the GTID and terminating events included. */
  eventCount: number;
  /** How it ended. */
  end: TransactionEnd;
  /** Distinct `database.table` names from its TABLE_MAP events, in order of appearance. */
  tables: string[];
}

/** A transaction that has started but not ended (at the end of an active or truncated file). */
export interface OpenTransaction {
  startOffset: number;
  gtid: string | undefined;
  eventCount: number;
}

interface OpenState extends OpenTransaction {
  /** BEGIN seen (or implied by a MariaDB non-standalone GTID): a QUERY does not end the group. */
  inBlock: boolean;
  /** MySQL transaction_length, when known and non-zero. */
  expectedLength: number | undefined;
  immediateCommitTimestamp: number | undefined;
  gtidOffset: number | undefined;
  tables: string[];
}

/** Events that belong to no transaction (file structure, replication control). */
const OUTSIDE_TRANSACTIONS = new Set<number>([
  EventType.FORMAT_DESCRIPTION,
  EventType.ROTATE,
  EventType.STOP,
  EventType.PREVIOUS_GTIDS,
  EventType.HEARTBEAT,
  EventType.HEARTBEAT_V2,
  EventType.INCIDENT,
  EventType.MARIADB_GTID_LIST,
  EventType.BINLOG_CHECKPOINT,
  EventType.START_ENCRYPTION,
  EventType.VIEW_CHANGE,
]);

/** Events that, outside a transaction, start one implicitly (statement-based groups without BEGIN). */
const IMPLICIT_START = new Set<number>([
  EventType.INTVAR,
  EventType.RAND,
  EventType.USER_VAR,
  EventType.TABLE_MAP,
  EventType.ROWS_QUERY,
  EventType.ANNOTATE_ROWS,
  EventType.BEGIN_LOAD_QUERY,
  EventType.APPEND_BLOCK,
  EventType.EXECUTE_LOAD_QUERY,
  EventType.WRITE_ROWS_V1,
  EventType.UPDATE_ROWS_V1,
  EventType.DELETE_ROWS_V1,
  EventType.WRITE_ROWS_V2,
  EventType.UPDATE_ROWS_V2,
  EventType.DELETE_ROWS_V2,
]);

/**
 * Fed the events of one binlog file (or stream) in order, reports each transaction when its last
 * event arrives. Events with `inFile` false (heartbeats, artificial events) are ignored.
 *
 * @example
 * const tracker = new TransactionTracker('mysql-bin.000001');
 * for (const e of events) { const trx = tracker.add(e); if (trx) index(trx); }
 * tracker.open; // a transaction still open at the end (active file), or undefined
 */
export class TransactionTracker {
  private state: OpenState | undefined;
  private count = 0;
  private readonly tables: boolean;

  /**
   * @param object file or stream name for error messages
   * @param options `tables: false` skips decoding TABLE_MAP events (`BinlogTransaction.tables`
   *   stays empty): for callers that need only boundaries, GTIDs and commit times, such as the
   *   archiver, this saves decoding one event per rows event
   */
  constructor(
    private readonly object: string,
    options: { tables?: boolean } = {},
  ) {
    this.tables = options.tables ?? true;
  }

  /** Transactions completed so far. */
  get completed(): number {
    return this.count;
  }

  /** True while a transaction has started and not ended (`open` without building its summary). */
  get inTransaction(): boolean {
    return this.state !== undefined;
  }

  /** The transaction that has started and not yet ended, if any. */
  get open(): OpenTransaction | undefined {
    const s = this.state;
    return s && { startOffset: s.startOffset, gtid: s.gtid, eventCount: s.eventCount };
  }

  /**
   * Adds the next event; returns the transaction it completes, if any.
   *
   * @throws CorruptDataError (CORRUPT_DATA) when a GTID event starts a transaction while another is
   *   open, or a transaction's length differs from the transaction_length its GTID event declares
   */
  add(event: BinlogEvent): BinlogTransaction | undefined {
    if (!event.inFile) return undefined;
    const type = event.typeCode;
    if (OUTSIDE_TRANSACTIONS.has(type)) return undefined;
    switch (type) {
      case EventType.GTID:
      case EventType.ANONYMOUS_GTID:
      case EventType.GTID_TAGGED: {
        this.assertClosed(event);
        const d = event.data;
        if (d?.kind !== 'mysql-gtid') return undefined;
        this.state = {
          startOffset: event.offset,
          gtidOffset: event.offset,
          gtid: d.hasGtid ? formatMysqlGtid(d) : undefined,
          eventCount: 1,
          inBlock: false,
          expectedLength: d.transactionLength || undefined,
          immediateCommitTimestamp: d.immediateCommitTimestamp || undefined,
          tables: [],
        };
        return undefined;
      }
      case EventType.MARIADB_GTID: {
        this.assertClosed(event);
        const d = event.data;
        if (d?.kind !== 'mariadb-gtid') return undefined;
        this.state = {
          startOffset: event.offset,
          gtidOffset: event.offset,
          gtid: formatMariadbGtid(d.gtid),
          eventCount: 1,
          // A non-standalone group has no BEGIN event: the GTID event opens it.
          inBlock: (d.flags & MariadbGtidFlags.STANDALONE) === 0,
          expectedLength: undefined,
          immediateCommitTimestamp: undefined,
          tables: [],
        };
        return undefined;
      }
      case EventType.QUERY: {
        const kind = queryStatementKind(event);
        const s = this.state;
        if (!s) {
          if (kind === 'begin' || kind === 'xa-start' || kind === 'ddl-transaction') {
            this.state = this.implicit(event, true);
            return undefined;
          }
          this.state = this.implicit(event, false);
          return this.finish(
            event,
            kind === 'xa-commit' || kind === 'xa-rollback' ? 'xa-commit' : 'statement',
          );
        }
        s.eventCount += 1;
        if (!s.inBlock && (kind === 'begin' || kind === 'xa-start' || kind === 'ddl-transaction')) {
          s.inBlock = true;
          return undefined;
        }
        if (kind === 'commit') return this.finish(event, 'commit');
        if (kind === 'rollback') return this.finish(event, 'rollback');
        if (kind === 'xa-prepare') return this.finish(event, 'xa-prepare');
        if (kind === 'xa-commit' || kind === 'xa-rollback') return this.finish(event, 'xa-commit');
        if (!s.inBlock) return this.finish(event, 'statement');
        return undefined;
      }
      case EventType.XID:
        return this.endWith(event, 'xid');
      case EventType.XA_PREPARE:
        return this.endWith(event, 'xa-prepare');
      case EventType.TRANSACTION_PAYLOAD:
        return this.endWith(event, 'payload');
      default: {
        if (this.state) {
          this.state.eventCount += 1;
          if (type === EventType.TABLE_MAP && this.tables) {
            const d = event.data;
            if (d?.kind === 'table-map') {
              const name = `${d.database}.${d.table}`;
              if (!this.state.tables.includes(name)) this.state.tables.push(name);
            }
          }
        } else if (IMPLICIT_START.has(type)) {
          this.state = this.implicit(event, false);
        }
        return undefined;
      }
    }
  }

  private implicit(event: BinlogEvent, inBlock: boolean): OpenState {
    return {
      startOffset: event.offset,
      gtidOffset: undefined,
      gtid: undefined,
      eventCount: 1,
      inBlock,
      expectedLength: undefined,
      immediateCommitTimestamp: undefined,
      tables: [],
    };
  }

  private endWith(event: BinlogEvent, end: TransactionEnd): BinlogTransaction {
    if (this.state) this.state.eventCount += 1;
    else this.state = this.implicit(event, true);
    return this.finish(event, end);
  }

  private assertClosed(event: BinlogEvent): void {
    const s = this.state;
    if (!s) return;
    throw new CorruptDataError(
      this.object,
      event.offset,
      `a GTID event starts a new transaction while the one at offset ${s.startOffset}` +
        `${s.gtid ? ` (GTID ${s.gtid})` : ''} has not ended; the binlog is damaged or events are missing`,
    );
  }

  private finish(event: BinlogEvent, end: TransactionEnd): BinlogTransaction {
    const s = this.state!;
    this.state = undefined;
    const endOffset = event.endOffset;
    if (s.expectedLength !== undefined && endOffset - s.startOffset !== s.expectedLength) {
      throw new CorruptDataError(
        this.object,
        s.startOffset,
        `transaction ${s.gtid ?? '(anonymous)'} spans ${endOffset - s.startOffset} bytes ` +
          `(${s.startOffset}..${endOffset}) but its GTID event declares transaction_length ${s.expectedLength}; ` +
          'events are missing or the binlog is damaged',
      );
    }
    this.count += 1;
    return {
      number: this.count,
      startOffset: s.startOffset,
      endOffset,
      gtid: s.gtid,
      commitTimestamp: s.immediateCommitTimestamp ?? event.timestamp * 1_000_000,
      eventCount: s.eventCount,
      end,
      tables: s.tables,
    };
  }
}
