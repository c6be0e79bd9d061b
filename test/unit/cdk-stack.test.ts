import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildPitrApp } from '../../cdk/lib/build-pitr-app.js';
import { isPitrError } from '../../src/errors/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'cdk/clusters.example.json');

type Resource = { Type: string; Properties: Record<string, unknown> };

/** Every IAM action granted by inline policies attached to the role with this logical id. */
function actionsOfRole(template: Template, roleLogicalId: string): string[] {
  const out: string[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]) {
    const roles = (policy.Properties['Roles'] as Array<{ Ref?: string }>).map((r) => r.Ref);
    if (!roles.includes(roleLogicalId)) continue;
    const doc = policy.Properties['PolicyDocument'] as {
      Statement: Array<{ Effect: string; Action: string | string[] }>;
    };
    for (const st of doc.Statement) if (st.Effect === 'Allow') out.push(...[st.Action].flat());
  }
  return out;
}

function roleOf(ref: unknown): string {
  const getAtt = (ref as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  assert.ok(getAtt, `expected a Fn::GetAtt role reference, got ${JSON.stringify(ref)}`);
  return getAtt[0];
}

describe('cdk stack from cdk/clusters.example.json', () => {
  let template: Template;
  let resources: Record<string, Resource>;
  let outdir: string;

  before(() => {
    outdir = mkdtempSync(join(tmpdir(), 'pitr-cdk-'));
    const app = new App({ outdir });
    const stack = buildPitrApp(app, { configPath: EXAMPLE, projectRoot: ROOT });
    template = Template.fromStack(stack);
    resources = template.toJSON()['Resources'] as Record<string, Resource>;
  });
  after(() => rmSync(outdir, { recursive: true, force: true }));

  it('encrypts the repository bucket with a rotated KMS key, versions it and blocks public access', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            BucketKeyEnabled: true,
          },
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 7 } },
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('aborts incomplete uploads and expires noncurrent versions; no rule expires a current object', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'abort-incomplete-multipart-uploads',
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 },
            Status: 'Enabled',
          }),
          Match.objectLike({
            Id: 'noncurrent-version-expiration',
            Prefix: 'pitr/',
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
            Status: 'Enabled',
          }),
        ]),
      },
    });
    // `expire` is the only retention: an age rule deleted timeline records and kept backups
    const buckets = Object.values(template.findResources('AWS::S3::Bucket'));
    assert.ok(buckets.length > 0);
    for (const b of buckets) {
      const rules =
        (b as { Properties: { LifecycleConfiguration?: { Rules: Record<string, unknown>[] } } }).Properties
          .LifecycleConfiguration?.Rules ?? [];
      assert.ok(rules.length >= 2);
      for (const rule of rules) {
        for (const key of ['ExpirationInDays', 'ExpirationDate', 'Transitions', 'Transition']) {
          assert.equal(rule[key], undefined, `lifecycle rule ${String(rule['Id'])} sets ${key}`);
        }
      }
    }
  });

  it('denies non-TLS and old-TLS access in the bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  it('gives the job queue a dead-letter queue with maxReceiveCount 3 and a visibility timeout of 6x the worker timeout', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const [dlqId] = Object.entries(queues).find(([id]) => id.includes('DeadLetter'))!;
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 5400,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86400 });
  });

  it('schedules dump, expire and verify per cluster, with the event time as scheduledAt, and skips verify when off', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
    const byInput = new Map<string, string>();
    for (const r of rules) {
      const target = (r.Properties['Targets'] as Array<Record<string, unknown>>)[0]!;
      const transformer = target['InputTransformer'] as {
        InputPathsMap: Record<string, string>;
        InputTemplate: string;
      };
      assert.deepEqual(Object.values(transformer.InputPathsMap), ['$.time']);
      assert.deepEqual(target['RetryPolicy'], { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 4 });
      assert.match(
        JSON.stringify(target['DeadLetterConfig']),
        /JobsDeadLetterQueue/,
        'undeliverable schedule events reach the alarmed DLQ',
      );
      const input = JSON.parse(transformer.InputTemplate.replace(/<([a-z-]+)>/g, '"$1"')) as Record<
        string,
        string
      >;
      byInput.set(`${input['cluster']}/${input['job']}`, r.Properties['ScheduleExpression'] as string);
    }
    assert.deepEqual(Object.fromEntries([...byInput].sort()), {
      'billing/compact': 'cron(20 * * * ? *)',
      'billing/dump': 'rate(12 hours)',
      'billing/expire': 'cron(30 4 * * ? *)',
      'orders/compact': 'cron(20 * * * ? *)',
      'orders/dump': 'cron(0 3 * * ? *)',
      'orders/expire': 'cron(30 4 * * ? *)',
      'orders/verify': 'cron(0 6 ? * SUN *)',
    });
  });

  it('wires the dispatcher to the queue, the bucket and the per-cluster Fargate job task definitions', () => {
    const fn = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties).includes('MYSQL_PITR_JOB_QUEUE_URL'),
    )!;
    assert.equal(fn.Properties['Runtime'], 'nodejs22.x');
    const env = (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    assert.equal(env['MYSQL_PITR_DEPLOYMENT_CONFIG'], '/var/task/deployment-config.json');
    assert.deepEqual(env['MYSQL_PITR_JOB_QUEUE_URL'], {
      Ref: Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => !id.includes('DeadLetter')),
    });
    assert.equal(env['MYSQL_PITR_JOB_CONTAINER'], 'job');
    const taskDefs = JSON.stringify(env['MYSQL_PITR_JOB_TASK_DEFINITIONS']);
    for (const cluster of ['orders', 'billing']) {
      const id = Object.entries(template.findResources('AWS::ECS::TaskDefinition')).find(
        ([, td]) => (td as Resource).Properties['Family'] === `mysql-pitr-job-${cluster}`,
      )?.[0];
      assert.ok(id, `${cluster} dumps on Fargate, so it has a job task definition`);
      assert.ok(taskDefs.includes(`"${cluster}\\":\\"`) && taskDefs.includes(`"Ref":"${id}"`), taskDefs);
    }
    const dispatcherRole = roleOf(fn.Properties['Role']);
    const actions = actionsOfRole(template, dispatcherRole);
    assert.ok(actions.includes('sqs:SendMessage'), actions.join());
    assert.ok(actions.includes('ecs:RunTask'), actions.join());
    assert.ok(actions.includes('iam:PassRole'), actions.join());
    assert.ok(
      !actions.some((a) => a.startsWith('s3:')),
      `the dispatcher needs no S3 access: ${actions.join()}`,
    );
  });

  it('bundles the deployment config next to the dispatcher code', () => {
    const bundles = readdirSync(outdir).filter(
      (d) => d.startsWith('asset.') && existsSync(join(outdir, d, 'index.mjs')),
    );
    assert.equal(bundles.length, 1);
    assert.equal(
      readFileSync(join(outdir, bundles[0]!, 'deployment-config.json'), 'utf8'),
      readFileSync(EXAMPLE, 'utf8'),
    );
  });

  it('runs the job worker as a container-image Lambda on the SQS queue with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      Timeout: 900,
      MemorySize: 2048,
      ImageConfig: { EntryPoint: ['node', '/app/dist/lambdas/lambda-runtime.js'], Command: ['worker'] },
      VpcConfig: Match.objectLike({ SecurityGroupIds: Match.anyValue() }),
    });
    const worker = Object.values(resources).find((r) => r.Properties['PackageType'] === 'Image')!;
    const uri = JSON.stringify((worker.Properties['Code'] as Record<string, unknown>)['ImageUri']);
    assert.match(uri, /\.dkr\.ecr\./);
    assert.match(
      uri,
      /\/mysql-pitr:0\.1\.0"/,
      'the image of the config, from ECR (no Docker build at synth)',
    );
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('runs one archiver service per cluster: one task, circuit breaker, graceful stop, password as an ECS secret', () => {
    const services = Object.values(template.findResources('AWS::ECS::Service')) as Resource[];
    assert.deepEqual(services.map((s) => s.Properties['ServiceName']).sort(), [
      'mysql-pitr-archiver-billing',
      'mysql-pitr-archiver-orders',
    ]);
    for (const s of services) {
      assert.equal(s.Properties['DesiredCount'], 1);
      assert.deepEqual(
        (s.Properties['DeploymentConfiguration'] as Record<string, unknown>)['DeploymentCircuitBreaker'],
        { Enable: true, Rollback: true },
      );
      assert.equal(
        (s.Properties['DeploymentConfiguration'] as Record<string, unknown>)['MaximumPercent'],
        100,
      );
    }
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'mysql-pitr-archiver-billing',
      Cpu: '512',
      Memory: '1024',
      ContainerDefinitions: [
        Match.objectLike({
          StopTimeout: 120,
          RestartPolicy: Match.objectLike({ Enabled: true }),
          Environment: Match.arrayWith([
            { Name: 'MYSQL_PITR_SOURCE', Value: 'mysql://pitr@10.20.30.40:3307/?ssl=true' },
            { Name: 'MYSQL_PITR_FLUSH_INTERVAL', Value: '1s' },
          ]),
          Secrets: [
            {
              Name: 'MYSQL_PITR_SOURCE_PASSWORD',
              ValueFrom: Match.stringLikeRegexp(
                '^arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/billing/pitr-AbCdEf:password::$',
              ),
            },
          ],
        }),
      ],
    });
    for (const td of Object.values(template.findResources('AWS::ECS::TaskDefinition')) as Resource[]) {
      for (const c of td.Properties['ContainerDefinitions'] as Array<{
        Environment?: Array<{ Name: string }>;
      }>) {
        for (const e of c.Environment ?? [])
          assert.doesNotMatch(e.Name, /PASSWORD|SECRET/, `plain env ${e.Name} in ${td.Properties['Family']}`);
      }
    }
  });

  it('lets the archiver put, get and list its own prefix but never delete; only the job worker deletes', () => {
    const archiverDefs = (
      Object.values(template.findResources('AWS::ECS::TaskDefinition')) as Resource[]
    ).filter((td) => String(td.Properties['Family']).startsWith('mysql-pitr-archiver-'));
    assert.equal(archiverDefs.length, 2);
    for (const td of archiverDefs) {
      const actions = actionsOfRole(template, roleOf(td.Properties['TaskRoleArn']));
      assert.ok(
        actions.includes('s3:PutObject') &&
          actions.includes('s3:GetObject') &&
          actions.includes('s3:ListBucket'),
        actions.join(),
      );
      const deletes = actions.filter((a) => /^s3:(\*|Delete|PutLifecycle|PutBucket)/.test(a) || a === '*');
      assert.deepEqual(deletes, [], `archiver ${td.Properties['Family']} may not delete`);
    }
    const orders = archiverDefs.find((td) => td.Properties['Family'] === 'mysql-pitr-archiver-orders')!;
    const policies = JSON.stringify(
      (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[]).filter((p) =>
        JSON.stringify(p.Properties['Roles']).includes(roleOf(orders.Properties['TaskRoleArn'])),
      ),
    );
    assert.match(policies, /pitr\/orders\/\*/, 'the orders archiver is confined to pitr/orders/');
    assert.doesNotMatch(policies, /pitr\/billing/);

    const worker = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties['PackageType'] === 'Image',
    )!;
    const workerActions = actionsOfRole(template, roleOf(worker.Properties['Role']));
    assert.ok(workerActions.includes('s3:DeleteObject'), workerActions.join());
    assert.ok(workerActions.includes('secretsmanager:GetSecretValue'), workerActions.join());
    const jobTask = (Object.values(template.findResources('AWS::ECS::TaskDefinition')) as Resource[]).find(
      (td) => td.Properties['Family'] === 'mysql-pitr-job-billing',
    )!;
    assert.ok(actionsOfRole(template, roleOf(jobTask.Properties['TaskRoleArn'])).includes('s3:DeleteObject'));
    const jobContainer = (jobTask.Properties['ContainerDefinitions'] as Array<Record<string, unknown>>)[0]!;
    assert.deepEqual(jobContainer['Command'], ['node', '/app/dist/lambdas/job-task.js']);
    assert.match(
      JSON.stringify(jobContainer['Secrets']),
      /MYSQL_PITR_SOURCE_PASSWORD.*prod\/billing\/pitr-AbCdEf:password::/,
    );
  });

  it('alarms on archive lag, backup age, verify failures, the dead-letter queue and dispatcher errors', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    const named = (suffix: string) =>
      alarms.find((a) => a.Properties['AlarmName'] === `mysql-pitr-pitr-prod-${suffix}`)?.Properties;
    for (const cluster of ['orders', 'billing']) {
      assert.deepEqual(
        {
          ...named(`${cluster}-archive-lag`),
          AlarmActions: undefined,
          OKActions: undefined,
          AlarmDescription: undefined,
          Tags: undefined,
        },
        {
          AlarmName: `mysql-pitr-pitr-prod-${cluster}-archive-lag`,
          Namespace: 'MysqlPitr',
          MetricName: 'ArchiveLagSeconds',
          Dimensions: [{ Name: 'Cluster', Value: cluster }],
          Statistic: 'Maximum',
          Period: 60,
          Threshold: 300,
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 5,
          DatapointsToAlarm: 3,
          TreatMissingData: 'breaching',
          AlarmActions: undefined,
          OKActions: undefined,
          AlarmDescription: undefined,
          Tags: undefined,
        },
      );
      const age = named(`${cluster}-backup-age`)!;
      assert.equal(age['MetricName'], 'BackupSucceeded');
      assert.equal(age['TreatMissingData'], 'breaching');
      assert.equal(age['Period'], 3600);
      assert.equal(age['ComparisonOperator'], 'LessThanThreshold');
      assert.equal(age['EvaluationPeriods'], cluster === 'orders' ? 26 : 14);
    }
    assert.equal(named('orders-verify-failed')?.['MetricName'], 'VerifyFailed');
    assert.equal(named('billing-verify-failed'), undefined, 'billing has verify off');
    const newest = named('orders-newest-commit-unrestorable')!;
    assert.equal(newest['MetricName'], 'NewestCommitUnrestorable');
    assert.equal(newest['ComparisonOperator'], 'GreaterThanOrEqualToThreshold');
    assert.equal(newest['Threshold'], 1);
    assert.equal(named('billing-newest-commit-unrestorable'), undefined, 'billing has verify off');
    const dlq = named('dead-letter-queue')!;
    assert.equal(dlq['MetricName'], 'ApproximateNumberOfMessagesVisible');
    assert.equal(dlq['ComparisonOperator'], 'GreaterThanOrEqualToThreshold');
    assert.equal(dlq['Threshold'], 1);
    assert.match(JSON.stringify(dlq['Dimensions']), /DeadLetterQueue/);
    assert.ok(named('dispatcher-errors'));
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0]!;
    for (const a of alarms) assert.deepEqual(a.Properties['AlarmActions'], [{ Ref: topic }]);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'dba-oncall@example.com',
    });
  });

  it('extracts EMF metrics from the ECS log groups with metric filters (CloudWatch extracts EMF only from Lambda)', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')) as Resource[];
    const byName = new Map(
      filters.map((f) => {
        const t = (f.Properties['MetricTransformations'] as Array<Record<string, unknown>>)[0]!;
        return [t['MetricName'] as string, { filter: f.Properties, t }];
      }),
    );
    assert.deepEqual([...byName.keys()].sort(), [
      'ArchiveLagSeconds',
      'BackupSucceeded',
      'JobFailed',
      'JobSucceeded',
      'NewestCommitUnrestorable',
      'VerifyFailed',
    ]);
    const lag = byName.get('ArchiveLagSeconds')!;
    assert.deepEqual(lag.t, {
      MetricNamespace: 'MysqlPitr',
      MetricName: 'ArchiveLagSeconds',
      MetricValue: '$.ArchiveLagSeconds',
      Dimensions: [{ Key: 'Cluster', Value: '$.Cluster' }],
      Unit: 'Seconds',
    });
    assert.match(String(lag.filter['FilterPattern']), /\$\.ArchiveLagSeconds/);
    const logGroupOf = (name: string) => JSON.stringify(byName.get(name)!.filter['LogGroupName']);
    assert.match(logGroupOf('ArchiveLagSeconds'), /ArchiverLogs/);
    assert.match(logGroupOf('BackupSucceeded'), /JobTaskLogs/);
  });

  it('creates a VPC with private subnets and an S3 gateway endpoint', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });
});

describe('cdk app with a bad config', () => {
  it('buildPitrApp throws CONFIG_INVALID naming each bad field before building anything', () => {
    const config = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    const clusters = config['clusters'] as Array<Record<string, unknown>>;
    clusters[0]!['schedules'] = { dump: 'cron(0 3 * * *)' };
    clusters[1]!['workers'] = { dump: 'ec2' };
    const dir = mkdtempSync(join(tmpdir(), 'pitr-cdk-bad-'));
    try {
      const path = join(dir, 'clusters.json');
      writeFileSync(path, JSON.stringify(config));
      const app = new App({ outdir: join(dir, 'out') });
      assert.throws(
        () => buildPitrApp(app, { configPath: path, projectRoot: ROOT }),
        (err: unknown) =>
          isPitrError(err, 'CONFIG_INVALID') &&
          /clusters\[0\]\.schedules\.dump: 'cron\(0 3 \* \* \*\)' has 5 fields/.test(err.message) &&
          /clusters\[1\]\.workers\.dump: 'ec2' is not allowed; use one of 'lambda', 'fargate'/.test(
            err.message,
          ),
      );
      assert.equal(app.node.children.length, 0, 'no stack was added');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cdk/app.ts exits 2 with the problem list and no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitr-cdk-app-'));
    try {
      const path = join(dir, 'clusters.json');
      writeFileSync(path, JSON.stringify({ deployment: 'Bad_Name', clusters: [] }));
      const res = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cdk/app.ts')], {
        cwd: join(ROOT, 'cdk'),
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ config: path }),
          CDK_OUTDIR: join(dir, 'out'),
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(res.status, 2, res.stderr);
      assert.match(res.stderr, /deployment config .*clusters\.json is invalid \(\d+ problems\)/);
      assert.match(res.stderr, /deployment: 'Bad_Name' is not valid/);
      assert.match(res.stderr, /image: is required/);
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
