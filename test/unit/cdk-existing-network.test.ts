import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildPitrApp } from '../../cdk/lib/build-pitr-app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** An existing VPC, bucket, key and alarm topic, a fixed account and region, and a database security group. */
const CONFIG = {
  deployment: 'shared',
  env: { account: '123456789012', region: 'eu-central-1' },
  image: {
    repository: 'arn:aws:ecr:eu-central-1:210987654321:repository/tools/mysql-pitr',
    tag: 'sha256:' + 'a'.repeat(64),
  },
  repository: {
    create: false,
    bucketName: 'corp-backups',
    prefix: 'mysql',
    kmsKeyArn: 'arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-3333-4444-555555555555',
  },
  network: {
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
    securityGroupIds: ['sg-0cccccccccccccccc'],
  },
  alarms: { topicArn: 'arn:aws:sns:eu-central-1:123456789012:oncall' },
  defaults: { flavour: 'mariadb', source: { user: 'pitr' }, workers: { dump: 'lambda' } },
  clusters: [
    {
      name: 'crm',
      source: { host: 'crm.db.internal', securityGroupId: 'sg-0dddddddddddddddd' },
      credentials: { secret: 'crm/pitr' },
    },
  ],
};

describe('cdk stack with an existing VPC, bucket and topic', () => {
  let template: Template;
  let dir: string;
  let app: App;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pitr-cdk-existing-'));
    const path = join(dir, 'clusters.json');
    writeFileSync(path, JSON.stringify(CONFIG));
    app = new App({ outdir: join(dir, 'out') });
    const stack = buildPitrApp(app, { configPath: path, projectRoot: ROOT });
    assert.equal(stack.account, '123456789012');
    template = Template.fromStack(stack);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates no VPC, bucket, KMS key or topic, and needs no lookups', () => {
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::S3::Bucket',
      'AWS::KMS::Key',
      'AWS::SNS::Topic',
      'AWS::EC2::NatGateway',
    ]) {
      template.resourceCountIs(type, 0);
    }
    // A context lookup (Vpc.fromLookup, availability zones) would need AWS credentials and network at synth.
    assert.deepEqual(app.synth().manifest.missing ?? [], []);
  });

  it('runs in the given subnets with the stack security group plus the extra one', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      PackageType: 'Image',
      VpcConfig: {
        SubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
        SecurityGroupIds: [Match.objectLike({ 'Fn::GetAtt': Match.anyValue() }), 'sg-0cccccccccccccccc'],
      },
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: Match.objectLike({
          AssignPublicIp: 'DISABLED',
          Subnets: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MYSQL_PITR_JOB_SUBNETS: 'subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb',
        }),
      },
    });
  });

  it('opens the database security group to the archiver and workers on the database port', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0dddddddddddddddd',
      IpProtocol: 'tcp',
      FromPort: 3306,
      ToPort: 3306,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.anyValue(), 'GroupId'] },
    });
  });

  it('grants the archiver its prefix of the existing bucket and the existing key, without delete', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
            Resource: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::corp-backups/mysql/crm/*']],
            },
          }),
          Match.objectLike({
            Action: 's3:ListBucket',
            Condition: { StringLike: { 's3:prefix': ['mysql/crm/*'] } },
          }),
          Match.objectLike({
            Action: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt'],
            Resource: CONFIG.repository.kmsKeyArn,
          }),
        ]),
      },
    });
    const archiverPolicies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.startsWith('Archiver'),
    );
    assert.ok(archiverPolicies.length > 0);
    assert.doesNotMatch(JSON.stringify(archiverPolicies), /s3:Delete|"s3:\*"/);
  });

  it('pins the image by digest from the ECR repository ARN and alarms to the existing topic', () => {
    const fn = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { PackageType: 'Image' } }),
    )[0] as {
      Properties: { Code: { ImageUri: unknown } };
    };
    assert.match(
      JSON.stringify(fn.Properties.Code.ImageUri),
      /210987654321\.dkr\.ecr\.eu-central-1\..*\/tools\/mysql-pitr@sha256:a{64}/,
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [CONFIG.alarms.topicArn] });
  });
});
