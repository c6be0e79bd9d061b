/**
 * How S3ObjectStore maps what the real AWS SDK throws when there is no S3 error answer to map: a
 * response checksum that does not match the body (the SDK's own check), and a region the SDK
 * cannot resolve. Both are plain `Error`s in the SDK (no name, code or `$metadata`); these tests
 * make the real SDK throw them against the emulator, so a change in the SDK shows up here.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';

import { ChecksumMismatchError, exitCodeFor, ExitCode } from '../../src/errors/index.js';
import { StorageError } from '../../src/storage/index.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3-object-store.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';

/** The base64 big-endian CRC32 that S3 sends as `x-amz-checksum-crc32`. */
function crc32Header(body: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(body) >>> 0);
  return out.toString('base64');
}

/**
 * A proxy in front of the emulator (which sends no checksums) that adds an `x-amz-checksum-crc32`
 * header to object GETs: the true CRC32 of the body, or a wrong one.
 */
interface ChecksumProxy {
  endpoint: string;
  mode: 'right' | 'wrong' | 'none';
  objectGets: number;
  stop(): Promise<void>;
}

async function startChecksumProxy(target: string): Promise<ChecksumProxy> {
  const upstream = new URL(target);
  const state = { mode: 'none' as ChecksumProxy['mode'], objectGets: 0 };
  const server: Server = createServer((req, res) => {
    const objectGet = req.method === 'GET' && !(req.url ?? '').includes('list-type');
    if (objectGet) state.objectGets++;
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const body = Buffer.concat(chunks);
          const headers = { ...answer.headers };
          if (objectGet && answer.statusCode === 200 && state.mode !== 'none') {
            const right = crc32Header(body);
            headers['x-amz-checksum-crc32'] =
              state.mode === 'right' ? right : crc32Header(Buffer.from('other'));
          }
          res.writeHead(answer.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    out.on('error', () => res.socket?.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
      state.objectGets = 0;
    },
    get objectGets() {
      return state.objectGets;
    },
    set objectGets(n) {
      state.objectGets = n;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Runs `fn` with the SDK's region sources emptied: no AWS_REGION, no profile files, no IMDS. */
async function withoutRegionSources<T>(fn: () => Promise<T>): Promise<T> {
  const names = [
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_PROFILE',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_EC2_METADATA_DISABLED',
  ];
  const saved = new Map(names.map((n) => [n, process.env[n]]));
  const nowhere = join(tmpdir(), `mysql-pitr-no-such-aws-config-${process.pid}`);
  for (const n of names) delete process.env[n];
  process.env['AWS_CONFIG_FILE'] = join(nowhere, 'config');
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(nowhere, 'credentials');
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  try {
    return await fn();
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
}

describe('S3ObjectStore maps the SDK errors that carry no S3 answer (real SDK, emulator)', () => {
  let emulator: S3Emulator;
  let proxy: ChecksumProxy;
  const stores: S3ObjectStore[] = [];
  let n = 0;
  const storeVia = (endpoint: string, options: Partial<S3ObjectStoreOptions> = {}): S3ObjectStore => {
    const store = new S3ObjectStore({
      bucket: emulator.bucket,
      prefix: `sdk-errors/run-${n++}`,
      endpoint,
      region: emulator.region,
      credentials: emulator.credentials,
      maxAttempts: 3,
      retryBaseDelayMs: 2,
      ...options,
    });
    stores.push(store);
    return store;
  };

  before(async () => {
    emulator = await startS3Emulator();
    proxy = await startChecksumProxy(emulator.endpoint);
  });
  after(async () => {
    for (const store of stores) store.destroy();
    await proxy?.stop();
    await emulator?.stop();
  });

  it('a body that matches its x-amz-checksum-crc32 is read (the SDK checks the header it is given)', async () => {
    const store = storeVia(proxy.endpoint);
    const data = randomBytes(300_000);
    await store.put('good', data);
    proxy.mode = 'right';
    assert.ok((await store.get('good')).equals(data));
    assert.ok((await drain(await store.getStream('good'))).equals(data));
    assert.equal(proxy.objectGets, 2);
    proxy.mode = 'none';
  });

  it("a body that fails the SDK's response checksum: ChecksumMismatchError naming the object, not retried", async () => {
    const store = storeVia(proxy.endpoint);
    await store.put('dir/bad', randomBytes(200_000));
    proxy.mode = 'wrong';
    const url = `s3://${emulator.bucket}/${store.keyPrefix}dir/bad`;
    const isMismatch = (err: unknown): true => {
      assert.ok(err instanceof ChecksumMismatchError, `expected ChecksumMismatchError, got ${String(err)}`);
      assert.equal(err.code, 'CHECKSUM_MISMATCH');
      assert.equal(err.object, url);
      assert.equal(err.offset, undefined);
      assert.equal(exitCodeFor(err.code), ExitCode.DATA);
      // The SDK's own error is the cause, as it threw it.
      assert.ok(err.cause instanceof Error);
      assert.equal(err.cause.name, 'Error');
      assert.match(
        err.cause.message,
        /^Checksum mismatch: expected "[^"]+" but received "[^"]+" in response header "x-amz-checksum-crc32"/,
      );
      assert.match(err.message, /The data is corrupt; do not use it/);
      return true;
    };
    await assert.rejects(store.get('dir/bad'), isMismatch);
    assert.equal(proxy.objectGets, 1, 'a checksum failure is not resumed or retried');
    await assert.rejects(async () => drain(await store.getStream('dir/bad')), isMismatch);
    proxy.mode = 'none';
  });

  it('no region anywhere: CONFIG_INVALID saying to pass --region, and no request is sent', async () => {
    const store = storeVia(emulator.endpoint, { region: undefined });
    emulator.clearRequests();
    await withoutRegionSources(async () => {
      for (const [op, call] of [
        ['head', () => store.head('k')],
        ['put', () => store.put('k', Buffer.from('x'))],
        ['put stream', () => store.put('s', Readable.from([Buffer.from('x')]))],
        ['list', () => drain(Readable.from(store.list('')))],
      ] as const) {
        await assert.rejects(
          call(),
          (err: unknown) => {
            assert.ok(err instanceof StorageError, `${op}: expected a StorageError, got ${String(err)}`);
            assert.equal(err.code, 'CONFIG_INVALID', err.message);
            assert.equal(
              err.message,
              `no AWS region configured for ${store.describe()}; pass --region or set AWS_REGION`,
            );
            assert.equal(err.store, store.describe());
            assert.equal(exitCodeFor(err.code), ExitCode.USAGE);
            return true;
          },
          op,
        );
      }
    });
    assert.deepEqual(emulator.requests, []);
  });

  it('a region that is not a region name: CONFIG_INVALID naming it (it used to be reported as S3 unavailable)', async () => {
    const store = storeVia(emulator.endpoint, { region: 'eu west 1' });
    emulator.clearRequests();
    await assert.rejects(store.head('k'), (err: unknown) => {
      assert.ok(err instanceof StorageError, String(err));
      assert.equal(err.code, 'CONFIG_INVALID', err.message);
      assert.match(
        err.message,
        /^AWS region "eu west 1" is not a region name \(.+\); give --region such as eu-west-1/,
      );
      return true;
    });
    assert.deepEqual(emulator.requests, []);
  });
});
