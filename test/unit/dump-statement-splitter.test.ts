import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DumpStatementSplitter,
  classifyStatement,
  splitDumpStatements,
  type DumpStatement,
} from '../../src/restore/load/dump-statement-splitter.js';

// An excerpt of real `mariadb-dump 10.19` (MariaDB 10.11.19) output with --master-data=2 --gtid
// --routines --events --triggers --hex-blob: sandbox line, header SETs, CREATE DATABASE/USE, a
// table (multi-line CREATE, LOCK, DISABLE KEYS, an INSERT with one row per line and tricky
// strings, ENABLE KEYS, UNLOCK), a trigger in a DELIMITER ;; block, a view placeholder, an event,
// a function, the final view, the footer.
const MARIADB_DUMP =
  [
    '/*M!999999\\- enable the sandbox mode */ ',
    '-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)',
    '--',
    '-- Host: localhost    Database: shop',
    '-- ------------------------------------------------------',
    '-- Server version\t10.11.19-MariaDB-0+deb12u1-log',
    '',
    '/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;',
    '/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;',
    '/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;',
    '/*!40101 SET NAMES utf8mb4 */;',
    '/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;',
    "/*!40103 SET TIME_ZONE='+00:00' */;",
    '/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;',
    '/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;',
    "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;",
    '/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;',
    '',
    '--',
    '-- Current Database: `shop`',
    '--',
    '',
    'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */;',
    '',
    'USE `shop`;',
    '--',
    '',
    'DROP TABLE IF EXISTS `customers`;',
    '/*!40101 SET @saved_cs_client     = @@character_set_client */;',
    '/*!40101 SET character_set_client = utf8mb4 */;',
    'CREATE TABLE `customers` (',
    '  `id` int(11) NOT NULL AUTO_INCREMENT,',
    '  `name` varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci DEFAULT NULL,',
    '  `note` text DEFAULT NULL,',
    '  PRIMARY KEY (`id`),',
    '  KEY `k_name` (`name`)',
    ') ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci;',
    '/*!40101 SET character_set_client = @saved_cs_client */;',
    '',
    '--',
    '-- Dumping data for table `customers`',
    '--',
    '',
    'LOCK TABLES `customers` WRITE;',
    '/*!40000 ALTER TABLE `customers` DISABLE KEYS */;',
    'INSERT INTO `customers` VALUES',
    "(1,'Zoë','line1\\nline2; DROP TABLE x; -- not a comment'),",
    "(2,'日本語','tab\tquote\\'dq\\\"bs\\\\'),",
    "(3,'emoji 🎉',NULL);",
    '/*!40000 ALTER TABLE `customers` ENABLE KEYS */;',
    'UNLOCK TABLES;',
    '',
    '/*!50003 SET @saved_cs_client      = @@character_set_client */ ;',
    '/*!50003 SET @saved_cs_results     = @@character_set_results */ ;',
    '/*!50003 SET @saved_col_connection = @@collation_connection */ ;',
    '/*!50003 SET character_set_client  = utf8mb4 */ ;',
    '/*!50003 SET character_set_results = utf8mb4 */ ;',
    '/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;',
    '/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;',
    "/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;",
    'DELIMITER ;;',
    "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER trg_orders_ai AFTER INSERT ON orders FOR EACH ROW BEGIN INSERT INTO audit (msg) VALUES (CONCAT('order ', NEW.id, ';')); END ",
    '*/;;',
    'DELIMITER ;',
    '/*!50003 SET sql_mode              = @saved_sql_mode */ ;',
    '/*!50003 SET character_set_client  = @saved_cs_client */ ;',
    '/*!50003 SET character_set_results = @saved_cs_results */ ;',
    '/*!50003 SET collation_connection  = @saved_col_connection */ ;',
    '--',
    '-- Temporary table structure for view `v_orders`',
    '--',
    '',
    'DROP TABLE IF EXISTS `v_orders`;',
    '/*!50001 DROP VIEW IF EXISTS `v_orders`*/;',
    'SET @saved_cs_client     = @@character_set_client;',
    'SET character_set_client = utf8mb4;',
    '/*!50001 CREATE VIEW `v_orders` AS SELECT',
    ' NULL AS `name`,',
    ' NULL AS `amount` */;',
    'SET character_set_client = @saved_cs_client;',
    '--',
    "-- Dumping events for database 'shop'",
    '--',
    '/*!50106 SET @save_time_zone= @@TIME_ZONE */ ;',
    '/*!50106 DROP EVENT IF EXISTS `ev_cleanup` */;',
    'DELIMITER ;;',
    '/*!50003 SET @saved_cs_client      = @@character_set_client */ ;;',
    '/*!50003 SET @saved_cs_results     = @@character_set_results */ ;;',
    '/*!50003 SET @saved_col_connection = @@collation_connection */ ;;',
    '/*!50003 SET character_set_client  = utf8mb4 */ ;;',
    '/*!50003 SET character_set_results = utf8mb4 */ ;;',
    '/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;;',
    '/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;;',
    "/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;;",
    '/*!50003 SET @saved_time_zone      = @@time_zone */ ;;',
    "/*!50003 SET time_zone             = 'SYSTEM' */ ;;",
    "/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT `ev_cleanup` ON SCHEDULE EVERY 1 DAY STARTS '2026-11-25 22:06:45' ON COMPLETION NOT PRESERVE DISABLE DO DELETE FROM audit WHERE id < 0 ",
    '*/ ;;',
    '/*!50003 SET time_zone             = @saved_time_zone */ ;;',
    '/*!50003 SET sql_mode              = @saved_sql_mode */ ;;',
    '/*!50003 SET character_set_client  = @saved_cs_client */ ;;',
    '/*!50003 SET character_set_results = @saved_cs_results */ ;;',
    '/*!50003 SET collation_connection  = @saved_col_connection */ ;;',
    'DELIMITER ;',
    '/*!50106 SET TIME_ZONE= @save_time_zone */ ;',
    '',
    '/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;',
    "/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION' */ ;",
    '/*!50003 DROP FUNCTION IF EXISTS `twice` */;',
    '/*!50003 SET @saved_cs_client      = @@character_set_client */ ;',
    '/*!50003 SET @saved_cs_results     = @@character_set_results */ ;',
    '/*!50003 SET @saved_col_connection = @@collation_connection */ ;',
    '/*!50003 SET character_set_client  = utf8mb4 */ ;',
    '/*!50003 SET character_set_results = utf8mb4 */ ;',
    '/*!50003 SET collation_connection  = utf8mb4_general_ci */ ;',
    'DELIMITER ;;',
    'CREATE DEFINER=`root`@`localhost` FUNCTION `twice`(x INT) RETURNS int(11)',
    '    DETERMINISTIC',
    'RETURN x * 2',
    ';;',
    'DELIMITER ;',
    '/*!50003 SET sql_mode              = @saved_sql_mode */ ;',
    '/*!50003 SET character_set_client  = @saved_cs_client */ ;',
    '/*!50003 SET character_set_results = @saved_cs_results */ ;',
    '/*!50003 SET collation_connection  = @saved_col_connection */ ;',
    '',
    '--',
    '-- Final view structure for view `v_orders`',
    '--',
    '',
    '/*!50001 DROP VIEW IF EXISTS `v_orders`*/;',
    '/*!50001 SET @saved_cs_client          = @@character_set_client */;',
    '/*!50001 SET @saved_cs_results         = @@character_set_results */;',
    '/*!50001 SET @saved_col_connection     = @@collation_connection */;',
    '/*!50001 SET character_set_client      = utf8mb4 */;',
    '/*!50001 SET character_set_results     = utf8mb4 */;',
    '/*!50001 SET collation_connection      = utf8mb4_general_ci */;',
    '/*!50001 CREATE ALGORITHM=UNDEFINED */',
    '/*!50013 DEFINER=`root`@`localhost` SQL SECURITY DEFINER */',
    '/*!50001 VIEW `v_orders` AS select `c`.`name` AS `name`,`o`.`amount` AS `amount` from (`orders` `o` join `customers` `c` on(`c`.`id` = `o`.`customer_id`)) */;',
    '/*!50001 SET character_set_client      = @saved_cs_client */;',
    '/*!50001 SET character_set_results     = @saved_cs_results */;',
    '/*!50001 SET collation_connection      = @saved_col_connection */;',
    '-- The deferred gtid setting for slave corresponding to the master-data CHANGE-MASTER follows',
    '',
    '-- Preferably use GTID to start replication from GTID position:',
    '',
    "-- SET GLOBAL gtid_slave_pos='0-757401-21';",
    '/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;',
    '',
    '/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;',
    '/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;',
    '/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;',
    '/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;',
    '/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;',
    '/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;',
    '/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;',
  ].join('\n') + '\n';

/** One-shot split of `input`. */
function splitAll(input: Buffer): DumpStatement[] {
  const s = new DumpStatementSplitter();
  return [...s.push(input), ...s.end()];
}

/** Split of `input` in the given chunks. */
function splitChunks(chunks: Buffer[]): DumpStatement[] {
  const s = new DumpStatementSplitter();
  const out: DumpStatement[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}

/** Comparable form: kind, line, table/database, hex of the bytes. */
const plain = (list: DumpStatement[]): string[] =>
  list.map((s) => `${s.kind}@${s.line}:${s.table ?? ''}:${s.database ?? ''}:${s.sql.toString('hex')}`);

/** Asserts that every two-chunk split and the one-byte-chunk split give the one-shot result. */
function assertSplitInvariant(input: Buffer): DumpStatement[] {
  const whole = splitAll(input);
  const expected = plain(whole);
  for (let cut = 0; cut <= input.length; cut++) {
    assert.deepEqual(
      plain(splitChunks([input.subarray(0, cut), input.subarray(cut)])),
      expected,
      `cut at ${cut}`,
    );
  }
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  assert.deepEqual(plain(splitChunks(bytes)), expected, 'one-byte chunks');
  return whole;
}

const texts = (list: DumpStatement[]): string[] => list.map((s) => s.sql.toString('utf8'));

describe('DumpStatementSplitter on real mariadb-dump output', () => {
  const input = Buffer.from(MARIADB_DUMP, 'utf8');

  it('yields every statement with its kind, first line and table', () => {
    const all = splitAll(input).filter((s) => s.kind !== 'comment');
    const summary = all.map(
      (s) => `${s.line} ${s.kind}${s.table ? ` ${s.table}` : ''}${s.database ? ` ${s.database}` : ''}`,
    );
    assert.deepEqual(summary.slice(0, 12), [
      '1 sandbox',
      '8 session',
      '9 session',
      '10 session',
      '11 session',
      '12 session',
      '13 session',
      '14 session',
      '15 session',
      '16 session',
      '17 session',
      '23 create-database shop',
    ]);
    assert.deepEqual(summary.slice(12, 24), [
      '25 use shop',
      '28 drop-table customers',
      '29 session',
      '30 session',
      '31 create-table customers',
      '38 session',
      '44 lock-tables',
      '45 disable-keys customers',
      '46 insert customers',
      '50 enable-keys customers',
      '51 unlock-tables',
      '53 session',
    ]);
    const kinds = new Map<string, number>();
    for (const s of all) kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(kinds), {
      sandbox: 1,
      session: 74,
      'create-database': 1,
      use: 1,
      'drop-table': 2,
      'create-table': 1,
      'lock-tables': 1,
      'disable-keys': 1,
      insert: 1,
      'enable-keys': 1,
      'unlock-tables': 1,
      delimiter: 6,
      routine: 5,
      view: 4,
    });
  });

  it('keeps statement bytes exactly, without the delimiter', () => {
    const all = splitAll(input);
    const insert = all.find((s) => s.kind === 'insert')!;
    assert.equal(
      insert.sql.toString('utf8'),
      [
        'INSERT INTO `customers` VALUES',
        "(1,'Zoë','line1\\nline2; DROP TABLE x; -- not a comment'),",
        "(2,'日本語','tab\tquote\\'dq\\\"bs\\\\'),",
        "(3,'emoji 🎉',NULL)",
      ].join('\n'),
    );
    const create = all.find((s) => s.kind === 'create-table')!;
    assert.ok(
      create.sql.toString().startsWith('CREATE TABLE `customers` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,'),
    );
    assert.ok(create.sql.toString().endsWith('COLLATE=latin1_swedish_ci'));
    const trigger = all.find((s) => s.kind === 'routine' && s.sql.includes('TRIGGER'))!;
    assert.match(trigger.sql.toString(), /^\/\*!50003 CREATE\*\/ .* END \n\*\/$/s);
    assert.ok(trigger.sql.includes("CONCAT('order ', NEW.id, ';')"));
    const fn = all.find((s) => s.kind === 'routine' && s.sql.includes('FUNCTION `twice`'))!;
    assert.equal(
      fn.sql.toString(),
      'CREATE DEFINER=`root`@`localhost` FUNCTION `twice`(x INT) RETURNS int(11)\n    DETERMINISTIC\nRETURN x * 2',
    );
    const finalView = all.filter((s) => s.kind === 'view').at(-1)!;
    assert.ok(
      finalView.sql.toString().startsWith('/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER='),
    );
    assert.ok(texts(all).includes("/*!40103 SET TIME_ZONE='+00:00' */"));
  });

  it('gives the same statements however the input is cut into chunks', () => {
    assertSplitInvariant(input);
  });

  it('splitDumpStatements streams the same statements', async () => {
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < input.length; i += 7) yield input.subarray(i, i + 7);
    }
    const out: DumpStatement[] = [];
    for await (const s of splitDumpStatements(chunks())) out.push(s);
    assert.deepEqual(plain(out), plain(splitAll(input)));
  });
});

describe('DumpStatementSplitter on hand-written tricky input', () => {
  it('finds delimiters only outside strings, identifiers and comments', () => {
    const input = Buffer.from(
      [
        "UPDATE t SET a = 'x;y', b = \"q;\\\";\", `c;d` = 1 /* ; */ WHERE e = 'it''s;'; SELECT 1 -- trailing; comment",
        '   ;',
        '# a hash comment; not a statement',
        'CREATE TABLE t2 (a INT) # comment; here',
        ';SET @x = 1;SET @y = 2;',
        "INSERT INTO t VALUES (1,'a'); -- not the fast path",
        "UPDATE t SET a='multi",
        "line; string' WHERE 1",
        ';',
      ].join('\n'),
    );
    const all = assertSplitInvariant(input).filter((s) => s.kind !== 'comment');
    assert.deepEqual(texts(all), [
      "UPDATE t SET a = 'x;y', b = \"q;\\\";\", `c;d` = 1 /* ; */ WHERE e = 'it''s;'",
      'SELECT 1 -- trailing; comment',
      'CREATE TABLE t2 (a INT) # comment; here',
      'SET @x = 1',
      'SET @y = 2',
      "INSERT INTO t VALUES (1,'a')",
      "UPDATE t SET a='multi\nline; string' WHERE 1",
    ]);
    assert.deepEqual(
      all.map((s) => s.line),
      [1, 1, 4, 5, 5, 6, 7],
    );
  });

  it('follows DELIMITER lines and keeps ; inside a routine body', () => {
    const input = Buffer.from(
      [
        'DELIMITER $$',
        "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT '$$'; END$$",
        'delimiter ;;',
        '/*!50003 CREATE*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; */;;',
        'DELIMITER ;',
        'SELECT 2;',
      ].join('\n'),
    );
    const all = assertSplitInvariant(input);
    assert.deepEqual(
      all.map((s) => `${s.kind}:${s.sql.toString()}`),
      [
        'delimiter:DELIMITER $$',
        "routine:CREATE PROCEDURE p() BEGIN SELECT 1; SELECT '$$'; END",
        'delimiter:delimiter ;;',
        'routine:/*!50003 CREATE*/ /*!50003 TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; */',
        'delimiter:DELIMITER ;',
        'other:SELECT 2',
      ],
    );
  });

  it('keeps binary bytes (not UTF-8) and CRLF line ends, and a last statement without delimiter', () => {
    const input = Buffer.concat([
      Buffer.from("INSERT INTO `b` VALUES (1,'"),
      Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x27, 0x5c, 0x27, 0x3b]), // \xff\xfe\0\x80 ' \' ;
      Buffer.from("'),\r\n(2,'x');\r\nUPDATE b SET v = 0x00\r\n"),
    ]);
    // The first row's string ends at the quote escaped by the dump: 0x27 0x5c 0x27 is '\'' -> the
    // string is closed by the byte after ;. Use the fast path's view: one INSERT, rows per line.
    const all = assertSplitInvariant(input);
    assert.equal(all.length, 2);
    assert.equal(all[0]!.kind, 'insert');
    assert.equal(all[0]!.table, 'b');
    assert.deepEqual(all[0]!.sql, input.subarray(0, input.indexOf(Buffer.from(');\r\n')) + 1));
    assert.equal(all[1]!.sql.toString(), 'UPDATE b SET v = 0x00');
    assert.equal(all[1]!.line, 3);
  });

  it('falls back to scanning when an INSERT does not look like dump output', () => {
    const input = Buffer.from(
      ['INSERT INTO t VALUES', "(1,'a'),", "(2,'b;", "c');", 'INSERT INTO `x`.`y z` (a) SELECT 1;'].join(
        '\n',
      ) + '\n',
    );
    const all = assertSplitInvariant(input);
    assert.deepEqual(
      all.map((s) => `${s.kind}@${s.line}:${s.table}:${s.sql.toString()}`),
      [
        "insert@1:t:INSERT INTO t VALUES\n(1,'a'),\n(2,'b;\nc')",
        'insert@5:y z:INSERT INTO `x`.`y z` (a) SELECT 1',
      ],
    );
  });

  it('takes a single-line extended INSERT (mysqldump, older mariadb-dump) on the fast path', () => {
    const input = Buffer.from("INSERT INTO `t` VALUES (1,'a;'),(2,'b');\nINSERT INTO `t` VALUES (3,'c');\n");
    const all = assertSplitInvariant(input);
    assert.deepEqual(texts(all), [
      "INSERT INTO `t` VALUES (1,'a;'),(2,'b')",
      "INSERT INTO `t` VALUES (3,'c')",
    ]);
    assert.deepEqual(
      all.map((s) => s.line),
      [1, 2],
    );
  });
});

describe('classifyStatement', () => {
  const kind = (sql: string): string => {
    const c = classifyStatement(Buffer.from(sql));
    return [c.kind, c.table ?? c.database].filter((x) => x !== undefined).join(' ');
  };

  it('names the kinds a parallel load treats differently', () => {
    assert.equal(
      kind("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5'"),
      'global-set',
    );
    assert.equal(kind('SET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN'), 'session');
    assert.equal(kind('/*!40101 SET NAMES utf8mb4 */'), 'session');
    assert.equal(kind('/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */'), 'session');
    assert.equal(kind('USE `we``ird db`'), 'use we`ird db');
    assert.equal(
      kind('CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */'),
      'create-database shop',
    );
    assert.equal(kind('DROP TABLE IF EXISTS `a`.`b`'), 'drop-table b');
    assert.equal(kind('CREATE TABLE IF NOT EXISTS `general_log` (\n `a` int)'), 'create-table general_log');
    assert.equal(kind('LOCK TABLES `t` WRITE'), 'lock-tables');
    assert.equal(kind('UNLOCK TABLES'), 'unlock-tables');
    assert.equal(kind('/*!40000 ALTER TABLE `tab;le` DISABLE KEYS */'), 'disable-keys tab;le');
    assert.equal(kind('/*!40000 ALTER TABLE `t` ENABLE KEYS */'), 'enable-keys t');
    assert.equal(kind('ALTER TABLE `t` ADD KEY k (a)'), 'other');
    assert.equal(kind('INSERT  IGNORE INTO t VALUES (1)'), 'insert t');
    assert.equal(kind('REPLACE INTO `t` VALUES (1)'), 'insert t');
    assert.equal(kind('commit'), 'transaction');
    assert.equal(
      kind(
        '/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`r`@`l` SQL SECURITY DEFINER */\n/*!50001 VIEW `v` AS select 1 */',
      ),
      'view',
    );
    assert.equal(kind('/*!50001 DROP VIEW IF EXISTS `v`*/'), 'view');
    assert.equal(
      kind(
        '/*!50106 CREATE*/ /*!50117 DEFINER=`root`@`localhost`*/ /*!50106 EVENT `e` ON SCHEDULE EVERY 1 DAY DO SELECT 1 */',
      ),
      'routine',
    );
    assert.equal(
      kind('CREATE DEFINER=`root`@`localhost` PROCEDURE `p`(IN a INT)\nBEGIN SELECT 1; END'),
      'routine',
    );
    assert.equal(kind('/*!50003 DROP FUNCTION IF EXISTS `f` */'), 'routine');
  });
});
