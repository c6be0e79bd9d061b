/**
 * A deterministic mixed write workload for integration tests: the same seed sends the same
 * statements in the same order, so binlog contents differ only in timestamps and server ids.
 *
 * It creates a few tables in `database`, then runs `transactions` operations chosen by a seeded
 * PRNG: single-row autocommit INSERTs, multi-row transactions, multi-row UPDATEs, DELETEs, JSON
 * rows, rolled-back transactions (never binlogged), and now and then DDL (CREATE/ALTER/DROP TABLE,
 * CREATE INDEX). `bigTransactions` multi-MiB transactions are spread evenly through the run, and
 * `FLUSH BINARY LOGS` runs at the `flushBinaryLogsAt` fractions of progress.
 *
 * `hugeRowBytes` adds one single-row transaction whose row (and so its one rows event) is that big:
 * above 16 MiB, the replication stream carries it in several protocol packets.
 */
import type { Connection } from 'mysql2/promise';

/** Options of runWorkload. */
export interface WorkloadOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Schema to create and write to (default 'wl'; created if missing). */
  database?: string;
  /** Number of small operations (default 2000). */
  transactions?: number;
  /** Number of big multi-row transactions (default 2). */
  bigTransactions?: number;
  /** Approximate size of each big transaction in bytes (default 4 MiB). */
  bigTransactionBytes?: number;
  /** When set, one transaction inserts one row of this many bytes (a single rows event). */
  hugeRowBytes?: number;
  /** Progress fractions (0..1) at which `FLUSH BINARY LOGS` runs (default none). */
  flushBinaryLogsAt?: number[];
  /** About one DDL statement every `ddlEvery` operations (default 150). */
  ddlEvery?: number;
}

/** What runWorkload did. */
export interface WorkloadResult {
  /** Statements or transactions that were committed (DDL included). */
  committed: number;
  rolledBack: number;
  ddl: number;
  bigTransactions: number;
  flushes: number;
  /** Bytes of row payload sent in big transactions and the huge row. */
  bigBytes: number;
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

/** Runs the workload on `conn` (which must be allowed to create the schema and FLUSH BINARY LOGS). */
export async function runWorkload(conn: Connection, opts: WorkloadOptions = {}): Promise<WorkloadResult> {
  const rand = prng(opts.seed ?? 1);
  const db = opts.database ?? 'wl';
  const total = opts.transactions ?? 2000;
  const bigCount = opts.bigTransactions ?? 2;
  const bigBytes = opts.bigTransactionBytes ?? 4 * 1024 * 1024;
  const ddlEvery = opts.ddlEvery ?? 150;
  const flushAt = [...(opts.flushBinaryLogsAt ?? [])].sort((x, y) => x - y);
  const result: WorkloadResult = {
    committed: 0,
    rolledBack: 0,
    ddl: 0,
    bigTransactions: 0,
    flushes: 0,
    bigBytes: 0,
  };
  const int = (n: number): number => Math.floor(rand() * n);
  const word = (): string => WORDS[int(WORDS.length)] ?? 'x';
  const day = (i: number): string =>
    `2024-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')} 12:${String(i % 60).padStart(2, '0')}:00.${String(i % 1000000).padStart(6, '0')}`;

  // A deterministic, poorly compressible 64 KiB block that big rows are cut from.
  const block = Buffer.alloc(64 * 1024);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(Math.floor(rand() * 2 ** 32), i);

  const ddl = async (sql: string): Promise<void> => {
    await conn.query(sql);
    result.ddl += 1;
    result.committed += 1;
  };

  await ddl(`CREATE DATABASE IF NOT EXISTS \`${db}\``);
  await ddl(
    `CREATE TABLE \`${db}\`.items (id INT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, name VARCHAR(64), ` +
      'price DECIMAL(10,2), created DATETIME(6), note TEXT NULL, KEY k (k)) ENGINE=InnoDB',
  );
  await ddl(
    `CREATE TABLE \`${db}\`.events (id BIGINT AUTO_INCREMENT PRIMARY KEY, kind ENUM('a','b','c') NOT NULL, ` +
      'payload JSON, amount DOUBLE, ok BIT(1)) ENGINE=InnoDB',
  );
  await ddl(`CREATE TABLE \`${db}\`.blobs (id INT AUTO_INCREMENT PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB`);
  await ddl(
    `CREATE TABLE \`${db}\`.counters (name VARCHAR(32) PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB`,
  );
  await conn.query(`INSERT INTO \`${db}\`.counters VALUES ('c0', 0), ('c1', 0), ('c2', 0), ('c3', 0)`);
  result.committed += 1;

  const bigAt = new Set<number>();
  for (let i = 1; i <= bigCount; i++) bigAt.add(Math.floor((total * i) / (bigCount + 1)));
  const hugeAt = opts.hugeRowBytes ? Math.floor(total * 0.6) : -1;
  let tmpTables = 0;
  let extraColumn = false;

  for (let i = 0; i < total; i++) {
    while (flushAt.length > 0 && (flushAt[0] ?? 2) <= i / total) {
      flushAt.shift();
      await conn.query('FLUSH BINARY LOGS');
      result.flushes += 1;
    }
    if (bigAt.has(i)) {
      await bigTransaction(i);
      continue;
    }
    if (i === hugeAt && opts.hugeRowBytes) {
      // REPEAT keeps the statement (and its ANNOTATE_ROWS event) small while the row is huge
      await conn.query(`INSERT INTO \`${db}\`.blobs (data) VALUES (REPEAT('h', ?))`, [opts.hugeRowBytes]);
      result.committed += 1;
      result.bigBytes += opts.hugeRowBytes;
      continue;
    }
    if (ddlEvery > 0 && i % ddlEvery === ddlEvery - 1) {
      const which = int(4);
      if (which === 0) {
        tmpTables += 1;
        await ddl(`CREATE TABLE \`${db}\`.tmp_${tmpTables} (a INT PRIMARY KEY, b VARCHAR(20)) ENGINE=InnoDB`);
        await conn.query(`INSERT INTO \`${db}\`.tmp_${tmpTables} VALUES (1, 'one'), (2, 'two')`);
        result.committed += 1;
      } else if (which === 1 && tmpTables > 0) {
        await ddl(`DROP TABLE IF EXISTS \`${db}\`.tmp_${tmpTables}`);
        tmpTables -= 1;
      } else if (which === 2) {
        await ddl(
          extraColumn
            ? `ALTER TABLE \`${db}\`.items DROP COLUMN extra`
            : `ALTER TABLE \`${db}\`.items ADD COLUMN extra INT NULL DEFAULT 7`,
        );
        extraColumn = !extraColumn;
      } else {
        await ddl(`ALTER TABLE \`${db}\`.events COMMENT='pass ${i}'`);
      }
      continue;
    }
    const r = rand();
    if (r < 0.35) {
      await conn.query(`INSERT INTO \`${db}\`.items (k, name, price, created, note) VALUES (?, ?, ?, ?, ?)`, [
        int(1000),
        `${word()}-${i}`,
        (int(100000) / 100).toFixed(2),
        day(i),
        int(3) === 0 ? null : `${word()} ${word()} ${word()}`,
      ]);
      result.committed += 1;
    } else if (r < 0.55) {
      await conn.query('BEGIN');
      const rows = 2 + int(9);
      const values: unknown[] = [];
      for (let j = 0; j < rows; j++)
        values.push([int(1000), `${word()}-${i}-${j}`, '1.50', day(i + j), null]);
      await conn.query(`INSERT INTO \`${db}\`.items (k, name, price, created, note) VALUES ?`, [values]);
      await conn.query(`UPDATE \`${db}\`.counters SET n = n + ? WHERE name = ?`, [rows, `c${int(4)}`]);
      await conn.query('COMMIT');
      result.committed += 1;
    } else if (r < 0.7) {
      await conn.query(`UPDATE \`${db}\`.items SET price = price + 1, note = ? WHERE k = ?`, [
        `upd ${i}`,
        int(1000),
      ]);
      result.committed += 1;
    } else if (r < 0.8) {
      await conn.query(`DELETE FROM \`${db}\`.items WHERE k = ? LIMIT 2`, [int(1000)]);
      result.committed += 1;
    } else if (r < 0.9) {
      await conn.query(`INSERT INTO \`${db}\`.events (kind, payload, amount, ok) VALUES (?, ?, ?, ?)`, [
        ['a', 'b', 'c'][int(3)],
        JSON.stringify({ i, w: word(), list: [int(10), int(10)], nested: { ok: int(2) === 1 } }),
        rand() * 1000,
        int(2),
      ]);
      result.committed += 1;
    } else if (r < 0.95) {
      await conn.query('BEGIN');
      await conn.query(`INSERT INTO \`${db}\`.items (k, name) VALUES (?, 'rolled back')`, [int(1000)]);
      await conn.query('ROLLBACK');
      result.rolledBack += 1;
    } else {
      // modulo a prime: plain doubling overflows BIGINT after about 62 runs
      await conn.query(
        `UPDATE \`${db}\`.counters SET n = MOD(n * 2 + 1, 1000000007) WHERE name IN ('c0', 'c1')`,
      );
      result.committed += 1;
    }
  }
  while (flushAt.length > 0) {
    flushAt.shift();
    await conn.query('FLUSH BINARY LOGS');
    result.flushes += 1;
  }
  return result;

  async function bigTransaction(i: number): Promise<void> {
    const rowBytes = 48 * 1024;
    const perStatement = 16; // ~768 KiB per INSERT, well under max_allowed_packet
    let sent = 0;
    let row = 0;
    await conn.query('BEGIN');
    while (sent < bigBytes) {
      const values: Buffer[][] = [];
      for (let j = 0; j < perStatement && sent < bigBytes; j++) {
        const data = Buffer.alloc(rowBytes);
        const start = (row * 4099 + i) % (block.length - rowBytes);
        block.copy(data, 0, start, start + rowBytes);
        data.writeUInt32LE(row, 0);
        values.push([data]);
        sent += rowBytes;
        row += 1;
      }
      await conn.query(`INSERT INTO \`${db}\`.blobs (data) VALUES ?`, [values]);
    }
    await conn.query(`UPDATE \`${db}\`.counters SET n = n + 1 WHERE name = 'c3'`);
    await conn.query('COMMIT');
    result.committed += 1;
    result.bigTransactions += 1;
    result.bigBytes += sent;
  }
}
