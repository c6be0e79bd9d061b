import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDeploymentConfig } from '../../src/config/deployment-config.js';
import { isPitrError } from '../../src/errors/index.js';
import {
  DISPATCHER_ENV,
  IMAGE_CA_BUNDLE,
  clusterJobSettings,
  parseClusterJobSettings,
  JOB_ENV_VAR,
  ecsClientToken,
  parseJobMessage,
  parseS3RepositoryUrl,
  planDispatch,
  readDispatchTargets,
  type DispatchTargets,
} from '../../src/jobs/index.js';

const config = loadDeploymentConfig(new URL('../../cdk/clusters.example.json', import.meta.url));
const targets: DispatchTargets = {
  repositoryBucket: 'pitr-bucket',
  jobQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs',
  fargate: {
    clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/pitr',
    taskDefinitions: {
      orders: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/mysql-pitr-job-orders:1',
      billing: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/mysql-pitr-job-billing:3',
    },
    containerName: 'job',
    subnetIds: ['subnet-1', 'subnet-2'],
    securityGroupIds: ['sg-1'],
  },
};
const NOW = new Date('2030-01-01T00:00:00Z');

describe('planDispatch', () => {
  it('sends a Lambda-worker job (orders expire) to SQS with a deterministic idempotency key and a self-contained message', () => {
    const plan = planDispatch(
      { cluster: 'orders', job: 'expire', scheduledAt: '2024-05-01T04:30:00.000Z' },
      config,
      targets,
      NOW,
    );
    assert.equal(plan.via, 'sqs');
    if (plan.via !== 'sqs') return;
    assert.equal(plan.sendMessage.QueueUrl, targets.jobQueueUrl);
    const message = parseJobMessage(plan.sendMessage.MessageBody);
    // a message names only the cluster and the job kind: no endpoint, secret, prefix or retention
    assert.deepEqual(message, {
      schema: 'mysql-pitr/job@2',
      kind: 'expire',
      cluster: 'orders',
      idempotencyKey: 'orders/expire/2024-05-01T04:30:00Z',
      scheduledAt: '2024-05-01T04:30:00Z',
      trigger: 'schedule',
    });
    // ... which the worker takes from its clusters table, built from the same deployment config
    const settings = clusterJobSettings(config, targets.repositoryBucket).find((c) => c.cluster === 'orders');
    assert.deepEqual(settings, {
      cluster: 'orders',
      kinds: ['dump', 'expire', 'verify', 'compact'],
      repository: 's3://pitr-bucket/pitr/orders/',
      source: {
        url: 'mariadb://pitr@orders.cluster-abc123.eu-west-1.rds.amazonaws.com:3306/?ssl=true',
        flavour: 'mariadb',
      },
      credentials: { secret: 'prod/orders/pitr', passwordKey: 'password' },
      retention: { keepDays: 14, keepBackups: 7 },
      tls: { mode: 'verify-identity', caFile: IMAGE_CA_BUNDLE },
    });
    const table = parseClusterJobSettings(JSON.stringify(clusterJobSettings(config, 'pitr-bucket')));
    assert.deepEqual(table.get('orders'), settings, 'the table survives its trip through the environment');
    assert.equal(plan.sendMessage.MessageAttributes['idempotencyKey']?.StringValue, message.idempotencyKey);
    const again = planDispatch(
      { cluster: 'orders', job: 'expire', scheduledAt: '2024-05-01T04:30:00Z' },
      config,
      targets,
      new Date(),
    );
    assert.deepEqual(again, plan, 'a retried event gives the same plan');
  });

  it('starts a Fargate task from the cluster job task definition, with the message in the environment and a clientToken', () => {
    const plan = planDispatch(
      { cluster: 'billing', job: 'dump', scheduledAt: '2024-05-01T00:00:00Z' },
      config,
      targets,
      NOW,
    );
    assert.equal(plan.via, 'fargate');
    if (plan.via !== 'fargate') return;
    assert.equal(plan.runTask.taskDefinition, targets.fargate.taskDefinitions['billing']);
    assert.equal(plan.runTask.clientToken, ecsClientToken('billing/dump/2024-05-01T00:00:00Z'));
    assert.equal(plan.runTask.clientToken.length, 64);
    assert.deepEqual(plan.runTask.networkConfiguration.awsvpcConfiguration.subnets, ['subnet-1', 'subnet-2']);
    const env = plan.runTask.overrides.containerOverrides[0]!;
    assert.equal(env.name, 'job');
    assert.equal(env.environment[0]!.name, JOB_ENV_VAR);
    assert.equal(parseJobMessage(env.environment[0]!.value).cluster, 'billing');
  });

  it('uses the clock and marks the job manual when the event has no scheduledAt', () => {
    const plan = planDispatch(
      { cluster: 'orders', job: 'expire' },
      config,
      targets,
      new Date('2030-01-01T00:00:00.999Z'),
    );
    assert.equal(plan.message.scheduledAt, '2030-01-01T00:00:00Z');
    assert.equal(plan.message.trigger, 'manual');
  });

  const rejects = (event: unknown, pattern: RegExp, t: DispatchTargets = targets) =>
    assert.throws(
      () => planDispatch(event, config, t, NOW),
      (err: unknown) => isPitrError(err, 'CONFIG_INVALID') && pattern.test(err.message),
    );

  it('rejects unknown clusters, unknown jobs, turned-off verify, bad times and missing task definitions', () => {
    rejects(
      { cluster: 'nope', job: 'dump' },
      /cluster 'nope', which is not in deployment 'pitr-prod' \(clusters: orders, billing\)/,
    );
    rejects({ cluster: 'orders', job: 'backup' }, /job "backup" is not one of dump, expire, verify/);
    rejects({ cluster: 'billing', job: 'verify' }, /verify is turned off for cluster 'billing'/);
    rejects(
      { cluster: 'orders', job: 'dump', scheduledAt: 'yesterday' },
      /scheduledAt 'yesterday' is not an ISO-8601 UTC time/,
    );
    rejects('orders', /must be an object/);
    rejects({ cluster: 'billing', job: 'dump' }, /no job task definition for it.*redeploy/, {
      ...targets,
      fargate: { ...targets.fargate, taskDefinitions: {} },
    });
  });
});

describe('readDispatchTargets', () => {
  const env = {
    [DISPATCHER_ENV.repositoryBucket]: 'b',
    [DISPATCHER_ENV.jobQueueUrl]: 'q',
    [DISPATCHER_ENV.ecsCluster]: 'c',
    [DISPATCHER_ENV.taskDefinitions]: '{"billing":"td"}',
    [DISPATCHER_ENV.containerName]: 'job',
    [DISPATCHER_ENV.subnets]: 'subnet-1, subnet-2',
    [DISPATCHER_ENV.securityGroups]: 'sg-1',
  };

  it('reads the environment the stack sets', () => {
    const t = readDispatchTargets(env);
    assert.deepEqual(t.fargate.taskDefinitions, { billing: 'td' });
    assert.deepEqual(t.fargate.subnetIds, ['subnet-1', 'subnet-2']);
  });

  it('names every missing variable and says to redeploy', () => {
    assert.throws(
      () =>
        readDispatchTargets({
          ...env,
          [DISPATCHER_ENV.jobQueueUrl]: '',
          [DISPATCHER_ENV.taskDefinitions]: undefined,
        }),
      /lacks environment variables MYSQL_PITR_JOB_QUEUE_URL, MYSQL_PITR_JOB_TASK_DEFINITIONS; .*redeploy/,
    );
    assert.throws(
      () => readDispatchTargets({ ...env, [DISPATCHER_ENV.taskDefinitions]: '["td"]' }),
      /not a JSON object/,
    );
  });
});

describe('parseS3RepositoryUrl', () => {
  it('splits bucket and prefix', () => {
    assert.deepEqual(parseS3RepositoryUrl('s3://pitr-bucket/pitr/orders/'), {
      bucket: 'pitr-bucket',
      prefix: 'pitr/orders',
    });
    assert.deepEqual(parseS3RepositoryUrl('s3://pitr-bucket'), { bucket: 'pitr-bucket', prefix: '' });
    assert.throws(() => parseS3RepositoryUrl('file:///tmp/x'), /not an s3:\/\/bucket\/prefix\/ URL/);
  });
});

describe('parseJobMessage', () => {
  it('rejects a message whose idempotency key does not match its fields', () => {
    const plan = planDispatch(
      { cluster: 'orders', job: 'dump', scheduledAt: '2024-05-01T03:00:00Z' },
      config,
      targets,
      NOW,
    );
    const tampered = { ...plan.message, idempotencyKey: 'orders/dump/2024-05-02T03:00:00Z' };
    assert.throws(
      () => parseJobMessage(JSON.stringify(tampered)),
      /idempotencyKey .* does not match cluster\/kind\/scheduledAt/,
    );
  });
});
