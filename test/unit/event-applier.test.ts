/**
 * The pure parts of the event applier on real events: QUERY status variables, INTVAR/RAND/USER_VAR
 * decoding, SessionContext diffing, BINLOG statement building and fragmenting, and the TABLE_MAP
 * schema rewrite of the event filter.
 *
 * MARIADB_BINLOG: a whole binlog file written by MariaDB 10.11.19 (Debian 12, binlog_checksum=CRC32)
 * for this test: CREATE DATABASE d, CREATE TABLE d.t, one row-based INSERT (TABLE_MAP + WRITE_ROWS),
 * then statement-based INSERTs with foreign_key_checks=0/unique_checks=0 and RAND(), with
 * time_zone='+05:30', lc_time_names='de_DE', auto_increment_increment=3, NAMES latin1 and NOW(),
 * and with user variables of every type (string, int, real, decimal, NULL) and LAST_INSERT_ID().
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BinlogEventParser,
  BINLOG_MAGIC,
  type BinlogEvent,
  type QueryEventData,
} from '../../src/binlog/index.js';
import {
  BINLOG_FRAGMENTS_SQL,
  BinlogEventTooBigError,
  SessionContext,
  TableEventFilter,
  binlogStatement,
  rewriteTableMapDatabase,
  rowGroupStatements,
  type TargetCollation,
} from '../../src/restore/index.js';
import { readFixture } from '../support/binlog-fixtures.js';

const MARIADB_BINLOG = Buffer.from(
  '/mJpblyrE2sP3SMUAPwAAAAAAQAAAAAEADEwLjExLjE5LU1hcmlhREItMCtkZWIxMnUxLWxvZwAAAAAAAAAAAAAAAAAAAAAAAAAAXKsTaxM4DQAIABIABAQEBBIAAOQABBoIAAAACAgIAgAAAAoKCgAAAAAAAAoKCgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBMEAA0ICAgKCgoBld6kRVyrE2uj3SMUAB0AAAAdAQAAAAAAAAAAAAB7MzSbXKsTa6HdIxQAKwAAAEgBAAAAABAAAABteXNxbC1iaW4uMDAwMDAxx94RbV2rE2ui3SMUACoAAAByAQAACAABAAAAAAAAAAAAAAApAAAAAAAArVEv2l2rE2sC3SMUAFEAAADDAQAACAAGAAAAAAAAAAEAABoAAAAAAAEBCAAgVAAAAAAGA3N0ZATgAOAACABkAENSRUFURSBEQVRBQkFTRSBkk4RvR12rE2ui3SMUACoAAADtAQAACAACAAAAAAAAAAAAAAApAAAAAAAAxq4fbl2rE2sC3SMUAJkAAACGAgAAAAAGAAAAAAAAAAEAACMAAAAAAAEBCAAgVAAAAAAGA3N0ZATgAOAACACBCwAAAAAAAABkAENSRUFURSBUQUJMRSB0IChpZCBJTlQgUFJJTUFSWSBLRVkgQVVUT19JTkNSRU1FTlQsIHYgVkFSQ0hBUigxMDApKSBFTkdJTkU9SW5ub0RC0n6XIl2rE2ui3SMUACoAAACwAgAACAADAAAAAAAAAAAAAAAMAAAAAAAAWGRh7V2rE2ug3SMUAEIAAADyAgAAAABJTlNFUlQgSU5UTyB0ICh2KSBWQUxVRVMgKCdyb3cgeC8qISovO1xueScpbo8cD12rE2sT3SMUACwAAAAeAwAAAAAVAAAAAAABAAFkAAF0AAIDDwJkAAJCnkIgXasTaxfdIxQANAAAAFIDAAAAABUAAAAAAAEAAgP8AQAAAA1yb3cgeC8qISovOwp5vSX9jF2rE2sQ3SMUAB8AAABxAwAAAAAMAAAAAAAAAKsHp7ZdqxNrot0jFAAqAAAAmwMAAAgABAAAAAAAAAAAAAAADAAAAAAAAAzhso9dqxNrBd0jFAAgAAAAuwMAAAAAAgIAAAAAAAAAQEc1G12rE2sN3SMUACcAAADiAwAAAACmPg8PAAAAADLkWS8AAAAAReWfeF2rE2sC3SMUAG4AAABQBAAAAAAGAAAAAAAAAAEAABoAAAAAAA0BCAAgVAAAAAAGA3N0ZATgAOAACABkAElOU0VSVCBJTlRPIHQgKHYpIFZBTFVFUyAoQ09OQ0FUKCdyJywgUkFORCgpKSksbC/SXasTaxDdIxQAHwAAAG8EAAAAAA8AAAAAAAAA/G9y6F2rE2ui3SMUACoAAACZBAAACAAFAAAAAAAAAAAAAAAMAAAAAAAAfnAu+V2rE2sF3SMUACAAAAC5BAAAAAACBAAAAAAAAACWVREQXasTawLdIxQAdAAAAC0FAAAAAAYAAAAAAAAAAQAALgAAAAAAAQEIACBUAAAAAAYDc3RkAwMAAQAECAAIAAgABQYrMDU6MzAHBACASj4MZABJTlNFUlQgSU5UTyB0ICh2KSBWQUxVRVMgKE5PVygpKb0sS/xdqxNrEN0jFAAfAAAATAUAAAAAEQAAAAAAAABjyNDtXasTa6LdIxQAKgAAAHYFAAAIAAYAAAAAAAAAAAAAAAwAAAAAAAB5GC+fXasTawXdIxQAIAAAAJYFAAAAAAEEAAAAAAAAACZ13mhdqxNrBd0jFAAgAAAAtgUAAAAAAgcAAAAAAAAAnnAZV12rE2sO3SMUAC4AAADkBQAAAAACAAAAdXYAAAgAAAAHAAAAaHhlOWxsbwTPfkddqxNrDt0jFAAwAAAAFAYAAAAAAgAAAHVpAAIIAAAACAAAAPv/////////AO84CxRdqxNrDt0jFAAvAAAAQwYAAAAAAgAAAHVyAAEIAAAACAAAAAAAAAAAAPg/PCFbvV2rE2sO3SMUACwAAABvBgAAAAACAAAAdWQABAgAAAAFAAAABQNz/qYrfLcFXasTaw7dIxQAHgAAAI0GAAAAAAIAAAB1bgG6K1i9XasTawLdIxQAoQAAAC4HAAAAAAYAAAAAAAAAAQAAIgAAAAAAAQEIACBUAAAAAAYDc3RkAwMAAQAELQAtAAgABwQAZABJTlNFUlQgSU5UTyB0ICh2KSBWQUxVRVMgKENPTkNBVChAdXYsIEB1aSwgQHVyLCBAdWQsIElGTlVMTChAdW4sICctJyksIExBU1RfSU5TRVJUX0lEKCkpKSfho45dqxNrEN0jFAAfAAAATQcAAAAAFAAAAAAAAAA6kmNYXasTawTdIxQALwAAAHwHAAAAAAQAAAAAAAAAbXlzcWwtYmluLjAwMDAwMnxV4k4=',
  'base64',
);

const events = (file: Buffer, object = 'test'): BinlogEvent[] => [
  ...new BinlogEventParser({ object }).push(file),
];
const mariadb = events(MARIADB_BINLOG, 'mariadb-10.11');
const queries = mariadb.filter((e) => e.data?.kind === 'query' && e.data.statementKind === 'statement');
const query = (i: number): QueryEventData => queries[i]!.data as QueryEventData;

const COLLATIONS = new Map<number, TargetCollation>([
  [8, { name: 'latin1_swedish_ci', charset: 'latin1' }],
  [33, { name: 'utf8mb3_general_ci', charset: 'utf8mb3' }],
  [45, { name: 'utf8mb4_general_ci', charset: 'utf8mb4' }],
  [224, { name: 'utf8mb4_unicode_ci', charset: 'utf8mb4' }],
]);
const context = (): SessionContext =>
  new SessionContext({ flavor: 'mariadb', version: [10, 11, 19], collations: COLLATIONS });

describe('QUERY status variables and the events before a statement (MariaDB 10.11)', () => {
  it('decodes flags2, sql_mode, charsets, time zone, lc_time_names, auto-increment and the exact statement bytes', () => {
    assert.equal(queries.length, 5);
    const create = query(0);
    assert.equal(create.statementBytes.toString(), 'CREATE DATABASE d');
    assert.equal(create.status.sqlMode, 1411383304n);
    assert.deepEqual(
      [create.status.charsetClient, create.status.collationConnection, create.status.collationServer],
      [224, 224, 8],
    );
    // foreign_key_checks=0 (bit 26) and unique_checks=0 (bit 27) on top of explicit_defaults_for_timestamp (bit 24)
    assert.equal(query(2).status.flags2, (1 << 24) | (1 << 26) | (1 << 27));
    const tz = query(3).status;
    assert.equal(tz.timeZone, '+05:30');
    assert.equal(tz.lcTimeNames, 4);
    assert.deepEqual([tz.autoIncrementIncrement, tz.autoIncrementOffset], [3, 1]);
    assert.equal(tz.charsetClient, 8);
    assert.ok(tz.microseconds !== undefined && tz.microseconds < 1_000_000);
    assert.equal(tz.unknownCode, undefined);
  });

  it('decodes INTVAR, RAND and USER_VAR of every type', () => {
    const data = mariadb
      .map((e) => e.data)
      .filter((d) => d && ['intvar', 'rand', 'user-var'].includes(d.kind));
    const kinds = data.map((d) => d!.kind);
    assert.deepEqual(kinds, [
      'intvar',
      'rand',
      'intvar',
      'intvar',
      'intvar',
      'user-var',
      'user-var',
      'user-var',
      'user-var',
      'user-var',
    ]);
    const vars = Object.fromEntries(
      data
        .filter((d) => d!.kind === 'user-var')
        .map((d) => [(d as { name: string }).name, (d as { value: unknown }).value]),
    );
    assert.deepEqual(vars['ui'], { type: 'int', value: -5n });
    assert.deepEqual(vars['ur'], { type: 'real', value: 1.5 });
    assert.deepEqual(vars['ud'], { type: 'decimal', text: '-12.345' });
    assert.equal(vars['un'], null);
    assert.equal((vars['uv'] as { collation: number }).collation, 8);
  });
});

describe('SessionContext', () => {
  it('sends the whole context first, then only what changes', () => {
    const c = context();
    const first = c.forQuery(query(0), 1000);
    assert.equal(first[0], 'USE `d`');
    assert.match(
      first[1]!,
      /^SET @@session\.timestamp=1000, @@session\.pseudo_thread_id=6, @@session\.foreign_key_checks=1, /,
    );
    assert.match(first[1]!, /@@session\.sql_mode=1411383304/);
    assert.match(
      first[1]!,
      /@@session\.character_set_client=utf8mb4, @@session\.collation_connection=224, @@session\.collation_server=8/,
    );
    assert.match(first[1]!, /@@session\.explicit_defaults_for_timestamp=1/);
    assert.match(first[1]!, /@@session\.collation_database=DEFAULT/);
    // the same context again: nothing to send
    assert.deepEqual(c.forQuery(query(1), 1000), []);
    // foreign_key_checks and unique_checks off, and a new timestamp
    assert.deepEqual(c.forQuery(query(2), 1001), [
      'SET @@session.timestamp=1001, @@session.foreign_key_checks=0, @@session.unique_checks=0',
    ]);
    const tz = c.forQuery(query(3), 1001);
    assert.equal(tz.length, 1);
    assert.match(tz[0]!, /@@session\.foreign_key_checks=1, @@session\.unique_checks=1/);
    assert.match(tz[0]!, /@@session\.auto_increment_increment=3/);
    assert.match(tz[0]!, /@@session\.character_set_client=latin1, @@session\.collation_connection=8/);
    assert.match(tz[0]!, /@@session\.time_zone='\+05:30'/);
    assert.match(tz[0]!, /@@session\.lc_time_names=4/);
    assert.match(tz[0]!, /@@session\.timestamp=1001\.\d{6}/);
    assert.doesNotMatch(tz[0]!, /USE|sql_mode/);
  });

  it('sends INTVAR, RAND and USER_VAR before the statement, as typed literals', () => {
    const c = context();
    c.forQuery(query(3), 1);
    for (const e of mariadb.filter((x) => x.offset > queries[3]!.offset && x.offset < queries[4]!.offset)) {
      const d = e.data;
      if (d?.kind === 'intvar') c.intvar(d);
      if (d?.kind === 'user-var') c.userVar(d);
    }
    const sql = c.forQuery(query(4), 1);
    assert.deepEqual(sql.slice(0, 7), [
      'SET LAST_INSERT_ID=4',
      'SET INSERT_ID=7',
      "SET @`uv`:=_latin1 X'687865396c6c6f' COLLATE `latin1_swedish_ci`",
      'SET @`ui`:=-5',
      'SET @`ur`:=1.5e0',
      'SET @`ud`:=-12.345',
      'SET @`un`:=NULL',
    ]);
    const rand = mariadb.find((e) => e.data?.kind === 'rand')!.data!;
    if (rand.kind === 'rand') c.rand(rand);
    assert.equal(sql.length, 8); // then the SET of what changed
    assert.deepEqual(c.takePending(), ['SET @@RAND_SEED1=252657318, @@RAND_SEED2=794420274']);
    assert.deepEqual(c.takePending(), []);
  });

  it('reads a non-ASCII name as UTF-8 and puts the statement charset back; leaves the database for SUPPRESS_USE events', () => {
    const c = context();
    c.forQuery(query(3), 1);
    const sql = c.forQuery({ ...query(3), schema: 'd\u00e9j\u00e0' }, 1);
    assert.deepEqual(sql, [
      'SET @@session.character_set_client=utf8mb4',
      'USE `d\u00e9j\u00e0`',
      'SET @@session.character_set_client=latin1',
    ]);
    assert.deepEqual(c.forQuery(query(3), 1, null), []);
  });
});

describe('BINLOG statements', () => {
  const fde = mariadb[0]!;
  const map = mariadb.find((e) => e.typeName === 'TABLE_MAP')!;
  const rows = mariadb.find((e) => e.typeName === 'WRITE_ROWS_V1')!;
  const decode = (sql: Buffer): Buffer => {
    const m = /^BINLOG '([A-Za-z0-9+/=]*)'$/.exec(sql.toString('latin1'));
    assert.ok(m, sql.toString('latin1').slice(0, 40));
    return Buffer.from(m[1]!, 'base64');
  };

  it('carries the raw events, CRC32 trailers included', () => {
    assert.deepEqual(decode(binlogStatement([fde.raw])), fde.raw);
    assert.deepEqual(decode(binlogStatement([map.raw, rows.raw])), Buffer.concat([map.raw, rows.raw]));
  });

  it('one statement when it fits; else parts that each repeat the table maps', () => {
    assert.equal(rowGroupStatements([map.raw], [rows.raw], 16 * 1024 * 1024).length, 1);
    const limit = Math.ceil((map.raw.length + 2 * rows.raw.length) / 3) * 4 + 9;
    const parts = rowGroupStatements([map.raw], [rows.raw, rows.raw, rows.raw], limit);
    assert.equal(parts.length, 2);
    assert.deepEqual(decode(parts[0]!), Buffer.concat([map.raw, rows.raw, rows.raw]));
    assert.deepEqual(decode(parts[1]!), Buffer.concat([map.raw, rows.raw]));
    for (const p of parts) assert.ok(p.length <= limit);
  });

  it('a rows event larger than a statement goes in two fragments; larger than two fails with the packet to set', () => {
    const limit = 120; // the table map and rows event: 96 bytes, 128 characters of base64
    const parts = rowGroupStatements([map.raw], [rows.raw], limit).map((p) => p.toString('latin1'));
    assert.equal(parts.length, 4);
    const f0 = /^SET @binlog_fragment_0='(.*)'$/.exec(parts[0]!)![1]!;
    const f1 = /^SET @binlog_fragment_1='(.*)'$/.exec(parts[1]!)![1]!;
    assert.deepEqual(Buffer.from(f0 + f1, 'base64'), Buffer.concat([map.raw, rows.raw]));
    assert.equal(parts[2], BINLOG_FRAGMENTS_SQL);
    assert.match(parts[3]!, /^SET @binlog_fragment_0=NULL/);
    assert.ok(parts.every((p) => p.length <= limit));
    assert.throws(
      () => rowGroupStatements([map.raw], [rows.raw], 60),
      (e: unknown) =>
        e instanceof BinlogEventTooBigError &&
        e.code === 'RESTORE_APPLY_FAILED' &&
        /max_allowed_packet/.test(e.message),
    );
  });
});

describe('TABLE_MAP schema rewrite', () => {
  /** Parses `fde` then `event` as a file: the CRC32 of both is verified. */
  const reparse = (fde: BinlogEvent, event: Buffer): BinlogEvent =>
    events(Buffer.concat([BINLOG_MAGIC, fde.raw, event]), 'rewritten').at(-1)!;

  for (const [name, file] of [
    ['MariaDB 10.11, CRC32', MARIADB_BINLOG],
    ['MySQL 5.7, CRC32', readFixture('mysql-bin.checksum-crc32')],
    ['MySQL 5.7, no checksums', readFixture('mysql-bin.checksum-none')],
  ] as const) {
    it(`renames the database, fixes the size and the checksum (${name})`, () => {
      const all = events(file, name);
      const map = all.find((e) => e.typeName === 'TABLE_MAP')!;
      const before = map.data!;
      assert.equal(before.kind, 'table-map');
      if (before.kind !== 'table-map') return;
      for (const to of ['s', 'side_schema_\u00e9', 'x'.repeat(64)]) {
        const out = rewriteTableMapDatabase(map, to);
        const delta: number = Buffer.byteLength(to) - Buffer.byteLength(before.database);
        assert.equal(out.length, map.raw.length + delta);
        const again = reparse(all[0]!, out);
        assert.deepEqual(again.data, { ...before, database: to });
        // everything after the database name is the same bytes (table name, column metadata)
        const tail: number = map.bodyStart + 8 + 1 + Buffer.byteLength(before.database) + 1;
        assert.deepEqual(
          out.subarray(tail + delta, out.length - map.checksumSize),
          map.raw.subarray(tail, map.raw.length - map.checksumSize),
        );
      }
    });
  }

  it('TableEventFilter keeps listed tables (renamed) and drops the others', () => {
    const map = mariadb.find((e) => e.typeName === 'TABLE_MAP')!;
    const data = map.data!;
    if (data.kind !== 'table-map') throw new Error('not a table map');
    const keep = new TableEventFilter({
      tables: [{ database: 'd', table: 't' }],
      renameDatabase: new Map([['d', 'side']]),
    });
    const out = keep.tableMap(map, data)!;
    assert.equal((reparse(mariadb[0]!, out).data as { database: string }).database, 'side');
    assert.equal(
      new TableEventFilter({ tables: [{ database: 'd', table: 't' }] }).tableMap(map, data),
      map.raw,
    );
    assert.equal(
      new TableEventFilter({ tables: [{ database: 'd', table: 'other' }] }).tableMap(map, data),
      undefined,
    );
    assert.deepEqual(keep.query(queries[0]!, query(0)), { apply: false });
  });
});
