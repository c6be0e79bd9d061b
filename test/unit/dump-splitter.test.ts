// DumpSplitter (src/backup): the parts cut from real mariadb-dump output, whatever the chunking of
// the input, and the hazards a line-based splitter meets (DELIMITER blocks, quoted newlines,
// strings that look like section comments, truncation).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DumpSplitError, DumpSplitter, type SplitPartInfo } from '../../src/backup/index.js';
import { PROJECT_ROOT } from '../support/run-cli.js';

const FIXTURE = readFileSync(join(PROJECT_ROOT, 'test/fixtures/dumps/user-like.sql'));

interface Part {
  info: SplitPartInfo;
  text: string;
}

/**
 * Splits `input` pushed in chunks of `chunkSizes(k)` bytes. With `reuse`, every chunk is a view of
 * one scratch buffer, overwritten once `push` returns (as the dump pipe's read buffer is).
 */
function split(input: Buffer, chunkSizes: (i: number) => number, chunkBytes?: number, reuse = false): Part[] {
  const parts: Part[] = [];
  let bufs: Buffer[] = [];
  let open = false;
  const splitter = new DumpSplitter(
    {
      startPart(info) {
        assert.equal(open, false, 'two parts open at once');
        open = true;
        parts.push({ info, text: '' });
        bufs = [];
      },
      write(b) {
        assert.ok(open, 'write outside a part');
        bufs.push(Buffer.from(b));
      },
      endPart() {
        assert.ok(open);
        open = false;
        parts[parts.length - 1]!.text = Buffer.concat(bufs).toString('utf8');
      },
    },
    chunkBytes !== undefined ? { chunkBytes } : {},
  );
  const scratch = Buffer.alloc(reuse ? input.length : 0);
  for (let i = 0, k = 0; i < input.length; k++) {
    const n = Math.max(1, chunkSizes(k));
    const piece = input.subarray(i, i + n);
    if (reuse) {
      piece.copy(scratch);
      splitter.push(scratch.subarray(0, piece.length));
      scratch.fill(0x23); // '#': whatever was kept without a copy would now read as garbage
    } else {
      splitter.push(piece);
    }
    i += n;
  }
  splitter.end();
  assert.equal(open, false, 'a part left open');
  return parts;
}

const whole = (): number => 1 << 30;
const label = (p: Part): string =>
  `${p.info.stage} ${p.info.database ?? '-'}.${p.info.table ?? '-'}${p.info.chunk !== undefined ? `#${p.info.chunk}` : ''}`;

describe('DumpSplitter on real mariadb-dump output (user-like schema)', () => {
  const parts = split(FIXTURE, whole);

  it('cuts it into pre, rows and post parts per schema, table, view and trigger set, in dump order', () => {
    assert.deepEqual(parts.map(label), [
      'pre app.-',
      'pre app.audit',
      'pre app.customer_totals',
      'pre app.customers',
      'rows app.customers#0',
      'post app.customers',
      'pre app.events_log',
      'rows app.events_log#0',
      'pre app.metrics',
      'rows app.metrics#0',
      'pre app.order items',
      'rows app.order items#0',
      'pre app.orders',
      'rows app.orders#0',
      'post app.-',
      'post app.-',
      'pre ünï code.-',
      'pre ünï code.v`iew ü',
      'pre ünï code.we`ird tab le',
      'rows ünï code.we`ird tab le#0',
      'post app.customer_totals',
      'post ünï code.v`iew ü',
    ]);
  });

  it('puts each statement where it belongs', () => {
    const get = (l: string): string => parts.find((p) => label(p) === l)!.text;
    assert.match(get('pre app.-'), /^CREATE DATABASE .*`app`.*;\n+USE `app`;$/m);
    assert.match(get('pre app.customers'), /^CREATE TABLE `customers` \(/m);
    assert.doesNotMatch(get('pre app.customers'), /INSERT|TRIGGER/);
    assert.match(get('post app.customers'), /DELIMITER ;;\n[^]*TRIGGER app\.customers_au[^]*\nDELIMITER ;\n/);
    assert.match(
      get('pre app.customer_totals'),
      /\/\*!50001 CREATE VIEW `customer_totals` AS SELECT\n NULL AS `id`/,
    );
    assert.match(get('post app.customer_totals'), /\/\*!50001 VIEW `customer_totals` AS select/);
    const appPost = parts.filter((p) => label(p) === 'post app.-').map((p) => p.text);
    assert.match(appPost[0]!, /EVENT `nightly purge`/);
    assert.match(appPost[1]!, /FUNCTION `customer_total`[^]*PROCEDURE `add_order`/);
    assert.match(get('pre ünï code.we`ird tab le'), /CREATE TABLE `we``ird tab le`/);
    // nothing from the closing lines that restore the preamble's settings, nor the GTID comment
    for (const p of parts) assert.doesNotMatch(p.text, /@OLD_TIME_ZONE \*\/;\n[^]*$|SET TIME_ZONE=@OLD/);
  });

  it('starts every part with the session settings and USE of its schema', () => {
    const text = FIXTURE.toString('utf8');
    const header = text
      .slice(0, text.indexOf('-- Current Database'))
      .split('\n')
      .filter((l) => /^\/\*!40\d{3} SET /.test(l) && !/@OLD_\w+ \*\/;$/.test(l) && l.includes('='));
    assert.ok(header.some((l) => l.includes('FOREIGN_KEY_CHECKS=0')));
    assert.ok(header.some((l) => l.includes("TIME_ZONE='+00:00'")));
    for (const p of parts) {
      for (const l of header) assert.ok(p.text.includes(`${l}\n`), `${label(p)} lacks ${l}`);
      const createsDatabase = p.info.stage === 'pre' && p.info.table === null;
      if (!createsDatabase) {
        const use = `USE \`${p.info.database!.replace(/`/g, '``')}\`;\n`;
        const firstSql = p.text.split('\n').findIndex((l) => l.startsWith('USE '));
        assert.equal(`${p.text.split('\n')[firstSql]}\n`, use, label(p));
        // before any statement of the part's own
        const body = p.text.slice(p.text.indexOf(use));
        assert.ok(!/^(CREATE|INSERT|DROP|DELIMITER)/m.test(p.text.slice(0, p.text.indexOf(use))), label(p));
        assert.ok(body.length > use.length);
      }
    }
  });

  it('rows parts hold only INSERT statements: no LOCK TABLES, no DISABLE KEYS, ending with ;', () => {
    const rows = parts.filter((p) => p.info.stage === 'rows');
    assert.equal(rows.length, 6);
    for (const p of rows) {
      const body = p.text
        .slice(p.text.indexOf('\nUSE ') + 1)
        .split('\n')
        .slice(1)
        .join('\n');
      assert.doesNotMatch(body, /LOCK TABLES|DISABLE KEYS|ENABLE KEYS/, label(p));
      assert.ok(body.endsWith(';\n'), label(p));
      const statements = body.split(/;\n/).filter((s) => s.trim() !== '' && !/^--/.test(s.trim()));
      for (const s of statements)
        assert.match(s.trim().replace(/^(--.*\n|\n)*/, ''), /^INSERT INTO `/, label(p));
    }
    // every data line of the dump is in exactly one rows part
    const isData = (l: string): boolean => l.startsWith('INSERT INTO') || /^\(\S.*\)[,;]$/.test(l);
    const dataLines = FIXTURE.toString('utf8').split('\n').filter(isData);
    const inParts = rows.flatMap((p) => p.text.split('\n').filter(isData));
    assert.deepEqual(inParts, dataLines);
  });

  it('gives the same parts whatever the input chunking: 1-byte chunks, every 2-piece split, random sizes', () => {
    const expected = parts.map((p) => [label(p), p.text]);
    assert.deepEqual(
      split(FIXTURE, () => 1).map((p) => [label(p), p.text]),
      expected,
    );
    for (let at = 1; at < FIXTURE.length; at += 13) {
      const got = split(FIXTURE, (k) => (k === 0 ? at : 1 << 30));
      assert.deepEqual(
        got.map((p) => [label(p), p.text]),
        expected,
        `split at ${at}`,
      );
    }
    // the caller's buffer reused for every chunk: the splitter copies what it keeps
    for (const size of [1, 7, 64, 301, 4096]) {
      assert.deepEqual(
        split(FIXTURE, () => size, undefined, true).map((p) => [label(p), p.text]),
        expected,
        `reused buffer, ${size}-byte chunks`,
      );
    }
    let seed = 7;
    for (let r = 0; r < 50; r++) {
      const got = split(FIXTURE, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) % 300) + 1);
      assert.deepEqual(
        got.map((p) => [label(p), p.text]),
        expected,
      );
    }
  });
});

/** A minimal dump in mariadb-dump's shape around `body`, with one table `t` of schema `d`. */
function dump(body: string, data = ''): Buffer {
  return Buffer.from(
    [
      '/*!40101 SET NAMES utf8mb4 */;',
      '/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;',
      "-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=4;",
      '',
      '--',
      '-- Current Database: `d`',
      '--',
      '',
      'CREATE DATABASE `d`;',
      '',
      'USE `d`;',
      '',
      '--',
      '-- Table structure for table `t`',
      '--',
      '',
      'CREATE TABLE `t` (`a` int);',
      '',
      '--',
      '-- Dumping data for table `t`',
      '--',
      '',
      'LOCK TABLES `t` WRITE;',
      '/*!40000 ALTER TABLE `t` DISABLE KEYS */;',
      data || 'INSERT INTO `t` VALUES\n(1),\n(2);',
      '/*!40000 ALTER TABLE `t` ENABLE KEYS */;',
      'UNLOCK TABLES;',
      body,
      '/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;',
      '',
      '-- Dump completed on 2026-12-05  8:21:21',
      '',
    ].join('\n'),
  );
}

describe('DumpSplitter hazards', () => {
  it('a trigger body with lines that look like section comments and INSERTs stays whole in its post part', () => {
    const trigger = [
      'DELIMITER ;;',
      '/*!50003 CREATE*/ /*!50003 TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW BEGIN',
      "SET @x = 'a",
      '--',
      '-- Table structure for table `evil`',
      '--',
      'DELIMITER ;',
      "';",
      "INSERT INTO t VALUES (NEW.a); -- it's a comment",
      'END */;;',
      'DELIMITER ;',
    ].join('\n');
    const parts = split(dump(trigger), whole);
    assert.deepEqual(parts.map(label), ['pre d.-', 'pre d.t', 'rows d.t#0', 'post d.t']);
    assert.ok(parts[3]!.text.includes(trigger), parts[3]!.text);
  });

  it('a DDL statement with a quoted newline and a marker-like line inside is not cut', () => {
    const view = [
      '--',
      '-- Final view structure for view `v`',
      '--',
      "/*!50001 VIEW `v` AS select 'x",
      '--',
      '-- Table structure for table `evil`',
      "--' AS `c` */;",
    ].join('\n');
    const parts = split(dump(view), whole);
    assert.deepEqual(parts.map(label), ['pre d.-', 'pre d.t', 'rows d.t#0', 'post d.v']);
    assert.ok(parts[3]!.text.includes("-- Table structure for table `evil`\n--' AS `c` */;"));
  });

  it('data strings that look like markers stay in their row (rows never hold a raw newline)', () => {
    const data =
      "INSERT INTO `t` VALUES\n(1,'\\n--\\n-- Table structure for table `x`\\n--\\nDELIMITER ;;'),\n(2,'x;');";
    const parts = split(dump('', data), () => 5);
    assert.deepEqual(parts.map(label), ['pre d.-', 'pre d.t', 'rows d.t#0']);
    assert.ok(parts[2]!.text.endsWith(`${data}\n`));
  });

  it('cuts rows into chunks at statement boundaries once a part holds chunkBytes', () => {
    const data = Array.from(
      { length: 10 },
      (_, i) => `INSERT INTO \`t\` VALUES\n(${i}),\n(${i + 100});`,
    ).join('\n');
    const parts = split(dump('', data), () => 3, 200);
    const rows = parts.filter((p) => p.info.stage === 'rows');
    assert.ok(rows.length >= 3, parts.map(label).join());
    assert.deepEqual(
      rows.map((p) => p.info.chunk),
      rows.map((_, i) => i),
    );
    const statements = rows.flatMap(
      (p) => p.text.match(/^INSERT INTO `t` VALUES\n\(\d+\),\n\(\d+\);$/gm) ?? [],
    );
    assert.equal(statements.join('\n'), data);
  });

  it('--no-autocommit: every chunk starts with SET autocommit=0 and ends with COMMIT', () => {
    const data = [
      'set autocommit=0;',
      'INSERT INTO `t` VALUES\n(1);',
      'INSERT INTO `t` VALUES\n(2);',
      'commit;',
    ].join('\n');
    const rows = split(dump('', data), whole, 10).filter((p) => p.info.stage === 'rows');
    assert.equal(rows.length, 2);
    for (const p of rows) {
      assert.match(p.text, /set autocommit=0;\nINSERT INTO `t` VALUES\n\(\d\);\nCOMMIT;\n$/);
    }
  });

  it('a dump cut inside an INSERT or inside a DELIMITER block is an error', () => {
    const full = dump('');
    const cut = full.subarray(0, full.indexOf('(2);'));
    assert.throws(() => split(cut, whole), DumpSplitError);
    const inTrigger = dump('DELIMITER ;;\nCREATE TRIGGER x AFTER INSERT ON t FOR EACH ROW SET @a = 1;;\n');
    assert.throws(() => split(inTrigger, whole), /inside a DELIMITER block/);
  });
});
