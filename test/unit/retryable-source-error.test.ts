/**
 * Which failures of a binlog session the archiver retries (src/archiver/retryable-source-error.ts).
 * The network errors are the real ones mysql2 3.x raises against a local TCP server that refuses,
 * resets, closes or ignores the connection; the archive tests run the real BinlogArchiver behind the
 * fixture source port, whose dump fails with such an error or with a programming error.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import {
  archiveBinlogs,
  isRetryableSourceError,
  judgeSourceError,
  type SourceErrorVerdict,
} from '../../src/archiver/index.js';
import { PitrError, exitCodeFor, ExitCode } from '../../src/errors/index.js';
import { MysqlConnectionError, toMysqlError } from '../../src/mysql/index.js';
import { FsObjectStore } from '../../src/storage/index.js';
import {
  FixtureSourcePort,
  MYSQL_FIXTURE_UUID,
  mysqlFixtureFacts,
  mysqlFixtureFiles,
} from '../support/fixture-source-port.js';

/** A local server that does `onSocket` to every connection; its port. */
async function tcpServer(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, port: address.port };
}

/** What mysql2 rejects with when it connects to `port`. */
async function mysql2Error(port: number): Promise<Error & { code?: string }> {
  try {
    const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'u', connectTimeout: 300 });
    await c.end();
  } catch (err) {
    return err as Error & { code?: string };
  }
  assert.fail(`mysql2 connected to port ${port}`);
}

/** A MySQL ERR packet (sequence 0, with SQL state), as a server sends instead of its handshake. */
function errPacket(errno: number, message: string): Buffer {
  const body = Buffer.concat([
    Buffer.from([0xff, errno & 0xff, errno >> 8]),
    Buffer.from('#HY000'),
    Buffer.from(message),
  ]);
  return Buffer.concat([
    Buffer.from([body.length & 0xff, (body.length >> 8) & 0xff, body.length >> 16, 0]),
    body,
  ]);
}

/** True when `err` is the INTERNAL error that ends the archive, naming `name` and saying to report it. */
/** Whether `verdict` ends the archive with an error that `check` accepts. */
function endedWith(verdict: SourceErrorVerdict, check: (err: unknown) => boolean): boolean {
  return !verdict.reconnect && check(verdict.error);
}

function endsArchive(err: unknown, name: string): boolean {
  return (
    err instanceof PitrError &&
    err.code === 'INTERNAL' &&
    exitCodeFor(err.code) === ExitCode.INTERNAL &&
    err.message.includes(name) &&
    /This is a bug in mysql-pitr/.test(err.message) &&
    /Report it with this log/.test(err.message) &&
    /starting the archiver again resumes/.test(err.message)
  );
}

describe('isRetryableSourceError: only what is known to be transient', () => {
  const servers: Server[] = [];
  const network = new Map<string, Error & { code?: string }>();
  const refusals = new Map<number, Error & { code?: string }>();
  before(async () => {
    // servers that refuse the login with an error packet: too many connections, host blocked
    for (const errno of [1040, 1129]) {
      const refusing = await tcpServer((s) => s.end(errPacket(errno, `error ${errno}`)));
      servers.push(refusing.server);
      refusals.set(errno, await mysql2Error(refusing.port));
    }
    const closing = await tcpServer((s) => s.destroy());
    const resetting = await tcpServer((s) => s.resetAndDestroy());
    const silent = await tcpServer(() => undefined);
    const gone = await tcpServer(() => undefined);
    servers.push(closing.server, resetting.server, silent.server);
    await new Promise((resolve) => gone.server.close(resolve));
    for (const port of [closing.port, resetting.port, silent.port, gone.port]) {
      const err = await mysql2Error(port);
      network.set(err.code ?? '?', err);
    }
  });
  after(() => {
    for (const s of servers) s.close();
  });

  it('mysql2 raises PROTOCOL_CONNECTION_LOST, ECONNRESET, ETIMEDOUT and ECONNREFUSED here; each is retried, raw or wrapped', () => {
    assert.deepEqual([...network.keys()].sort(), [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'PROTOCOL_CONNECTION_LOST',
    ]);
    for (const [code, err] of network) {
      assert.equal(isRetryableSourceError(err), true, `raw ${code}`);
      const wrapped = toMysqlError(err, { attempted: 'connect', target: '127.0.0.1' });
      assert.ok(wrapped instanceof MysqlConnectionError && wrapped.reason === code, code);
      assert.equal(isRetryableSourceError(wrapped), true, `wrapped ${code}`);
    }
    // a dead connection found by the idle watchdog has no code, and is retried like any disconnect
    const idle = toMysqlError(new Error('no event and no heartbeat for 60000 ms'), {
      attempted: 'stream',
      target: '127.0.0.1',
    });
    assert.equal(isRetryableSourceError(idle), true);
  });

  it('a server error packet, raw from mysql2 or typed, is retried when transient, else ends the archive as itself', () => {
    const tooMany = refusals.get(1040)!;
    const blocked = refusals.get(1129)!;
    assert.equal(tooMany.code, 'ER_CON_COUNT_ERROR');
    assert.equal(blocked.code, 'ER_HOST_IS_BLOCKED');
    assert.equal(isRetryableSourceError(tooMany), true);
    assert.equal(isRetryableSourceError(blocked), false, 'FLUSH HOSTS is needed: not retried, and not a bug');
    const ctx = { attempted: 'connect', target: '127.0.0.1' };
    assert.equal(isRetryableSourceError(toMysqlError(tooMany, ctx)), true);
    assert.equal(isRetryableSourceError(toMysqlError(blocked, ctx)), false);
  });

  it('a TypeError, a RangeError, an Error without a network code end the archive with INTERNAL', () => {
    let range: unknown;
    try {
      Buffer.alloc(2).readUInt32LE(0);
    } catch (err) {
      range = err;
    }
    assert.ok(range instanceof RangeError);
    let type: unknown;
    try {
      (undefined as unknown as { file: string }).file.toString();
    } catch (err) {
      type = err;
    }
    assert.ok(type instanceof TypeError);
    const odd = Object.assign(new Error('disk quota'), { code: 'EDQUOT' });
    for (const [err, name] of [
      [type, 'TypeError'],
      [range, 'RangeError'],
      [new Error('something else'), 'something else'],
      [odd, 'disk quota'],
      ['a thrown string', 'a thrown string'],
    ] as const) {
      assert.ok(
        endedWith(judgeSourceError(err), (e) => endsArchive(e, name) && (e as Error).cause === err),
        String(err),
      );
      assert.equal(isRetryableSourceError(err), false, String(err));
    }
    // a RangeError that happens to carry a network code is still a bug of ours
    const coded = Object.assign(new RangeError('offset out of range'), { code: 'ECONNRESET' });
    assert.ok(endedWith(judgeSourceError(coded), (e) => endsArchive(e, 'RangeError')));
  });

  it('a programming error that the mysql layer wrapped as MysqlConnectionError still ends the archive', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'length')");
    const wrapped = toMysqlError(bug, { attempted: 'stream', target: '127.0.0.1' });
    assert.equal(wrapped.code, 'MYSQL_CONNECTION');
    assert.ok(
      endedWith(judgeSourceError(wrapped), (e) => endsArchive(e, 'TypeError') && (e as Error).cause === bug),
    );
  });

  it('a typed error that is not transient ends the archive with itself', () => {
    const denied = new PitrError('STORAGE_ACCESS_DENIED', 'denied');
    assert.deepEqual(judgeSourceError(denied), { reconnect: false, error: denied });
    assert.equal(isRetryableSourceError(denied), false);
    assert.equal(isRetryableSourceError(new PitrError('INTERNAL', 'a known bug')), false);
  });
});

describe('the archiver ends on a programming error and reconnects after a network error', () => {
  const UUID = MYSQL_FIXTURE_UUID;
  const files = mysqlFixtureFiles;
  const facts = mysqlFixtureFacts(`${UUID}:1-6`);
  let dir: string;
  let n = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'retryable-source-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const archive = (port: FixtureSourcePort): Promise<unknown> =>
    archiveBinlogs({
      source: { user: 'unused' },
      sourceAddress: port.address,
      port,
      store: new FsObjectStore({ root: join(dir, `repo${++n}`) }),
      untilCaughtUp: true,
      flushIntervalMs: 1,
      segmentSize: 1024,
      reconnectDelayMs: { initial: 1, max: 1 },
      leaseTtlMs: 3000,
    });

  it('a TypeError from the dump stops the archive after one session, with INTERNAL; the lease is released', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'position')");
    const port = new FixtureSourcePort(files(), {
      facts,
      nonBlocking: true,
      failFirstDumpAfter: { items: 9, error: bug },
    });
    await assert.rejects(
      archive(port),
      (e: unknown) => endsArchive(e, 'TypeError') && (e as Error).cause === bug,
    );
    assert.equal(port.opened.length, 1, 'no reconnect');
    assert.equal(port.released, 1);
  });

  it('a raw ECONNRESET from the dump is reconnected and the archive completes', async () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104 });
    const port = new FixtureSourcePort(files(), {
      facts,
      nonBlocking: true,
      failFirstDumpAfter: { items: 9, error: reset },
    });
    await archive(port);
    assert.equal(port.opened.length, 2, 'one reconnect');
  });
});
