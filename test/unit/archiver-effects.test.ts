/**
 * The archiver's effects and policies that need no server: the metric lines and durable position
 * (ArchiveProgress), the purge order (SourcePurger, with a source port that records or refuses
 * the statements), the rotation count (SourceRotator) and which source errors are retried.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SegmentHeader } from '../../src/catalog/index.js';
import {
  ArchiveProgress,
  SourcePurger,
  SourceRotator,
  isRetryableSourceError,
} from '../../src/archiver/index.js';
import { PitrError } from '../../src/errors/index.js';
import type { Logger, LogFields } from '../../src/log/index.js';
import {
  BinlogUnavailableError,
  MysqlConnectionError,
  MysqlPrerequisiteError,
  MysqlServerError,
} from '../../src/mysql/index.js';

/** A logger that keeps its lines. */
function recordingLogger(): Logger & { lines: { level: string; msg: string; fields?: LogFields }[] } {
  const lines: { level: string; msg: string; fields?: LogFields }[] = [];
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      lines.push({ level, msg, ...(fields ? { fields } : {}) });
    };
  const logger = {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

function header(over: Partial<SegmentHeader>): SegmentHeader {
  return {
    timeline: '000001',
    file: 'binlog.000001',
    start: 0,
    end: 100,
    closesFile: false,
    transactions: 1,
    gtids: {},
    ...over,
  } as SegmentHeader;
}

describe('ArchiveProgress', () => {
  it('moves the durable position and writes one metric line per stored segment with its lag', () => {
    const lines: string[] = [];
    const p = new ArchiveProgress({ metrics: (l) => lines.push(l), cluster: 'prod' });
    assert.equal(p.durable, undefined);
    const now = Date.parse('2026-01-01T00:00:10Z');
    p.stored(header({ start: 0, end: 400, lastCommit: '2026-01-01T00:00:07.500Z' }), 123, now);
    p.stored(header({ start: 400, end: 900, closesFile: true, nextFile: 'binlog.000002' }), 77, now + 1);
    assert.deepEqual(p.durable, {
      timeline: '000001',
      file: 'binlog.000001',
      end: 900,
      closesFile: true,
      nextFile: 'binlog.000002',
    });
    assert.equal(p.segments, 2);
    assert.equal(p.bytes, 900);
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(a!.ArchiveLagSeconds, 2.5);
    assert.deepEqual(
      [a!.ArchivedBytes, a!.StoredBytes, a!.Segments, a!.end, a!.Cluster],
      [400, 123, 1, 400, 'prod'],
    );
    assert.equal(b!.ArchiveLagSeconds, undefined, 'no commit in the segment: no lag figure');
    assert.deepEqual([b!.ArchivedBytes, b!.StoredBytes, b!.end], [500, 77, 900]);
  });

  it('idle: lag 0 at most once per interval after the last line, and nothing before a durable position', () => {
    const lines: string[] = [];
    const p = new ArchiveProgress({ metrics: (l) => lines.push(l), idleMetricsIntervalMs: 1000 });
    p.idle(5_000);
    assert.equal(lines.length, 0, 'nothing durable yet');
    p.resumedAt({
      timeline: '000002',
      file: 'binlog.000007',
      end: 4096,
      closesFile: false,
      nextFile: undefined,
    });
    p.idle(5_000);
    p.idle(5_500);
    p.idle(6_000);
    assert.equal(lines.length, 2, 'at 5 000 and 6 000, not at 5 500');
    const m = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(
      [m.ArchiveLagSeconds, m.ArchivedBytes, m.Segments, m.Timeline, m.file, m.end],
      [0, 0, 0, '000002', 'binlog.000007', 4096],
    );
    p.stored(header({ timeline: '000002', file: 'binlog.000007', start: 4096, end: 5000 }), 10, 6_100);
    p.idle(6_500);
    assert.equal(lines.length, 3, 'a stored segment restarts the interval');
    p.newTimeline();
    assert.equal(p.durable, undefined);
  });
});

describe('SourcePurger', () => {
  it('purges in order, never backwards, skips names it cannot number, and logs a refusal without throwing', async () => {
    const executed: unknown[][] = [];
    let refuse = false;
    const port = {
      address: 'mysql://repl@db1:3306',
      execute: async (sql: string, params?: readonly unknown[]): Promise<void> => {
        executed.push([sql, ...(params ?? [])]);
        if (refuse)
          throw new Error('Access denied; you need (at least one of) the BINLOG ADMIN privilege(s)');
      },
    };
    const log = recordingLogger();
    const purger = new SourcePurger(port, 2, log);
    purger.fileArchived('binlog.000001'); // keeps 000001 (and nothing before it): nothing to purge
    purger.fileArchived('binlog.000005'); // keeps 000004, 000005
    purger.fileArchived('binlog.000003'); // behind what was purged: nothing
    purger.fileArchived('not-a-binlog');
    await purger.settled();
    assert.deepEqual(executed, [['PURGE BINARY LOGS TO ?', 'binlog.000004']]);
    assert.equal(purger.purgedTo, 'binlog.000004');
    refuse = true;
    purger.fileArchived('binlog.000006');
    await purger.settled();
    assert.deepEqual(executed.at(-1), ['PURGE BINARY LOGS TO ?', 'binlog.000005']);
    const warn = log.lines.find((l) => l.level === 'warn');
    assert.match(
      warn!.msg,
      /could not purge the source's binlogs before binlog\.000005; grant the user BINLOG ADMIN/,
    );
    assert.match(String(warn!.fields?.error), /Access denied/);
    assert.deepEqual(
      log.lines.filter((l) => l.level === 'info').map((l) => l.fields),
      [{ to: 'binlog.000004' }],
    );
  });
});

describe('SourceRotator', () => {
  it('counts transactions since the file last closed, and flushes only when there are some', async () => {
    const executed: string[] = [];
    const port = {
      address: 'mysql://repl@db1:3306',
      execute: async (sql: string): Promise<void> => {
        executed.push(sql);
      },
    };
    const stop = new AbortController();
    const rotator = new SourceRotator(port, 5, recordingLogger(), stop.signal);
    try {
      await new Promise((r) => setTimeout(r, 30));
      assert.deepEqual(executed, [], 'nothing archived: no FLUSH');
      rotator.stored({ closesFile: false, transactions: 3 });
      rotator.stored({ closesFile: false, transactions: 2 });
      assert.equal(rotator.transactions, 5);
      rotator.stored({ closesFile: true, transactions: 1 });
      assert.equal(rotator.transactions, 0, 'the file closed by itself');
      rotator.stored({ closesFile: false, transactions: 1 });
      for (let i = 0; i < 100 && executed.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(executed.slice(0, 1), ['FLUSH BINARY LOGS']);
      assert.equal(rotator.transactions, 0);
      const n = executed.length;
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(executed.length, n, 'no transaction since: no further FLUSH');
    } finally {
      rotator.stop();
    }
  });
});

describe('isRetryableSourceError', () => {
  it('retries a lost connection, a purge to re-plan, a damaged event and transient server errors only', () => {
    const server = (errno: number): MysqlServerError =>
      new MysqlServerError('query', { errno, sqlState: 'HY000', sqlMessage: `error ${errno}` }, 'advice');
    const cases: [unknown, boolean][] = [
      [new MysqlConnectionError('reset', 'mysql://db1', 'ECONNRESET'), true],
      [
        new BinlogUnavailableError(
          'dump',
          'binlog.000001',
          4,
          {
            errno: 1236,
            sqlState: 'HY000',
            sqlMessage: 'Could not find first log file name in binary log index file',
          },
          'advice',
        ),
        true,
      ],
      [new PitrError('CHECKSUM_MISMATCH', 'bad CRC32'), true],
      [server(1053), true],
      [server(4052), true],
      [server(1045), false],
      [new MysqlPrerequisiteError('log_bin', 'OFF', 'binary log off'), false],
      [new PitrError('INTERNAL', 'a bug'), false],
    ];
    for (const [err, retry] of cases) assert.equal(isRetryableSourceError(err), retry, String(err));
  });
});
