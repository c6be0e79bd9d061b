import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveRuntimeApi } from '../../lambdas/lambda-runtime.js';
import { createWorkerHandler, type SqsEvent } from '../../lambdas/worker.js';
import { PitrError } from '../../src/errors/index.js';
import { jobMarkerKeys, type ClusterJobSettings, type JobMessage } from '../../src/jobs/index.js';
import { silentLogger } from '../../src/log/index.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';

interface Invocation {
  requestId: string;
  event: unknown;
}

/** A Runtime API endpoint as Lambda runs it for a container image: hands out invocations, records the answers. */
function fakeRuntimeApi(invocations: Invocation[]) {
  const answers: Array<{ requestId: string; kind: 'response' | 'error'; body: unknown; errorType?: string }> =
    [];
  const read = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  const server: Server = createServer(async (req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      const next = invocations.shift();
      if (!next) return void res.writeHead(500).end();
      res.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': next.requestId,
        'lambda-runtime-deadline-ms': String(Date.now() + 300_000),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:eu-west-1:123456789012:function:worker',
      });
      return void res.end(JSON.stringify(next.event));
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && m) {
      const errorType = req.headers['lambda-runtime-function-error-type'];
      answers.push({
        requestId: m[1]!,
        kind: m[2] as 'response' | 'error',
        body: JSON.parse(await read(req)),
        ...(typeof errorType === 'string' ? { errorType } : {}),
      });
      return void res.writeHead(202).end();
    }
    res.writeHead(404).end();
  });
  return { server, answers };
}

const job: JobMessage = {
  schema: 'mysql-pitr/job@2',
  kind: 'dump',
  cluster: 'orders',
  idempotencyKey: 'orders/dump/2024-05-01T03:00:00Z',
  scheduledAt: '2024-05-01T03:00:00Z',
  trigger: 'schedule',
};
const settings: ClusterJobSettings = {
  cluster: 'orders',
  kinds: ['dump', 'expire', 'verify', 'compact'],
  repository: 's3://bucket/pitr/orders/',
  source: { url: 'mariadb://pitr@db:3306/', flavour: 'mariadb' },
  credentials: { secret: 'prod/orders', passwordKey: 'password' },
  retention: { keepDays: 14, keepBackups: 7 },
  tls: { mode: 'preferred' },
};

describe('lambda-runtime: the container image entry point speaks the Lambda Runtime API', () => {
  let dir: string;
  let api: ReturnType<typeof fakeRuntimeApi>;
  let address: string;
  const invocations: Invocation[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pitr-runtime-'));
    api = fakeRuntimeApi(invocations);
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    const port = (api.server.address() as { port: number }).port;
    address = `127.0.0.1:${port}`;
  });
  after(async () => {
    await new Promise((resolve) => api.server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the worker handler: responses go back under the request id, a thrown error is reported as an error', async () => {
    const store = new FsObjectStore({ root: dir });
    const worker = createWorkerHandler({
      clusters: new Map([['orders', settings]]),
      functions: {
        dump: async (_job, { repository }) => (await repository.put('dumps/1', Buffer.from('x')), {}),
        expire: () => Promise.reject(new Error('unused')),
        verify: () => Promise.reject(new Error('unused')),
        compact: () => Promise.reject(new Error('unused')),
      },
      openRepository: () => store,
      log: silentLogger,
      metrics: () => {},
    });
    const event: SqsEvent = { Records: [{ messageId: 'm-1', body: JSON.stringify(job) }] };
    invocations.push({ requestId: 'req-a', event }, { requestId: 'req-b', event: { boom: true } });
    await serveRuntimeApi(
      address,
      async (e, ctx) => {
        if ((e as { boom?: boolean }).boom)
          throw new PitrError('STORAGE_UNAVAILABLE', 'S3 is down; retry later');
        return worker(e as SqsEvent, ctx as { awsRequestId: string; getRemainingTimeInMillis: () => number });
      },
      2,
    );
    assert.deepEqual(api.answers, [
      { requestId: 'req-a', kind: 'response', body: { batchItemFailures: [] } },
      {
        requestId: 'req-b',
        kind: 'error',
        errorType: 'Unhandled',
        body: { errorType: 'STORAGE_UNAVAILABLE', errorMessage: 'S3 is down; retry later', stackTrace: [] },
      },
    ]);
    const done = JSON.parse((await store.get(jobMarkerKeys(job).done)).toString('utf8')) as { owner: string };
    assert.equal(done.owner, 'lambda:req-a', 'the request id from the Runtime API reaches the job');
  });
});
