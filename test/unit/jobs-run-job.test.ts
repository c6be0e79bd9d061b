import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { PitrError } from '../../src/errors/index.js';
import {
  emfLine,
  jobMarkerKeys,
  runJob,
  runJobBatch,
  type JobFunctions,
  type ClusterJobSettings,
  type JobMessage,
  type JobOutcome,
  type ResolvedJob,
  type RunJobDeps,
} from '../../src/jobs/index.js';
import { silentLogger } from '../../src/log/index.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';

const message = (kind: JobMessage['kind'] = 'dump', scheduledAt = '2024-05-01T03:00:00Z'): JobMessage => ({
  schema: 'mysql-pitr/job@2',
  kind,
  cluster: 'orders',
  idempotencyKey: `orders/${kind}/${scheduledAt}`,
  scheduledAt,
  trigger: 'schedule',
});

const settings: ClusterJobSettings = {
  cluster: 'orders',
  kinds: ['dump', 'expire', 'verify', 'compact'],
  repository: 's3://bucket/pitr/orders/',
  source: { url: 'mariadb://pitr@db:3306/', flavour: 'mariadb' },
  credentials: { secret: 'prod/orders', passwordKey: 'password' },
  retention: { keepDays: 14, keepBackups: 7 },
  tls: { mode: 'preferred' },
};
const clusters = new Map([
  ['orders', settings],
  // billing's dumps run on Fargate: this worker only expires it
  ['billing', { ...settings, cluster: 'billing', kinds: ['expire' as const] }],
]);

const job = (kind: JobMessage['kind'] = 'dump', scheduledAt = '2024-05-01T03:00:00Z'): ResolvedJob => {
  const { cluster: _c, kinds: _k, ...rest } = settings;
  return { ...message(kind, scheduledAt), ...rest };
};

describe('runJob', () => {
  let dir: string;
  let store: FsObjectStore;
  let metrics: string[];
  let clock: Date;

  const deps = (functions: Partial<JobFunctions>, over: Partial<RunJobDeps> = {}): RunJobDeps => ({
    repository: store,
    functions: {
      dump: () => Promise.reject(new Error('dump not expected')),
      expire: () => Promise.reject(new Error('expire not expected')),
      verify: () => Promise.reject(new Error('verify not expected')),
      compact: () => Promise.reject(new Error('compact not expected')),
      ...functions,
    },
    log: silentLogger,
    metrics: (l) => metrics.push(l),
    now: () => clock,
    leaseSeconds: 900,
    owner: 'test',
    ...over,
  });
  const metricValues = (): Array<Record<string, unknown>> =>
    metrics.map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pitr-jobs-'));
    store = new FsObjectStore({ root: dir });
    metrics = [];
    clock = new Date('2024-05-01T03:00:05Z');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names the markers after the kind and scheduled time', () => {
    assert.deepEqual(jobMarkerKeys(job('expire')), {
      running: 'jobs/expire/20240501T030000Z.running.json',
      done: 'jobs/expire/20240501T030000Z.done.json',
    });
  });

  it('runs a job, writes its done marker, removes its claim, and emits BackupSucceeded', async () => {
    let runs = 0;
    const res = await runJob(
      job(),
      deps({
        dump: async () => {
          runs++;
          return { details: { backup: 'b1' } };
        },
      }),
    );
    assert.equal(res.status, 'succeeded');
    assert.equal(runs, 1);
    const keys = jobMarkerKeys(job());
    assert.equal(await store.exists(keys.running), false);
    const done = JSON.parse((await store.get(keys.done)).toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(done['outcome'], { details: { backup: 'b1' } });
    assert.equal(done['idempotencyKey'], 'orders/dump/2024-05-01T03:00:00Z');
    assert.deepEqual(
      metricValues().map((m) => [m['Cluster'], m['JobSucceeded'], m['BackupSucceeded']]),
      [['orders', 1, 1]],
    );
  });

  it('skips a job whose done marker exists', async () => {
    await runJob(job(), deps({ dump: async () => ({}) }));
    let ran = false;
    const res = await runJob(job(), deps({ dump: async () => ((ran = true), {}) }));
    assert.equal(res.status, 'already-done');
    assert.equal(ran, false);
  });

  it('lets exactly one of two concurrent deliveries run; the other sees the live claim', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let runs = 0;
    const slowDump = async (): Promise<JobOutcome> => {
      runs++;
      await gate;
      return {};
    };
    const first = runJob(job(), deps({ dump: slowDump }, { owner: 'first' }));
    // Wait until the first holds its claim.
    while (!(await store.exists(jobMarkerKeys(job()).running))) await new Promise((r) => setTimeout(r, 5));
    const second = await runJob(job(), deps({ dump: slowDump }, { owner: 'second' }));
    assert.equal(second.status, 'in-progress');
    release();
    assert.equal((await first).status, 'succeeded');
    assert.equal(runs, 1);
  });

  it('takes over a claim whose lease ran out (its worker died) and runs the job', async () => {
    const keys = jobMarkerKeys(job());
    await store.put(
      keys.running,
      Buffer.from(
        JSON.stringify({
          owner: 'dead',
          startedAt: '2024-05-01T03:00:00Z',
          leaseUntil: '2024-05-01T03:15:00Z',
        }),
      ),
    );
    clock = new Date('2024-05-01T03:20:00Z');
    let ran = false;
    const res = await runJob(job(), deps({ dump: async () => ((ran = true), {}) }));
    assert.equal(res.status, 'succeeded');
    assert.ok(ran);
    assert.equal(await store.exists(keys.running), false);
  });

  it('on failure removes its claim, emits JobFailed and rethrows, so a retry can run it', async () => {
    const boom = new PitrError('MYSQL_CONNECTION', 'refused');
    await assert.rejects(runJob(job(), deps({ dump: () => Promise.reject(boom) })), (err) => err === boom);
    const keys = jobMarkerKeys(job());
    assert.equal(await store.exists(keys.running), false);
    assert.equal(await store.exists(keys.done), false);
    assert.deepEqual(
      metricValues().map((m) => m['JobFailed']),
      [1],
    );
    const retry = await runJob(job(), deps({ dump: async () => ({}) }));
    assert.equal(retry.status, 'succeeded');
  });

  it('completes a verify that found damage but raises VerifyFailed', async () => {
    const res = await runJob(
      job('verify'),
      deps({ verify: async () => ({ verified: false, details: { gaps: 1 } }) }),
    );
    assert.equal(res.status, 'succeeded');
    assert.deepEqual(
      metricValues().map((m) => [m['JobSucceeded'], m['VerifyFailed'], m['BackupSucceeded']]),
      [[1, 1, undefined]],
    );
  });

  it('raises NewestCommitUnrestorable when verify says the newest commit cannot be restored, 0 when it can, nothing when nothing is archived', async () => {
    const verify = (newestRestorable: boolean | undefined) => async () => ({
      verified: true,
      ...(newestRestorable === undefined ? {} : { newestRestorable }),
    });
    await runJob(job('verify', '2024-05-01T01:00:00Z'), deps({ verify: verify(false) }));
    await runJob(job('verify', '2024-05-01T02:00:00Z'), deps({ verify: verify(true) }));
    await runJob(job('verify', '2024-05-01T03:00:00Z'), deps({ verify: verify(undefined) }));
    assert.deepEqual(
      metricValues().map((m) => [m['JobSucceeded'], m['NewestCommitUnrestorable']]),
      [
        [1, 1],
        [1, 0],
        [1, undefined],
      ],
    );
  });

  it('raises VerifyFailed when verify throws, and 0 when it passes', async () => {
    await assert.rejects(runJob(job('verify'), deps({ verify: () => Promise.reject(new Error('s3 down')) })));
    await runJob(job('verify'), deps({ verify: async () => ({ verified: true }) }));
    assert.deepEqual(
      metricValues().map((m) => m['VerifyFailed']),
      [1, 0],
    );
  });
});

describe('runJobBatch', () => {
  it('reports failed and malformed records and only those; a message carrying more than a cluster and a kind, or for an unknown cluster, runs nothing', async () => {
    const body = (kind: JobMessage['kind']) => JSON.stringify(message(kind));
    const ran: string[] = [];
    const logged: string[] = [];
    const log = {
      ...silentLogger,
      error: (msg: string, f?: Record<string, unknown>) => void logged.push(`${msg} ${String(f?.['error'])}`),
    };
    const res = await runJobBatch(
      [
        { messageId: 'ok', body: body('dump') },
        { messageId: 'fails', body: body('expire') },
        { messageId: 'garbage', body: 'not json' },
        { messageId: 'wrong-schema', body: JSON.stringify({ ...message(), schema: 'other@1' }) },
        {
          messageId: 'with-endpoint',
          body: JSON.stringify({
            ...message('expire', '2024-05-02T03:00:00Z'),
            source: { url: 'mysql://x@evil:3306' },
          }),
        },
        {
          messageId: 'old-format',
          body: JSON.stringify({ ...job('dump', '2024-05-03T03:00:00Z'), schema: 'mysql-pitr/job@1' }),
        },
        {
          messageId: 'unknown-cluster',
          body: JSON.stringify({
            ...message(),
            cluster: 'payroll',
            idempotencyKey: 'payroll/dump/2024-05-01T03:00:00Z',
          }),
        },
        {
          messageId: 'kind-elsewhere',
          body: JSON.stringify({
            ...message(),
            cluster: 'billing',
            idempotencyKey: 'billing/dump/2024-05-01T03:00:00Z',
          }),
        },
      ],
      clusters,
      async (j) => {
        ran.push(j.idempotencyKey);
        if (j.kind === 'expire') throw new PitrError('STORAGE_UNAVAILABLE', 'S3 is down');
        assert.equal(j.repository, 's3://bucket/pitr/orders/', 'parameters come from the settings');
        return { status: 'succeeded' };
      },
      log as typeof silentLogger,
    );
    assert.deepEqual(
      res.batchItemFailures.map((f) => f.itemIdentifier),
      [
        'fails',
        'garbage',
        'wrong-schema',
        'with-endpoint',
        'old-format',
        'unknown-cluster',
        'kind-elsewhere',
      ],
    );
    assert.deepEqual(ran, ['orders/dump/2024-05-01T03:00:00Z', 'orders/expire/2024-05-01T03:00:00Z']);
    assert.ok(
      logged.some((l) => /carries source: a job message names only a cluster and a job kind/.test(l)),
      logged.join('\n'),
    );
    assert.ok(
      logged.some((l) => /carries repository, source, credentials, retention, tls/.test(l)),
      logged.join('\n'),
    );
    assert.ok(
      logged.some((l) =>
        /job 'dump' for cluster 'billing' does not run on this worker \(it runs expire/.test(l),
      ),
      logged.join('\n'),
    );
    assert.ok(
      logged.some((l) => /unknown cluster 'payroll': this worker serves orders/.test(l)),
      logged.join('\n'),
    );
  });
});

describe('emfLine', () => {
  it('writes CloudWatch Embedded Metric Format with the Cluster dimension', () => {
    const line = JSON.parse(
      emfLine('orders', { BackupSucceeded: 1, ArchiveLagSeconds: 2.5 }, new Date(1714532400000)),
    ) as Record<string, unknown>;
    assert.deepEqual(line, {
      _aws: {
        Timestamp: 1714532400000,
        CloudWatchMetrics: [
          {
            Namespace: 'MysqlPitr',
            Dimensions: [['Cluster']],
            Metrics: [
              { Name: 'BackupSucceeded', Unit: 'Count' },
              { Name: 'ArchiveLagSeconds', Unit: 'Seconds' },
            ],
          },
        ],
      },
      Cluster: 'orders',
      BackupSucceeded: 1,
      ArchiveLagSeconds: 2.5,
    });
  });
});
