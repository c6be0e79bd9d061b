import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkScheduleExpression,
  clusterRepositoryUrl,
  clusterSourceUrl,
  loadDeploymentConfig,
} from '../../src/config/deployment-config.js';
import { deploymentProblems } from '../support/deployment-problems.js';

const minimal = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  deployment: 'prod',
  image: { repository: 'mysql-pitr', tag: '0.1.0' },
  network: { createVpc: {} },
  defaults: { flavour: 'mariadb', source: { user: 'pitr' }, credentials: { secret: 'prod/pitr' } },
  clusters: [{ name: 'orders', source: { host: 'db1.internal' } }],
  ...over,
});

const problems = deploymentProblems;

describe('loadDeploymentConfig', () => {
  it('loads the example and fills every default', () => {
    const c = loadDeploymentConfig(new URL('../../cdk/clusters.example.json', import.meta.url));
    assert.equal(c.deployment, 'pitr-prod');
    const [orders, billing] = c.clusters;
    assert.deepEqual(orders!.workers, {
      dump: 'fargate',
      expire: 'lambda',
      verify: 'lambda',
      compact: 'lambda',
    });
    assert.deepEqual(billing!.workers, {
      dump: 'fargate',
      expire: 'lambda',
      verify: 'fargate',
      compact: 'lambda',
    });
    assert.equal(billing!.schedules.verify, undefined);
    assert.equal(orders!.schedules.compact, 'cron(20 * * * ? *)', 'compaction is hourly by default');
    assert.equal(orders!.archiver.flushIntervalSeconds, 1);
    assert.equal(c.repository.noncurrentVersionExpirationDays, 7);
    assert.deepEqual(c.repository.objectLock, { enabled: true, mode: 'governance', retentionDays: 7 });
    assert.equal(c.jobs.lambdaTimeoutSeconds, 900);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.clusters[0]!.source));
    assert.equal(clusterSourceUrl(billing!), 'mysql://pitr@10.20.30.40:3307/?ssl=true');
    assert.equal(clusterRepositoryUrl('b', c.repository, 'orders'), 's3://b/pitr/orders/');
  });

  it('reports every problem at once, each with its field path', () => {
    const found = problems(
      minimal({
        deployment: 'Prod!',
        clusters: [
          { name: 'orders', source: { host: 'mysql://db1:3306' }, schedules: { dump: 'cron(0 3 * * *)' } },
          { name: 'orders', source: { host: 'db2' }, workers: { dump: 'ec2' }, retention: { keepDays: 0 } },
        ],
      }),
    );
    assert.ok(
      found.some((p) => p.startsWith("deployment: 'Prod!' is not valid")),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) =>
        p.startsWith(
          "clusters[0].source.host: 'mysql://db1:3306' must be a host name only, without a scheme",
        ),
      ),
    );
    assert.ok(
      found.some((p) =>
        p.startsWith("clusters[0].schedules.dump: 'cron(0 3 * * *)' has 5 fields; EventBridge cron needs 6"),
      ),
    );
    assert.ok(
      found.some((p) =>
        p.startsWith("clusters[1].workers.dump: 'ec2' is not allowed; use one of 'lambda', 'fargate'"),
      ),
    );
    assert.ok(found.some((p) => p.startsWith('clusters[1].retention.keepDays: 0 is out of range')));
  });

  it('suggests the nearest field name for a typo', () => {
    assert.deepEqual(
      problems(minimal({ repositry: {} })).filter((p) => p.startsWith('repositry')),
      [
        'repositry: unknown field; did you mean repository? Allowed here: deployment, env, image, repository, network, jobs, alarms, logRetentionDays, defaults, clusters',
      ],
    );
  });

  it('refuses the removed safetyNetExpirationDays: expire is the only retention', () => {
    const found = problems(minimal({ repository: { safetyNetExpirationDays: 60 } }));
    assert.match(
      found.join('\n'),
      /repository\.safetyNetExpirationDays: was removed: no lifecycle rule expires current objects any more/,
    );
  });

  it('refuses a backup-age alarm longer than CloudWatch can evaluate', () => {
    assert.match(
      problems(
        minimal({ defaults: { ...(minimal()['defaults'] as object), alarms: { maxBackupAgeHours: 200 } } }),
      ).join('\n'),
      /maxBackupAgeHours: 200 is out of range; allowed 1 to 168/,
    );
  });

  it('requires subnet ids for an existing VPC and zones when the account and region are fixed', () => {
    assert.match(
      problems(minimal({ network: { vpcId: 'vpc-0123456789abcdef0' } })).join('\n'),
      /network\.subnetIds: is required/,
    );
    assert.match(
      problems(minimal({ env: { account: '123456789012', region: 'eu-west-1' } })).join('\n'),
      /network\.createVpc\.availabilityZones: is required when env\.account and env\.region are both set/,
    );
  });

  it('rejects Fargate sizes Fargate does not offer', () => {
    assert.match(
      problems(minimal({ jobs: { fargateCpu: 1024, fargateMemoryMiB: 1024 } })).join('\n'),
      /jobs\.fargateMemoryMiB: 1024 MiB is not valid with 1024 CPU units on Fargate; use 2048 to 8192 in steps of 1024/,
    );
  });

  it('says how to fix a file that is missing or not JSON', () => {
    assert.throws(
      () => loadDeploymentConfig('/nonexistent/clusters.json'),
      /cannot read deployment config \/nonexistent\/clusters\.json: .*Check the path/,
    );
    assert.throws(
      () => loadDeploymentConfig('{ "deployment": '),
      /deployment config is not valid JSON: .*Fix the syntax/,
    );
  });
});

describe('checkScheduleExpression', () => {
  it('accepts EventBridge cron and rate expressions and explains bad ones', () => {
    for (const ok of [
      'cron(0 3 * * ? *)',
      'cron(0/15 * ? * MON-FRI *)',
      'cron(0 6 L * ? *)',
      'cron(0 6 ? * 6#3 *)',
      'rate(1 day)',
      'rate(12 hours)',
    ]) {
      assert.equal(checkScheduleExpression(ok), undefined, ok);
    }
    assert.match(
      checkScheduleExpression('cron(0 3 * * * *)')!,
      /\? in exactly one of day-of-month and day-of-week/,
    );
    assert.match(
      checkScheduleExpression('cron(60 3 * * ? *)')!,
      /minutes field '60': 60 is out of range 0-59/,
    );
    assert.match(checkScheduleExpression('rate(1 days)')!, /singular unit for 1: rate\(1 day\)/);
    assert.match(checkScheduleExpression('every day')!, /is not a cron or rate expression/);
  });
});
