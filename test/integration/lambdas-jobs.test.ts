import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { createDispatcherHandler, awsDispatchPorts } from '../../lambdas/dispatcher.js';
import { createWorkerHandler, type SqsEvent } from '../../lambdas/worker.js';
import { loadDeploymentConfig } from '../../src/config/deployment-config.js';
import { PitrError } from '../../src/errors/index.js';
import {
  clusterJobSettings,
  jobIdempotencyKey,
  jobMarkerKeys,
  JOB_MESSAGE_SCHEMA,
  parseS3RepositoryUrl,
  type DispatchTargets,
  type JobFunctions,
  type JobMessage,
} from '../../src/jobs/index.js';
import { silentLogger, type Logger } from '../../src/log/index.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';

const MAX_RECEIVE_COUNT = 3;

const config = loadDeploymentConfig({
  deployment: 'it',
  image: { repository: 'mysql-pitr', tag: 'test' },
  repository: { prefix: 'pitr/' },
  network: { createVpc: {} },
  defaults: {
    flavour: 'mariadb',
    source: { user: 'pitr', port: 3306 },
    credentials: { secret: 'it/pitr' },
    workers: { dump: 'lambda', expire: 'lambda', verify: 'lambda' },
  },
  clusters: [
    { name: 'orders', source: { host: 'orders.db.internal' } },
    { name: 'broken', source: { host: 'broken.db.internal' } },
  ],
});

/**
 * The dump port for this test: no database yet (the real dump is `backup create`), but real work
 * against the emulated repository, so a second run would be visible as a second object.
 */
function markerDumps(runs: string[]): JobFunctions {
  const fail = (kind: string) => () =>
    Promise.reject(new PitrError('NOT_IMPLEMENTED', `${kind} is not part of this test`));
  return {
    async dump(job, { repository }) {
      runs.push(job.idempotencyKey);
      if (job.cluster === 'broken') {
        throw new PitrError(
          'MYSQL_CONNECTION',
          `cannot connect to ${job.source.url}: connection refused (test)`,
        );
      }
      // A unique key per run: a second run for the same schedule would leave a second object.
      const key = `dumps/${job.scheduledAt.replace(/[-:]/g, '')}-${runs.length}.marker`;
      await repository.put(key, Buffer.from(JSON.stringify({ idempotencyKey: job.idempotencyKey })));
      return { details: { key } };
    },
    expire: fail('expire'),
    verify: fail('verify'),
    compact: fail('compact'),
  };
}

describe('dispatcher and worker Lambdas against the SQS/S3 emulator', () => {
  let emu: S3Emulator;
  let sqs: SQSClient;
  let queueUrl: string;
  let dlqUrl: string;
  let dispatch: ReturnType<typeof createDispatcherHandler>;
  let work: ReturnType<typeof createWorkerHandler>;
  const runs: string[] = [];
  const metrics: string[] = [];
  const errors: string[] = [];
  const recordingLog: Logger = {
    ...silentLogger,
    error: (msg, fields) => void errors.push(`${msg}: ${String(fields?.['error'])}`),
    child: () => recordingLog,
  };

  const store = (job: { repository: string }): S3ObjectStore => {
    const { bucket, prefix } = parseS3RepositoryUrl(job.repository);
    return new S3ObjectStore({
      bucket,
      prefix,
      endpoint: emu.endpoint,
      region: emu.region,
      credentials: emu.credentials,
      maxAttempts: 2,
    });
  };
  const bucketStore = (): S3ObjectStore =>
    new S3ObjectStore({
      bucket: emu.bucket,
      endpoint: emu.endpoint,
      region: emu.region,
      credentials: emu.credentials,
    });
  const keys = async (prefix: string): Promise<string[]> => {
    const out: string[] = [];
    for await (const o of bucketStore().list(prefix)) out.push(o.key);
    return out;
  };
  /** One receive, as Lambda's poller does it; waits for the message to become visible again. */
  const receive = async (url: string): Promise<Message[]> => {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 3,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    return out.Messages ?? [];
  };
  const toEvent = (messages: Message[]): SqsEvent => ({
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      body: m.Body!,
      attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' },
    })),
  });
  /** What Lambda does with the handler's answer: delete the records not reported as failed. */
  const settle = async (messages: Message[], failed: string[]): Promise<void> => {
    for (const m of messages) {
      if (!failed.includes(m.MessageId!))
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  };

  before(async () => {
    emu = await startS3Emulator({ bucket: 'pitr-it' });
    sqs = new SQSClient({ endpoint: emu.sqsEndpoint, region: emu.region, credentials: emu.credentials });
    dlqUrl = await emu.createQueue('pitr-jobs-dlq');
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes!['QueueArn']!;
    queueUrl = await emu.createQueue('pitr-jobs', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlqArn,
        maxReceiveCount: String(MAX_RECEIVE_COUNT),
      }),
    });
    const targets: DispatchTargets = {
      repositoryBucket: emu.bucket,
      jobQueueUrl: queueUrl,
      fargate: {
        clusterArn: 'unused',
        taskDefinitions: {},
        containerName: 'job',
        subnetIds: [],
        securityGroupIds: [],
      },
    };
    dispatch = createDispatcherHandler({ config, targets, ports: awsDispatchPorts(sqs), log: silentLogger });
    // the worker's clusters table, as the CDK app builds it from the same deployment config
    work = createWorkerHandler({
      clusters: new Map(clusterJobSettings(config, emu.bucket).map((c) => [c.cluster, c])),
      functions: markerDumps(runs),
      openRepository: store,
      log: recordingLog,
      metrics: (line) => metrics.push(line),
    });
  });
  after(async () => {
    sqs?.destroy();
    await emu?.stop();
  });

  it('turns a schedule event into one SQS job message, which the worker runs once', async () => {
    const sent = await dispatch({ cluster: 'orders', job: 'dump', scheduledAt: '2024-05-01T03:00:00.000Z' });
    assert.equal(sent.via, 'sqs');
    assert.equal(sent.idempotencyKey, 'orders/dump/2024-05-01T03:00:00Z');

    const messages = await receive(queueUrl);
    assert.equal(messages.length, 1);
    const job = JSON.parse(messages[0]!.Body!) as JobMessage;
    assert.deepEqual(
      Object.keys(job).sort(),
      ['cluster', 'idempotencyKey', 'kind', 'scheduledAt', 'schema', 'trigger'],
      'the message names only a cluster and a job kind (and its schedule)',
    );

    const res = await work(toEvent(messages), {
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => 60_000,
    });
    assert.deepEqual(res, { batchItemFailures: [] });
    await settle(messages, []);

    assert.deepEqual(runs, ['orders/dump/2024-05-01T03:00:00Z']);
    const markers = jobMarkerKeys(job);
    assert.deepEqual(
      await keys('pitr/orders/'),
      [`pitr/orders/dumps/20240501T030000Z-1.marker`, `pitr/orders/${markers.done}`].sort(),
    );
    const done = JSON.parse(
      (await store({ repository: 's3://pitr-it/pitr/orders/' }).get(markers.done)).toString('utf8'),
    ) as Record<string, unknown>;
    assert.equal(done['owner'], 'lambda:req-1');
    const emf = metrics
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((m) => m['Cluster'] === 'orders')!;
    assert.equal(emf['BackupSucceeded'], 1);
    assert.equal(emf['JobSucceeded'], 1);
    assert.equal(
      (emf['_aws'] as { CloudWatchMetrics: Array<{ Namespace: string }> }).CloudWatchMetrics[0]!.Namespace,
      'MysqlPitr',
    );
  });

  it('does not run the job again when the message is redelivered or the schedule is dispatched twice', async () => {
    // An EventBridge retry: the same scheduled time dispatched again, twice, yields two more messages.
    await dispatch({ cluster: 'orders', job: 'dump', scheduledAt: '2024-05-01T03:00:00Z' });
    await dispatch({ cluster: 'orders', job: 'dump', scheduledAt: '2024-05-01T03:00:00Z' });
    const messages = await receive(queueUrl);
    assert.equal(messages.length, 2);
    // Delivered to two workers at once, and each delivery handled again (an SQS duplicate).
    const results = await Promise.all([
      work(toEvent(messages)),
      work(toEvent(messages)),
      work(toEvent(messages.slice(0, 1))),
    ]);
    for (const r of results) assert.deepEqual(r, { batchItemFailures: [] });
    await settle(messages, []);

    assert.equal(runs.length, 1, `dump ran ${runs.length} times: ${runs.join(', ')}`);
    assert.deepEqual(await keys('pitr/orders/dumps/'), ['pitr/orders/dumps/20240501T030000Z-1.marker']);
    assert.deepEqual(await receive(queueUrl), [], 'every duplicate was acknowledged');
  });

  it('runs two jobs when they are for different scheduled times', async () => {
    await dispatch({ cluster: 'orders', job: 'dump', scheduledAt: '2024-05-02T03:00:00Z' });
    const messages = await receive(queueUrl);
    assert.deepEqual(await work(toEvent(messages)), { batchItemFailures: [] });
    await settle(messages, []);
    assert.equal(runs.length, 2);
    assert.deepEqual(await keys('pitr/orders/dumps/'), [
      'pitr/orders/dumps/20240501T030000Z-1.marker',
      'pitr/orders/dumps/20240502T030000Z-2.marker',
    ]);
  });

  it('reports a failing job in batchItemFailures, retries it, and after maxReceiveCount it lands in the dead-letter queue', async () => {
    runs.length = 0;
    metrics.length = 0;
    await dispatch({ cluster: 'broken', job: 'dump', scheduledAt: '2024-05-01T03:00:00Z' });
    const receiveCounts: string[] = [];
    for (let attempt = 1; attempt <= MAX_RECEIVE_COUNT; attempt++) {
      const messages = await receive(queueUrl);
      assert.equal(messages.length, 1, `delivery ${attempt}`);
      receiveCounts.push(messages[0]!.Attributes!['ApproximateReceiveCount']!);
      const res = await work(toEvent(messages));
      assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: messages[0]!.MessageId! }] });
      await settle(messages, [messages[0]!.MessageId!]);
    }
    assert.deepEqual(receiveCounts, ['1', '2', '3']);
    assert.deepEqual(
      runs,
      Array(MAX_RECEIVE_COUNT).fill('broken/dump/2024-05-01T03:00:00Z'),
      'each retry ran the job again',
    );
    assert.deepEqual(await keys('pitr/broken/'), [], 'a failed attempt leaves no claim and no done marker');
    assert.equal(
      metrics.filter((l) => (JSON.parse(l) as Record<string, unknown>)['JobFailed'] === 1).length,
      MAX_RECEIVE_COUNT,
    );

    assert.deepEqual(
      await receive(queueUrl),
      [],
      'after maxReceiveCount the job queue no longer delivers it',
    );
    const dead = await receive(dlqUrl);
    assert.equal(dead.length, 1);
    assert.equal(
      (JSON.parse(dead[0]!.Body!) as JobMessage).idempotencyKey,
      'broken/dump/2024-05-01T03:00:00Z',
    );
    await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: dead[0]!.ReceiptHandle! }));
  });

  it('reports a message that is not a job as failed, so it reaches the dead-letter queue too', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"hello":"world"}' }));
    const messages = await receive(queueUrl);
    assert.equal(messages.length, 1);
    const res = await work(toEvent(messages));
    assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: messages[0]!.MessageId! }] });
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: messages[0]!.ReceiptHandle! }),
    );
  });

  it('a message for an unknown cluster, or carrying an endpoint, runs nothing and lands in the dead-letter queue', async () => {
    runs.length = 0;
    errors.length = 0;
    const scheduledAt = '2024-06-01T03:00:00Z';
    const message = (cluster: string): JobMessage => ({
      schema: JOB_MESSAGE_SCHEMA,
      kind: 'dump',
      cluster,
      idempotencyKey: jobIdempotencyKey(cluster, 'dump', scheduledAt),
      scheduledAt,
      trigger: 'schedule',
    });
    const forged = [
      JSON.stringify(message('payroll')),
      // a valid job of a real cluster, pointed at another host: its password must never go there
      JSON.stringify({ ...message('orders'), source: { url: 'mysql://pitr@attacker.example:3306/' } }),
    ];
    for (const body of forged)
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    for (let attempt = 1; attempt <= MAX_RECEIVE_COUNT; attempt++) {
      const messages = await receive(queueUrl);
      assert.equal(messages.length, 2, `delivery ${attempt}`);
      const res = await work(toEvent(messages));
      assert.deepEqual(
        res.batchItemFailures.map((f) => f.itemIdentifier).sort(),
        messages.map((m) => m.MessageId!).sort(),
      );
      await settle(
        messages,
        messages.map((m) => m.MessageId!),
      );
    }
    assert.deepEqual(runs, [], 'no job function ran');
    assert.deepEqual(await keys('pitr/payroll/'), []);
    assert.deepEqual(await keys('pitr/orders/jobs/dump/20240601'), [], 'no claim or done marker for orders');
    assert.ok(
      errors.some((e) => /unknown cluster 'payroll': this worker serves orders, broken/.test(e)),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => /carries source: a job message names only a cluster and a job kind/.test(e)),
      errors.join('\n'),
    );
    assert.deepEqual(await receive(queueUrl), []);
    const dead = [...(await receive(dlqUrl)), ...(await receive(dlqUrl))];
    assert.deepEqual(dead.map((m) => m.Body).sort(), [...forged].sort(), 'both are in the dead-letter queue');
    for (const m of dead)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle! }));
  });

  it('rejects a schedule event for a cluster the config does not have, sending nothing', async () => {
    await assert.rejects(
      dispatch({ cluster: 'nope', job: 'dump', scheduledAt: '2024-05-01T03:00:00Z' }),
      /cluster 'nope', which is not in deployment 'it'/,
    );
    assert.deepEqual(await receive(queueUrl), []);
  });
});
