/**
 * The CDK template scopes the job workers per cluster and turns TLS verification on by default:
 *
 * - the worker Lambda reads only the secrets, and writes only the prefixes, of the clusters that
 *   run a job kind on Lambda, and its clusters table holds only those;
 * - a cluster whose jobs all run on Fargate has its own task role, confined to its prefix, with no
 *   Secrets Manager access (ECS injects the password), and a table holding only itself;
 * - archivers and job workers verify the source certificate against the image's CA bundle and
 *   its host name (`verify-identity`), unless the cluster sets `source.tls: false`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildPitrApp } from '../../cdk/lib/build-pitr-app.js';
import { IMAGE_CA_BUNDLE, JOB_CLUSTERS_ENV } from '../../src/jobs/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Resource = { Type: string; Properties: Record<string, unknown> };

const CONFIG = {
  deployment: 'sec',
  image: { repository: 'mysql-pitr', tag: '1' },
  repository: { prefix: 'pitr/' },
  network: { createVpc: {} },
  defaults: { flavour: 'mariadb', source: { user: 'pitr' } },
  clusters: [
    { name: 'orders', source: { host: 'orders.db.example.com' }, credentials: { secret: 'prod/orders' } },
    {
      name: 'billing',
      source: { host: 'billing.db.example.com' },
      credentials: { secret: 'prod/billing' },
      workers: { dump: 'fargate' },
    },
    {
      name: 'ledger',
      source: { host: '10.0.0.9', tls: false },
      credentials: { secret: 'prod/ledger' },
      workers: { dump: 'fargate', expire: 'fargate', verify: 'fargate', compact: 'fargate' },
    },
  ],
};

/** The policy documents attached to a role (logical id), as JSON text. */
function policiesOf(template: Template, role: string): string {
  return JSON.stringify(
    (Object.values(template.findResources('AWS::IAM::Policy')) as Resource[])
      .filter((p) => (p.Properties['Roles'] as Array<{ Ref?: string }>).some((r) => r.Ref === role))
      .map((p) => p.Properties['PolicyDocument']),
  );
}

function roleOf(ref: unknown): string {
  return (ref as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
}

function envOf(container: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of container['Environment'] as Array<{ Name: string; Value: unknown }>)
    out[e.Name] = typeof e.Value === 'string' ? e.Value : JSON.stringify(e.Value);
  return out;
}

describe('cdk: job workers scoped per cluster, TLS verified by default', () => {
  let dir: string;
  let template: Template;
  let resources: Resource[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pitr-cdk-sec-'));
    writeFileSync(join(dir, 'clusters.json'), JSON.stringify(CONFIG));
    const stack = buildPitrApp(new App({ outdir: join(dir, 'out') }), {
      configPath: join(dir, 'clusters.json'),
      projectRoot: ROOT,
    });
    template = Template.fromStack(stack);
    resources = Object.values(template.toJSON()['Resources'] as Record<string, Resource>);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const taskDefinition = (family: string): Resource =>
    resources.find((r) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties['Family'] === family)!;
  const container = (family: string): Record<string, unknown> =>
    (taskDefinition(family).Properties['ContainerDefinitions'] as Array<Record<string, unknown>>)[0]!;

  it('the worker Lambda reaches only the secrets and prefixes of the clusters it serves', () => {
    const worker = resources.find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties['PackageType'] === 'Image',
    )!;
    const policies = policiesOf(template, roleOf(worker.Properties['Role']));
    assert.match(policies, /pitr\/orders\/\*/);
    assert.match(policies, /pitr\/billing\/\*/, 'billing expires on Lambda');
    assert.doesNotMatch(policies, /pitr\/ledger/, 'ledger runs every job on Fargate');
    assert.doesNotMatch(policies, /"pitr\/\*"/, 'no access to the whole repository prefix');
    assert.match(policies, /secret:prod\/orders/);
    assert.match(policies, /secret:prod\/billing/);
    assert.doesNotMatch(policies, /prod\/ledger/);

    const env = JSON.stringify(
      (worker.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables[
        JOB_CLUSTERS_ENV
      ],
    );
    assert.match(env, /\\"cluster\\":\\"orders\\"/);
    assert.match(env, /\\"cluster\\":\\"billing\\"/);
    assert.doesNotMatch(env, /ledger/);
    assert.match(
      env,
      /\\"cluster\\":\\"billing\\",\\"kinds\\":\[\\"expire\\",\\"verify\\",\\"compact\\"\]/,
      'the Lambda runs no dump of billing (its dumps run on Fargate)',
    );
    assert.match(
      env,
      new RegExp(
        `\\\\"tls\\\\":\\{\\\\"mode\\\\":\\\\"verify-identity\\\\",\\\\"caFile\\\\":\\\\"${IMAGE_CA_BUNDLE}`,
      ),
    );
  });

  it('a Fargate job task definition has its own role, confined to its prefix, and a table of its own cluster only', () => {
    const ledgerRole = roleOf(taskDefinition('mysql-pitr-job-ledger').Properties['TaskRoleArn']);
    const billingRole = roleOf(taskDefinition('mysql-pitr-job-billing').Properties['TaskRoleArn']);
    assert.notEqual(ledgerRole, billingRole);
    const ledger = policiesOf(template, ledgerRole);
    assert.match(ledger, /pitr\/ledger\/\*/);
    assert.match(ledger, /s3:DeleteObject/, 'expire deletes');
    assert.doesNotMatch(ledger, /pitr\/(orders|billing)/);
    assert.doesNotMatch(ledger, /secretsmanager/, 'the password comes as an ECS secret, not by API');
    assert.doesNotMatch(policiesOf(template, billingRole), /pitr\/(orders|ledger)/);

    const env = envOf(container('mysql-pitr-job-ledger'));
    assert.match(env[JOB_CLUSTERS_ENV]!, /ledger/);
    assert.doesNotMatch(env[JOB_CLUSTERS_ENV]!, /orders|billing/);
    assert.match(JSON.stringify(container('mysql-pitr-job-ledger')['Secrets']), /prod\/ledger/);
  });

  it('archivers verify the source certificate and host name against the image CA bundle unless source.tls is false', () => {
    const orders = envOf(container('mysql-pitr-archiver-orders'));
    assert.equal(orders['MYSQL_PITR_TLS_MODE'], 'verify-identity');
    assert.equal(orders['MYSQL_PITR_TLS_CA'], IMAGE_CA_BUNDLE);
    const ledger = envOf(container('mysql-pitr-archiver-ledger'));
    assert.equal(ledger['MYSQL_PITR_TLS_MODE'], 'preferred');
    assert.equal(ledger['MYSQL_PITR_TLS_CA'], undefined);
  });
});
