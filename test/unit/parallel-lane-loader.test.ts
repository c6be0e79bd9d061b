import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPitrError } from '../../src/errors/index.js';
import { loadInLanes } from '../../src/restore/load/parallel-lane-loader.js';
import type { ParallelLoadSession } from '../../src/restore/load/parallel-load-session.js';

// A dump in the shape mariadb-dump writes: header SETs, two databases, tables with data, a
// trigger after its table's data, a view at the end.
const DUMP = [
  '/*M!999999\\- enable the sandbox mode */ ',
  '/*!40101 SET NAMES utf8mb4 */;',
  '/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;',
  'CREATE DATABASE `a`;',
  'USE `a`;',
  'DROP TABLE IF EXISTS `t1`;',
  'CREATE TABLE `t1` (id INT PRIMARY KEY);',
  'LOCK TABLES `t1` WRITE;',
  '/*!40000 ALTER TABLE `t1` DISABLE KEYS */;',
  'INSERT INTO `t1` VALUES',
  '(1),',
  '(2);',
  'INSERT INTO `t1` VALUES (3);',
  '/*!40000 ALTER TABLE `t1` ENABLE KEYS */;',
  'UNLOCK TABLES;',
  'DROP TABLE IF EXISTS `t2`;',
  'CREATE TABLE `t2` (id INT PRIMARY KEY);',
  'INSERT INTO `t2` VALUES (1);',
  'INSERT INTO `t2` VALUES (2);',
  'DELIMITER ;;',
  '/*!50003 CREATE*/ /*!50003 TRIGGER tr AFTER INSERT ON t2 FOR EACH ROW SET @x = 1 */;;',
  'DELIMITER ;',
  'DROP TABLE IF EXISTS `t3`;',
  'CREATE TABLE `t3` (id INT PRIMARY KEY);',
  'INSERT INTO `t3` VALUES (1);',
  'CREATE DATABASE `b`;',
  'USE `b`;',
  'DROP TABLE IF EXISTS `t1`;',
  'CREATE TABLE `t1` (id INT PRIMARY KEY);',
  'INSERT INTO `t1` VALUES (9);',
  'USE `a`;',
  '/*!50001 CREATE VIEW `v` AS select 1 */;',
  '/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;',
].join('\n');

interface Event {
  lane: number;
  sql: string;
  start: number;
  end: number;
}

/**
 * Sessions that record what ran when, with random delays (lane 1 slower, so an ordering bug shows);
 * `failOn` makes one statement fail.
 */
function fakeSessions(n: number, log: Event[], failOn?: string): ParallelLoadSession[] {
  let clock = 0;
  return Array.from({ length: n }, (_, lane) => {
    let chain = Promise.resolve();
    return {
      query(sql: Buffer): Promise<void> {
        const run = chain.then(async () => {
          const start = ++clock;
          await sleep(lane === 1 ? 3 + Math.floor(Math.random() * 4) : Math.floor(Math.random() * 2));
          if (sql.toString() === failOn) throw Object.assign(new Error('Duplicate entry'), { errno: 1062 });
          log.push({ lane, sql: sql.toString(), start, end: ++clock });
        });
        chain = run.catch(() => undefined);
        return run;
      },
      close: () => Promise.resolve(),
      destroy: () => undefined,
    };
  });
}

/** The dump as chunks of `size` bytes (every lane gets its own copy). */
async function* chunks(size: number): AsyncGenerator<Buffer> {
  const b = Buffer.from(DUMP);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

const byText = (log: Event[], sql: string): Event[] => log.filter((e) => e.sql === sql);

describe('loadInLanes', () => {
  for (const lanes of [1, 2, 3]) {
    it(`keeps the dump's order where it matters (${lanes} lane(s), random timing)`, async () => {
      for (let round = 0; round < 5; round++) {
        const log: Event[] = [];
        const stats = await loadInLanes({
          sources: Array.from({ length: lanes }, (_, i) => chunks(7 + i * 5)),
          sessions: fakeSessions(lanes, log),
          describeFailure: (st, e) => `${st}: ${e.message}`,
        });
        assert.deepEqual(stats, { lanes, statements: 24, tables: 4, inserts: 6 });
        // LOCK TABLES / DISABLE KEYS are left out; the sandbox line and DELIMITER never reach a server.
        assert.ok(!log.some((e) => /LOCK TABLES|DISABLE KEYS|ENABLE KEYS|sandbox|DELIMITER/.test(e.sql)));
        // Every session runs every session statement, in dump order.
        for (let lane = 0; lane < lanes; lane++) {
          assert.deepEqual(
            log.filter((e) => e.lane === lane && /^(\/\*!\d+ )?(SET|USE)/.test(e.sql)).map((e) => e.sql),
            [
              '/*!40101 SET NAMES utf8mb4 */',
              '/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */',
              'USE `a`',
              'USE `b`',
              'USE `a`',
              '/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */',
            ],
          );
        }
        // A table's statements run on one session, in order, after its CREATE TABLE.
        const t1 = log.filter(
          (e) => /`t1`/.test(e.sql) && e.start < byText(log, 'CREATE DATABASE `b`')[0]!.start,
        );
        assert.equal(new Set(t1.map((e) => e.lane)).size, 1);
        assert.deepEqual(
          t1.map((e) => e.sql),
          [
            'DROP TABLE IF EXISTS `t1`',
            'CREATE TABLE `t1` (id INT PRIMARY KEY)',
            'INSERT INTO `t1` VALUES\n(1),\n(2)',
            'INSERT INTO `t1` VALUES (3)',
          ],
        );
        // USE `b` runs on any session only after CREATE DATABASE `b` has finished.
        const createB = byText(log, 'CREATE DATABASE `b`')[0]!;
        for (const use of byText(log, 'USE `b`')) assert.ok(use.start > createB.end);
        // The trigger is created after t2's data is in (it must not fire on the dump's rows), and
        // t3 / b.t1 (after it in the dump) wait for it.
        const trigger = log.find((e) => e.sql.includes('TRIGGER'))!;
        for (const e of log.filter((x) => x.sql.startsWith('INSERT INTO `t2`')))
          assert.ok(e.end < trigger.start);
        for (const e of log.filter((x) => x.sql.startsWith('INSERT INTO `t3`')))
          assert.ok(e.start > trigger.end);
        // The view comes after every row.
        const view = log.find((e) => e.sql.includes('VIEW'))!;
        for (const e of log.filter((x) => x.sql.startsWith('INSERT'))) assert.ok(e.end < view.start);
        // With more than one lane, tables are spread over the sessions.
        const insertLanes = new Set(log.filter((e) => e.sql.startsWith('INSERT')).map((e) => e.lane));
        assert.equal(insertLanes.size, Math.min(lanes, 4));
      }
    });
  }

  it('stops at the first failing statement and names it', async () => {
    const log: Event[] = [];
    await assert.rejects(
      loadInLanes({
        sources: [chunks(11), chunks(13)],
        sessions: fakeSessions(2, log, 'INSERT INTO `t2` VALUES (2)'),
        describeFailure: (st, e) => `failed at ${st}: ${e.message}`,
      }),
      (e: unknown) =>
        isPitrError(e, 'RESTORE_APPLY_FAILED') &&
        e.message === 'failed at dump line 19 (table a.t2): INSERT INTO `t2` VALUES (2): Duplicate entry',
    );
    assert.ok(!log.some((e) => e.sql.includes('VIEW')));
  });
});
