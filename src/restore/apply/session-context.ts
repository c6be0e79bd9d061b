// The session context of statement events, replayed as a replica's SQL thread sets it.
// Status variables: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Query__event.html
// and https://mariadb.com/kb/en/query_event/; INTVAR, RAND and USER_VAR events precede the
// statement they belong to.

import {
  IntvarType,
  QueryFlags2,
  type IntvarEventData,
  type QueryEventData,
  type RandEventData,
  type ServerFlavor,
  type UserVarEventData,
} from '../../binlog/index.js';
import { PitrError } from '../../errors/index.js';

/** A collation the target knows: what character_set_client and user variables need. */
export interface TargetCollation {
  /** e.g. `utf8mb4_general_ci`. */
  name: string;
  /** e.g. `utf8mb4`. */
  charset: string;
}

/** Options of SessionContext. */
export interface SessionContextOptions {
  /** Which server wrote the events (its flags2 bits and status variables differ). */
  flavor: ServerFlavor;
  /** major.minor.patch of the server that wrote them (gates MariaDB flags2 bits). */
  version: readonly [number, number, number];
  /** Collation ids of the target (information_schema.COLLATIONS). */
  collations: ReadonlyMap<number, TargetCollation>;
}

/** A session variable a QUERY event sets: the SQL name and the value text. */
type Assignments = Map<string, string>;

/** MariaDB flags2 bits beyond MySQL's (sql/sql_priv.h of MariaDB 10.11), with the version that logs them. */
const MARIADB_FLAGS2 = [
  { name: 'check_constraint_checks', bit: QueryFlags2.NO_CHECK_CONSTRAINT_CHECKS, set: 0, since: [10, 2, 1] },
  { name: 'sql_if_exists', bit: 1 << 28, set: 1, since: [10, 5, 2] },
  { name: 'explicit_defaults_for_timestamp', bit: 1 << 24, set: 1, since: [10, 10, 1] },
  { name: 'system_versioning_insert_history', bit: 1 << 30, set: 1, since: [10, 11, 0] },
] as const;

const atLeast = (v: readonly number[], min: readonly number[]): boolean => {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return (v[i] ?? 0) > (min[i] ?? 0);
  return true;
};

const quoteId = (s: string): string => `\`${s.replace(/`/g, '``')}\``;
/** A string literal that reads the same with or without NO_BACKSLASH_ESCAPES: hex when it holds a backslash. */
const quoteString = (s: string): string =>
  s.includes('\\') ? `X'${Buffer.from(s).toString('hex')}'` : `'${s.replace(/'/g, "''")}'`;
const isAscii = (s: string): boolean => !/[^\x20-\x7e]/.test(s);

/**
 * Tracks the target session's context while events are applied and says which statements bring
 * it to what the next QUERY event carries. Only values that change are sent (one `SET` statement
 * for all of them); per-statement values (INTVAR, RAND, USER_VAR) are sent each time, before the
 * statement, as the replica SQL thread applies them.
 *
 * Pure: no I/O. `reset()` after the session is replaced (a new connection has server defaults).
 */
export class SessionContext {
  private current: Assignments = new Map();
  private db: string | undefined;
  private pending: string[] = [];

  constructor(private readonly options: SessionContextOptions) {}

  /** Forgets what the session holds (a new connection). */
  reset(): void {
    this.current = new Map();
    this.db = undefined;
    this.pending = [];
  }

  /** An INTVAR event for the next statement. */
  intvar(e: IntvarEventData): void {
    this.pending.push(
      e.type === IntvarType.LAST_INSERT_ID ? `SET LAST_INSERT_ID=${e.value}` : `SET INSERT_ID=${e.value}`,
    );
  }

  /** A RAND event for the next statement. */
  rand(e: RandEventData): void {
    this.pending.push(`SET @@RAND_SEED1=${e.seed1}, @@RAND_SEED2=${e.seed2}`);
  }

  /**
   * A USER_VAR event for the next statement.
   *
   * @throws PitrError RESTORE_APPLY_FAILED when the value's collation is unknown to the target
   */
  userVar(e: UserVarEventData): void {
    const name = `@${quoteId(e.name)}`;
    const v = e.value;
    let value: string;
    if (v === null) value = 'NULL';
    else if (v.type === 'int')
      value = v.value < -(2n ** 63n) + 1n ? `CAST(${v.value} AS SIGNED)` : `${v.value}`;
    else if (v.type === 'decimal') value = v.text;
    else if (v.type === 'real') {
      // the shortest text that reads back as the same double; the exponent makes it a DOUBLE literal
      const t = String(v.value);
      value = /e/i.test(t) ? t : `${t}e0`;
    } else {
      const c = this.options.collations.get(v.collation);
      if (!c) {
        throw new PitrError(
          'RESTORE_APPLY_FAILED',
          `user variable @${e.name} has collation id ${v.collation}, which the target does not know; ` +
            'restore into a server of the same version as the source',
        );
      }
      value = `_${c.charset} X'${v.bytes.toString('hex')}' COLLATE ${quoteId(c.name)}`;
    }
    this.pending.push(...this.utf8Safe(`SET ${name}:=${value}`));
  }

  /**
   * The statements to send before `q`'s statement, given its header timestamp (seconds): the
   * pending INTVAR/RAND/USER_VAR statements (in event order, as mysqlbinlog prints them), the
   * default database, then one SET for every session variable whose value changes.
   *
   * @param schema the default database to use instead of the event's (a schema rewrite); null
   *   leaves the session's as it is (events flagged LOG_EVENT_SUPPRESS_USE_F: CREATE/DROP DATABASE
   *   name the database they create or drop, which need not exist)
   * @throws PitrError RESTORE_APPLY_FAILED when a charset id is unknown to the target
   */
  forQuery(q: QueryEventData, timestamp: number, schema: string | null = q.schema): string[] {
    const out = this.pending;
    this.pending = [];
    if (schema !== null && schema !== '' && schema !== this.db) {
      out.push(...this.utf8Safe(`USE ${quoteId(schema)}`));
      this.db = schema;
    }
    const want = this.assignments(q, timestamp);
    const changed: string[] = [];
    for (const [k, v] of want) {
      if (this.current.get(k) !== v) {
        changed.push(`@@session.${k}=${v}`);
        this.current.set(k, v);
      }
    }
    if (changed.length > 0) out.push(`SET ${changed.join(', ')}`);
    return out;
  }

  /** Pending INTVAR/RAND/USER_VAR statements that no statement consumed (sent before row events). */
  takePending(): string[] {
    const p = this.pending;
    this.pending = [];
    return p;
  }

  /** Every variable the event says, with the value a replica would give it. */
  private assignments(q: QueryEventData, timestamp: number): Assignments {
    const s = q.status;
    const a: Assignments = new Map();
    a.set(
      'timestamp',
      s.microseconds !== undefined
        ? `${timestamp}.${String(s.microseconds).padStart(6, '0')}`
        : `${timestamp}`,
    );
    a.set('pseudo_thread_id', String(q.threadId));
    if (s.flags2 !== undefined) {
      const f = s.flags2;
      a.set('foreign_key_checks', f & QueryFlags2.NO_FOREIGN_KEY_CHECKS ? '0' : '1');
      a.set('sql_auto_is_null', f & QueryFlags2.AUTO_IS_NULL ? '1' : '0');
      a.set('unique_checks', f & QueryFlags2.RELAXED_UNIQUE_CHECKS ? '0' : '1');
      a.set('autocommit', f & QueryFlags2.NOT_AUTOCOMMIT ? '0' : '1');
      if (this.options.flavor === 'mariadb') {
        for (const b of MARIADB_FLAGS2) {
          if (!atLeast(this.options.version, b.since)) continue;
          a.set(b.name, (f & b.bit) !== 0 ? String(b.set) : String(1 - b.set));
        }
      }
    }
    if (s.sqlMode !== undefined) a.set('sql_mode', s.sqlMode.toString());
    a.set('auto_increment_increment', String(s.autoIncrementIncrement ?? 1));
    a.set('auto_increment_offset', String(s.autoIncrementOffset ?? 1));
    if (s.charsetClient !== undefined) {
      // character_set_client takes a character set (MariaDB refuses a non-default collation id)
      a.set('character_set_client', this.charsetOf(s.charsetClient));
      a.set('collation_connection', String(s.collationConnection));
      a.set('collation_server', String(s.collationServer));
    }
    if (s.timeZone !== undefined) a.set('time_zone', quoteString(s.timeZone));
    a.set('lc_time_names', String(s.lcTimeNames ?? 0));
    a.set('collation_database', s.collationDatabase !== undefined ? String(s.collationDatabase) : 'DEFAULT');
    if (s.explicitDefaultsForTimestamp !== undefined)
      a.set('explicit_defaults_for_timestamp', s.explicitDefaultsForTimestamp ? '1' : '0');
    if (s.defaultCollationForUtf8mb4 !== undefined)
      a.set('default_collation_for_utf8mb4', String(s.defaultCollationForUtf8mb4));
    if (s.sqlRequirePrimaryKey !== undefined)
      a.set('sql_require_primary_key', s.sqlRequirePrimaryKey ? '1' : '0');
    if (s.defaultTableEncryption !== undefined)
      a.set('default_table_encryption', s.defaultTableEncryption ? '1' : '0');
    return a;
  }

  private charsetOf(id: number): string {
    const c = this.options.collations.get(id);
    if (!c) {
      throw new PitrError(
        'RESTORE_APPLY_FAILED',
        `a statement's character_set_client is collation id ${id}, which the target does not know; restore into ` +
          'a server of the same version as the source',
      );
    }
    return c.charset;
  }

  /**
   * `sql` as the server must read it: a name with non-ASCII characters is UTF-8, so the session's
   * character_set_client becomes utf8mb4 first (the next QUERY event's SET puts its own back).
   */
  private utf8Safe(sql: string): string[] {
    if (isAscii(sql)) return [sql];
    this.current.set('character_set_client', 'utf8mb4');
    return ['SET @@session.character_set_client=utf8mb4', sql];
  }
}
