/**
 * A workload that looks like a user's database, not like sysbench, for the exact-restore tests.
 *
 * `createUserSchema` builds two schemas whose names need quoting (`app` and `ünï code`): many column
 * types (JSON, BLOB, utf8mb4 text with emoji, DECIMAL, DATETIME(6) / TIMESTAMP(3) / TIME(2), BIT,
 * ENUM / SET, virtual and stored generated columns), a table without a primary key, foreign keys
 * with ON DELETE CASCADE, a partitioned table, triggers, a view, a procedure and a function with
 * comments in their bodies, an event, and table / column names with backticks, spaces and unicode.
 *
 * `runPhase(n)` runs phase n (1..PHASES) of mixed DML on three sessions: one in binlog_format=ROW,
 * one in binlog_format=STATEMENT with a non-UTC time_zone, user variables, RAND() and a temporary
 * table, and (from phase 2) one in gtid_domain_id 1. DDL runs between phases (`runDdlBefore(n)`):
 * new columns with COMMENT and DEFAULT text, new triggers and routines with comments (created after
 * the backup), a changed view, a new event, partition changes. String values carry every shape that
 * can confuse a statement splitter working on `mariadb-binlog` text (SPLITTER_STRINGS): `/*!*\/;`
 * followed by a newline, `DELIMITER ;;` and `# at 123` at a line start, quotes, backslashes, NUL
 * bytes (escaped and raw), CR LF, emoji. Every phase ends with a marker transaction in domain 0 on
 * the ROW session, whose GTID is the phase boundary.
 *
 * `snapshotState` records what a restore must give back exactly: CHECKSUM TABLE of every table and
 * the SHOW CREATE text of every database, table, view, trigger, routine and event.
 */
import type { Connection } from 'mysql2/promise';

/** The schemas the workload writes (both need quoting: `ünï code` has a space and non-ASCII letters). */
export const USER_DATABASES = ['app', 'ünï code'] as const;

/** Phases of DML after the backup. */
export const PHASES = 4;

/** Backquotes an identifier. */
export const qi = (s: string): string => `\`${s.replace(/`/g, '``')}\``;

/**
 * An SQL string literal that keeps every byte of `s` raw except `'` and `\` (escaped): newlines,
 * CR, NUL and `/*!*\/;` reach the server, and so the binlog's statement text, as they are.
 */
export const lit = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Values that break a splitter of `mariadb-binlog` text, or a client that reads it line by line. */
export const SPLITTER_STRINGS: readonly string[] = [
  'x/*!*/;\ny',
  'a/*!*/;\nDELIMITER ;;\nb;;\nDELIMITER /*!*/;\nc',
  'line one\n# at 123\n#700101  0:00:00 server id 1  end_log_pos 4 CRC32 0x00000000 \tGTID 0-1-1 trans\nlast',
  'DELIMITER ;;\nSELECT 1;;',
  "it's \"quoted\" `ticked` and ''doubled''",
  'back\\slash\\n not a newline \\\\ and a trailing backslash\\',
  'nul\0inside\0twice',
  'crlf\r\nline\r\n',
  'emoji 😀👍🏽 and ümlauts, 漢字, עברית',
  '/*!40101 SET NAMES latin1 */;\n/*!*/;',
  '-- a line comment\n/* a block comment */ # hash',
];

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

const U = qi(USER_DATABASES[1]);
const WEIRD = qi('we`ird tab le');

/** The schema and the data before the backup; `conn` in binlog_format=ROW. */
export async function createUserSchema(conn: Connection): Promise<void> {
  const q = async (sql: string): Promise<void> => {
    await conn.query(sql);
  };
  await q('CREATE DATABASE app CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
  await q(`CREATE DATABASE ${U} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  await q(
    `CREATE TABLE app.customers (
      id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      name VARCHAR(255) NOT NULL COMMENT 'display name; may hold emoji 😀',
      email VARCHAR(190) NOT NULL,
      profile JSON,
      created DATETIME(6) NOT NULL,
      updated TIMESTAMP(3) NULL DEFAULT NULL,
      tier ENUM('free','pro','enterprise') NOT NULL DEFAULT 'free',
      flags SET('beta','vip','blocked') NOT NULL DEFAULT '',
      active BIT(1) NOT NULL DEFAULT b'1',
      mask BIT(10) NOT NULL DEFAULT b'0000000101',
      balance DECIMAL(15,4) NOT NULL DEFAULT 0,
      name_len INT AS (CHAR_LENGTH(name)) VIRTUAL,
      email_domain VARCHAR(190) AS (SUBSTRING_INDEX(email, '@', -1)) STORED,
      UNIQUE KEY email (email),
      KEY email_domain (email_domain)
    ) ENGINE=InnoDB COMMENT='customers /* of the shop */'`,
  );
  await q(
    `CREATE TABLE app.orders (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      customer_id INT NOT NULL,
      amount DECIMAL(12,2) NOT NULL,
      placed DATETIME(6) NOT NULL,
      duration TIME(2) NULL,
      note TEXT,
      attachment BLOB,
      CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES app.customers (id) ON DELETE CASCADE
    ) ENGINE=InnoDB`,
  );
  await q(
    `CREATE TABLE app.\`order items\` (
      order_id BIGINT UNSIGNED NOT NULL,
      sku VARCHAR(32) NOT NULL,
      qty SMALLINT NOT NULL,
      price DECIMAL(10,2) NOT NULL,
      PRIMARY KEY (order_id, sku),
      CONSTRAINT \`fk items→orders\` FOREIGN KEY (order_id) REFERENCES app.orders (id) ON DELETE CASCADE
    ) ENGINE=InnoDB`,
  );
  // no primary key: row events are matched on every column
  await q(
    `CREATE TABLE app.events_log (
      at DATETIME(6) NOT NULL,
      kind VARCHAR(20) NOT NULL,
      payload MEDIUMTEXT,
      raw VARBINARY(255)
    ) ENGINE=InnoDB`,
  );
  await q(
    `CREATE TABLE app.metrics (
      id INT NOT NULL,
      day DATE NOT NULL,
      value DOUBLE NOT NULL,
      PRIMARY KEY (id, day)
    ) ENGINE=InnoDB
    PARTITION BY RANGE (YEAR(day)) (
      PARTITION p2023 VALUES LESS THAN (2024),
      PARTITION p2024 VALUES LESS THAN (2025),
      PARTITION pmax VALUES LESS THAN MAXVALUE
    )`,
  );
  await q(
    `CREATE TABLE app.audit (
      id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
      customer_id INT NOT NULL,
      old_balance DECIMAL(15,4),
      new_balance DECIMAL(15,4),
      note VARCHAR(200)
    ) ENGINE=InnoDB`,
  );
  await q(
    `CREATE TABLE ${U}.${WEIRD} (
      \`kéy\` INT NOT NULL PRIMARY KEY,
      \`väl ue\` VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
      \`select\` TINYINT
    ) ENGINE=InnoDB`,
  );
  await q(
    `CREATE TRIGGER app.customers_au AFTER UPDATE ON app.customers FOR EACH ROW
    BEGIN
      /* audit every balance change; keep this comment */
      IF NEW.balance <> OLD.balance THEN
        -- a line comment inside the trigger
        INSERT INTO app.audit (customer_id, old_balance, new_balance, note)
        VALUES (NEW.id, OLD.balance, NEW.balance, CONCAT('changed by ', 'trigger'));
      END IF;
    END`,
  );
  await q(
    `CREATE VIEW app.customer_totals AS
      SELECT c.id, c.name, COUNT(o.id) AS orders, COALESCE(SUM(o.amount), 0) AS total
      FROM app.customers c LEFT JOIN app.orders o ON o.customer_id = c.id GROUP BY c.id, c.name`,
  );
  await q(
    `CREATE VIEW ${U}.\`v\`\`iew ü\` AS SELECT \`kéy\`, \`väl ue\` FROM ${U}.${WEIRD} WHERE \`select\` = 1`,
  );
  await q(
    `CREATE PROCEDURE app.add_order(IN cid INT, IN amt DECIMAL(12,2))
    COMMENT 'adds an order (a comment of the routine)'
    BEGIN
      /* block comment in a procedure body */
      -- line comment in a procedure body
      INSERT INTO app.orders (customer_id, amount, placed, note) VALUES (cid, amt, NOW(6), 'via add_order');
    END`,
  );
  await q(
    `CREATE FUNCTION app.customer_total(cid INT) RETURNS DECIMAL(14,2) DETERMINISTIC READS SQL DATA
    COMMENT 'sum of a customer''s orders'
    BEGIN
      /* the function's comment */
      DECLARE t DECIMAL(14,2);
      SELECT COALESCE(SUM(amount), 0) INTO t FROM app.orders WHERE customer_id = cid; -- trailing comment
      RETURN t;
    END`,
  );
  await q(
    `CREATE EVENT app.\`nightly purge\` ON SCHEDULE EVERY 1 DAY STARTS '2031-01-01 03:00:00'
    ON COMPLETION PRESERVE DISABLE COMMENT 'purge old log rows /* kept */'
    DO DELETE FROM app.events_log WHERE kind = 'old'`,
  );
  const rand = prng(1);
  for (let i = 1; i <= 30; i++) {
    await q(
      `INSERT INTO app.customers (name, email, profile, created, updated, tier, flags, active, mask, balance) VALUES (` +
        `${lit(`customer ${i} ${i % 5 === 0 ? '😀' : 'é'}`)}, ${lit(`c${i}@example${i % 3}.org`)}, ` +
        `${lit(JSON.stringify({ i, tags: ['a', 'b'], nested: { x: i / 3 } }))}, ` +
        `'2024-0${1 + (i % 9)}-1${i % 10} 12:34:56.${String(123456 + i).slice(0, 6)}', '2024-02-03 04:05:06.789', ` +
        `${lit(['free', 'pro', 'enterprise'][i % 3]!)}, ${lit(['', 'beta', 'vip,beta'][i % 3]!)}, b'${i % 2}', ` +
        `b'${(i * 37) % 1024 > 0 ? ((i * 37) % 1024).toString(2) : '0'}', ${(rand() * 1000).toFixed(4)})`,
    );
  }
  for (let i = 1; i <= 30; i++) {
    await q(
      `INSERT INTO app.orders (customer_id, amount, placed, duration, note, attachment) VALUES (` +
        `${1 + (i % 30)}, ${(rand() * 500).toFixed(2)}, '2024-05-0${1 + (i % 9)} 10:00:00.${100000 + i}', ` +
        `'${String(i % 24).padStart(2, '0')}:15:30.${String(i % 100).padStart(2, '0')}', ${lit(`order ${i}`)}, ` +
        `${i % 4 === 0 ? 'NULL' : `X'${Buffer.from(Array.from({ length: 64 }, (_, k) => (k * i) % 256)).toString('hex')}'`})`,
    );
    await q(`INSERT INTO app.\`order items\` VALUES (${i}, 'sku-${i}', ${i % 7}, ${(i * 1.25).toFixed(2)})`);
  }
  for (let i = 0; i < 20; i++) {
    await q(
      `INSERT INTO app.metrics VALUES (${i}, '${2023 + (i % 3)}-0${1 + (i % 9)}-15', ${(rand() * 1e6).toFixed(3)})`,
    );
    await q(
      `INSERT INTO app.events_log (at, kind, payload, raw) VALUES (NOW(6), 'boot', ${lit(`row ${i}`)}, X'00ff${i.toString(16).padStart(2, '0')}')`,
    );
  }
  for (let i = 0; i < 10; i++) {
    await q(`INSERT INTO ${U}.${WEIRD} VALUES (${i}, ${lit(`wert ${i} ✓`)}, ${i % 2})`);
  }
}

/** The three sessions of a phase. */
export interface WorkloadSessions {
  /** binlog_format=ROW (the server default here), domain 0. */
  row: Connection;
  /** binlog_format=STATEMENT, time_zone '+05:30'. */
  statement: Connection;
  /** gtid_domain_id = 1, binlog_format=ROW. */
  domain1: Connection;
}

/** Sets the session variables of the three sessions (call once, after createUserSchema). */
export async function prepareSessions(s: WorkloadSessions): Promise<void> {
  // app is the default database of the sessions (temporary tables are created there)
  for (const c of [s.row, s.statement, s.domain1]) await c.query('USE app');
  await s.statement.query("SET SESSION binlog_format = 'STATEMENT'");
  await s.statement.query("SET SESSION time_zone = '+05:30'");
  await s.domain1.query('SET SESSION gtid_domain_id = 1');
}

/** DDL between phase n-1 and phase n (n = 1..PHASES), on the ROW session. */
export async function runDdlBefore(n: number, s: WorkloadSessions): Promise<void> {
  const q = async (sql: string): Promise<void> => {
    await s.row.query(sql);
  };
  if (n === 2) {
    await q(
      `ALTER TABLE app.customers ADD COLUMN nickname VARCHAR(64) NOT NULL DEFAULT 'n/a' COMMENT 'added after the backup'`,
    );
    // a trigger and a procedure with comments, created after the backup (`--applier client` strips
    // them without --comments)
    await q(
      `CREATE TRIGGER app.orders_bi BEFORE INSERT ON app.orders FOR EACH ROW
      BEGIN
        /* normalise the note; this comment must survive the restore */
        -- so must this one
        SET NEW.note = COALESCE(NEW.note, 'no note'); # and this one
      END`,
    );
    await q(
      `CREATE PROCEDURE app.\`raise tier\`(IN cid INT)
      COMMENT 'raises a customer''s tier /* not a comment */'
      BEGIN
        /* a multi-line
           comment in the body */
        UPDATE app.customers SET tier = 'pro' WHERE id = cid AND tier = 'free'; -- trailing comment
      END`,
    );
    await q(
      `CREATE EVENT app.\`weekly report\` ON SCHEDULE EVERY 1 WEEK STARTS '2031-06-01 00:00:00'
      DISABLE COMMENT 'added after the backup' DO INSERT INTO app.events_log (at, kind) VALUES (NOW(6), 'report')`,
    );
  }
  if (n === 3) {
    await q(`ALTER TABLE app.metrics REORGANIZE PARTITION pmax INTO (
      PARTITION p2025 VALUES LESS THAN (2026), PARTITION pmax VALUES LESS THAN MAXVALUE)`);
    await q(`ALTER TABLE app.\`order items\` ADD INDEX \`by sku\` (sku)`);
    await q(
      `CREATE OR REPLACE VIEW app.customer_totals AS
        SELECT c.id, c.name, c.nickname, COUNT(o.id) AS orders, COALESCE(SUM(o.amount), 0) AS total
        FROM app.customers c LEFT JOIN app.orders o ON o.customer_id = c.id GROUP BY c.id, c.name, c.nickname`,
    );
    await q(`DROP TRIGGER app.customers_au`);
    await q(
      `CREATE TRIGGER app.customers_au AFTER UPDATE ON app.customers FOR EACH ROW
      BEGIN
        /* version 2 of the audit trigger */
        IF NEW.balance <> OLD.balance OR NEW.tier <> OLD.tier THEN
          INSERT INTO app.audit (customer_id, old_balance, new_balance, note)
          VALUES (NEW.id, OLD.balance, NEW.balance, CONCAT('v2: ', OLD.tier, ' -> ', NEW.tier));
        END IF;
      END`,
    );
  }
  if (n === 4) {
    // the splitter-confusing shapes in DDL text: COMMENT, DEFAULT, routine and trigger bodies, a view
    await q(
      `ALTER TABLE app.events_log ADD COLUMN tricky VARCHAR(255) NOT NULL DEFAULT ${lit('d/*!*/;\n# at 4\nDELIMITER ;;\nz')} ` +
        `COMMENT ${lit('c/*!*/;\nDELIMITER ;;\n# at 99')}`,
    );
    await q(
      `CREATE PROCEDURE app.tricky_proc(IN k VARCHAR(20))
      COMMENT ${lit('p/*!*/;\nq')}
      BEGIN
        /* comment before a literal that holds the binlog delimiter */
        INSERT INTO app.events_log (at, kind, payload) VALUES (NOW(6), k, ${lit('body/*!*/;\nDELIMITER ;;\n# at 123\nend')});
      END`,
    );
    await q(
      `CREATE FUNCTION app.tricky_fn(x INT) RETURNS VARCHAR(100) DETERMINISTIC NO SQL
      RETURN CONCAT(${lit('f/*!*/;\n')}, x, ${lit('\n# at 5\nDELIMITER ;;')})`,
    );
    await q(
      `CREATE TRIGGER app.metrics_bi BEFORE INSERT ON app.metrics FOR EACH ROW
      BEGIN
        -- ${'keep: /*!*/; in a comment'}
        IF NEW.value < 0 THEN SET NEW.value = 0; END IF; /* clamps negative values */
      END`,
    );
    await q(
      `CREATE VIEW app.tricky_view AS SELECT ${lit('v/*!*/;\nDELIMITER ;;\n# at 7\nw')} AS s, COUNT(*) AS n FROM app.metrics`,
    );
  }
}

/**
 * Phase n (1..PHASES) of DML on the three sessions; ends with the marker transaction on the ROW
 * session and returns its GTID (`@@last_gtid`): the phase boundary.
 */
export async function runPhase(n: number, s: WorkloadSessions): Promise<string> {
  const rand = prng(100 + n);
  const int = (k: number): number => Math.floor(rand() * k);
  const strings = (i: number): string => SPLITTER_STRINGS[i % SPLITTER_STRINGS.length]!;
  const tricky = n >= 4; // phases 1-3 keep to ordinary values, 4 carries the splitter shapes (DML and DDL)
  const text = (i: number): string => (tricky ? strings(i) : `plain ${n}.${i} ‘quotes’ 'single' \\ back`);
  const R = async (sql: string): Promise<void> => {
    await s.row.query(sql);
  };
  const S = async (sql: string): Promise<void> => {
    await s.statement.query(sql);
  };

  // ROW session: new customers and orders in transactions, JSON updates, BLOBs with every byte value
  for (let t = 0; t < 6; t++) {
    await R('BEGIN');
    const email = `p${n}t${t}@row.example`;
    await R(
      `INSERT INTO app.customers (name, email, profile, created, tier, flags, balance) VALUES (` +
        `${lit(text(t))}, ${lit(email)}, ${lit(JSON.stringify({ phase: n, t, s: text(t) }))}, NOW(6), 'pro', 'vip', ${int(10000) / 100})`,
    );
    await R(
      `INSERT INTO app.orders (customer_id, amount, placed, duration, note, attachment) VALUES (` +
        `LAST_INSERT_ID(), ${int(100000) / 100}, NOW(6), '01:02:03.45', ${lit(text(t + 1))}, ` +
        `X'${Buffer.from(Array.from({ length: 256 }, (_, k) => (k + t) % 256)).toString('hex')}')`,
    );
    await R(
      `INSERT INTO app.\`order items\` VALUES (LAST_INSERT_ID(), 'sku-${n}-${t}', ${1 + int(5)}, ${int(10000) / 100})`,
    );
    await R(`COMMIT`);
  }
  await R(
    `UPDATE app.customers SET profile = JSON_SET(COALESCE(profile, '{}'), '$.phase', ${n}, '$.note', ${lit(text(7))}), ` +
      `balance = balance + ${n}.0625, updated = NOW(3), mask = mask ^ b'1111111111' WHERE id % 4 = ${n % 4}`,
  );
  await R(
    `INSERT INTO app.events_log (at, kind, payload, raw) VALUES (NOW(6), 'row', ${lit(text(2))}, X'00${n.toString(16).padStart(2, '0')}00')`,
  );
  await R(
    `INSERT INTO app.metrics VALUES (${100 + n}, '2024-0${n}-0${n}', ${n * 1.5}), (${200 + n}, '2023-12-31', -${n})`,
  );
  // a temporary table in ROW format (not logged itself; the INSERT ... SELECT is, as rows)
  await R('CREATE TEMPORARY TABLE tmp_row (k INT, v VARCHAR(100))');
  await R(`INSERT INTO tmp_row VALUES (1, ${lit(text(3))}), (2, ${lit(text(4))})`);
  await R(`INSERT INTO app.events_log (at, kind, payload) SELECT NOW(6), 'tmp-row', v FROM tmp_row`);
  await R('DROP TEMPORARY TABLE tmp_row');
  if (n === 3) await R(`DELETE FROM app.customers WHERE id = 3`); // cascades to orders and order items
  await R(
    `UPDATE ${U}.${WEIRD} SET \`väl ue\` = CONCAT(\`väl ue\`, ${lit(` +${n}`)}), \`select\` = 1 - \`select\` WHERE \`kéy\` < ${n * 2}`,
  );

  // STATEMENT session: user variables, a non-UTC time zone, RAND, INSERT_ID, a temporary table
  await S(`SET @who = ${lit(text(5))}, @n = ${n}, @at = NOW(6)`);
  await S(`INSERT INTO app.events_log (at, kind, payload, raw) VALUES (@at, 'stmt', @who, UNHEX('00FF10'))`);
  await S(`UPDATE app.customers SET balance = balance + @n * 2.5, updated = NOW(3) WHERE id % 5 = @n % 5`);
  await S(
    `INSERT INTO app.customers (name, email, created, updated, tier, balance) VALUES ` +
      `(${lit(text(6))}, 'p${n}@stmt.example', NOW(6), NOW(3), 'enterprise', 1.5)`,
  );
  await S(
    `INSERT INTO app.orders (customer_id, amount, placed, note) VALUES (LAST_INSERT_ID(), ROUND(RAND() * 1000, 2), ` +
      `CONVERT_TZ(NOW(6), '+05:30', '+00:00'), ${lit(text(8))})`,
  );
  await S(
    `INSERT INTO app.events_log (at, kind, payload, raw) VALUES (NOW(6), 'literal', ${lit(text(9))}, NULL)`,
  );
  await S(
    `INSERT INTO app.events_log (at, kind, payload, raw) VALUES (NOW(6), 'literal2', ${lit(text(10))}, NULL)`,
  );
  await S('CREATE TEMPORARY TABLE tmp_stmt (k INT PRIMARY KEY, v VARCHAR(255))');
  await S(`INSERT INTO tmp_stmt VALUES (1, ${lit(text(11))}), (2, @who)`);
  await S(
    `INSERT INTO app.events_log (at, kind, payload) SELECT NOW(6), 'tmp-stmt', v FROM tmp_stmt ORDER BY k`,
  );
  await S('DROP TEMPORARY TABLE tmp_stmt');
  if (n >= 2) await S(`CALL app.add_order(${n + 10}, ${n}.25)`);
  if (n >= 3) await S(`CALL app.\`raise tier\`(${n + 1})`);
  if (n === 4) await S(`CALL app.tricky_proc('proc-${n}')`);

  // domain 1 (from phase 2): writes of another GTID domain, interleaved with domain 0
  if (n >= 2) {
    for (let t = 0; t < 3; t++) {
      await s.domain1.query(
        `INSERT INTO app.metrics VALUES (${1000 + n * 10 + t}, '2024-06-${10 + t}', ${t * 0.5})`,
      );
    }
    await s.domain1.query(
      `INSERT INTO app.events_log (at, kind, payload, raw) VALUES (NOW(6), 'domain1', ${lit(text(12))}, NULL)`,
    );
  }
  // the marker: the last transaction of the phase, in domain 0
  await R(
    `INSERT INTO app.events_log (at, kind, payload, raw) VALUES (NOW(6), 'phase', 'end of phase ${n}', NULL)`,
  );
  const [[g]] = (await s.row.query('SELECT @@last_gtid AS g')) as unknown as [[{ g: string }]];
  return g.g;
}

/** What a restore must reproduce exactly. */
export interface SchemaState {
  /** CHECKSUM TABLE of every base table, `db.table` -> checksum. */
  checksums: Record<string, string>;
  /** `kind db.name` -> the SHOW CREATE row (without the trigger's `Created` time). */
  objects: Record<string, string>;
}

type Row = Record<string, unknown>;

/**
 * The state of the user databases: CHECKSUM TABLE of every table and the SHOW CREATE text of the
 * databases, tables, views, triggers, routines and events. A table's AUTO_INCREMENT counter is left
 * out of its SHOW CREATE TABLE (it is state, not definition).
 */
export async function snapshotState(
  conn: Connection,
  databases: readonly string[] = USER_DATABASES,
): Promise<SchemaState> {
  const rows = async (sql: string): Promise<Row[]> => ((await conn.query(sql)) as unknown as [Row[]])[0];
  const show = (r: Row | undefined, skip: string[] = []): string =>
    JSON.stringify(
      Object.fromEntries(
        Object.entries(r ?? {})
          .filter(([k]) => !skip.includes(k))
          .map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('hex') : v]),
      ),
    );
  const state: SchemaState = { checksums: {}, objects: {} };
  const inList = databases.map((d) => `'${d.replace(/'/g, "''")}'`).join(', ');
  for (const db of databases) {
    const [d] = await rows(`SHOW CREATE DATABASE ${qi(db)}`);
    state.objects[`database ${db}`] = show(d);
  }
  const tables = await rows(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, TABLE_TYPE AS type FROM information_schema.TABLES ` +
      `WHERE TABLE_SCHEMA IN (${inList}) ORDER BY 1, 2`,
  );
  for (const { db, t, type } of tables as { db: string; t: string; type: string }[]) {
    const name = `${qi(db)}.${qi(t)}`;
    if (type === 'VIEW') {
      state.objects[`view ${db}.${t}`] = show((await rows(`SHOW CREATE VIEW ${name}`))[0]);
      continue;
    }
    const [c] = await rows(`SHOW CREATE TABLE ${name}`);
    state.objects[`table ${db}.${t}`] = show({
      ...c,
      'Create Table': String(c?.['Create Table']).replace(/ AUTO_INCREMENT=\d+/, ''),
    });
    const [sum] = await rows(`CHECKSUM TABLE ${name}`);
    state.checksums[`${db}.${t}`] = String(sum?.['Checksum']);
  }
  const triggers = await rows(
    `SELECT TRIGGER_SCHEMA AS db, TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (${inList}) ORDER BY 1, 2`,
  );
  for (const { db, n } of triggers as { db: string; n: string }[]) {
    state.objects[`trigger ${db}.${n}`] = show((await rows(`SHOW CREATE TRIGGER ${qi(db)}.${qi(n)}`))[0], [
      'Created',
    ]);
  }
  const routines = await rows(
    `SELECT ROUTINE_SCHEMA AS db, ROUTINE_NAME AS n, ROUTINE_TYPE AS type FROM information_schema.ROUTINES ` +
      `WHERE ROUTINE_SCHEMA IN (${inList}) ORDER BY 1, 2, 3`,
  );
  for (const { db, n, type } of routines as { db: string; n: string; type: string }[]) {
    state.objects[`${type.toLowerCase()} ${db}.${n}`] = show(
      (await rows(`SHOW CREATE ${type} ${qi(db)}.${qi(n)}`))[0],
    );
  }
  const events = await rows(
    `SELECT EVENT_SCHEMA AS db, EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (${inList}) ORDER BY 1, 2`,
  );
  for (const { db, n } of events as { db: string; n: string }[]) {
    state.objects[`event ${db}.${n}`] = show((await rows(`SHOW CREATE EVENT ${qi(db)}.${qi(n)}`))[0]);
  }
  return state;
}
