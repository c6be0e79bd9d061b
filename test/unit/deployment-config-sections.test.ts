import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDeploymentConfig } from '../../src/config/deployment-config.js';
import { deploymentProblems } from '../support/deployment-problems.js';

// Each section of the deployment config, read by its own module (src/config/deployment-*.ts):
// what each refuses and how the problem names the field, and where a cluster's values come from.

/** Plain JSON test data, edited in place. */
interface Raw {
  [key: string]: unknown;
}

/** The object at `path` inside `c`, created when absent. */
function at(c: Raw, ...path: (string | number)[]): Raw {
  let o = c;
  for (const k of path) {
    const parent = o as Record<string | number, unknown>;
    parent[k] ??= {};
    o = parent[k] as Raw;
  }
  return o;
}

const clusters = (c: Raw): Raw[] => c['clusters'] as Raw[];

const base = (): Raw => ({
  deployment: 'prod',
  image: { repository: 'mysql-pitr', tag: '0.1.0' },
  network: { createVpc: {} },
  defaults: { flavour: 'mariadb', source: { user: 'pitr' }, credentials: { secret: 'prod/pitr' } },
  clusters: [{ name: 'orders', source: { host: 'db1.internal' } }],
});

/** The problem lines of the ConfigError thrown for `data`. */
const problems = deploymentProblems;

/** `data` changed by `edit` (which may mutate its argument). */
function edited(edit: (c: Raw) => void): Raw {
  const c = base();
  edit(c);
  return c;
}

describe('deployment config sections: an unknown key is refused, naming its path and the keys allowed', () => {
  const cases: [path: string, place: (c: Raw) => Raw, allowed: string][] = [
    [
      '',
      (c) => c,
      'deployment, env, image, repository, network, jobs, alarms, logRetentionDays, defaults, clusters',
    ],
    ['env', (c) => (c['env'] = {}), 'account, region'],
    ['image', (c) => at(c, 'image'), 'repository, tag'],
    [
      'repository',
      (c) => (c['repository'] = {}),
      'create, bucketName, prefix, kmsKeyArn, objectLock, noncurrentVersionExpirationDays, abortIncompleteUploadDays',
    ],
    [
      'repository.objectLock',
      (c) =>
        at(
          Object.assign(c, { repository: { objectLock: { retentionDays: 7 } } }),
          'repository',
          'objectLock',
        ),
      'enabled, mode, retentionDays',
    ],
    [
      'network',
      (c) => (c['network'] = { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-01234567'] }),
      'vpcId, subnetIds, securityGroupIds, createVpc',
    ],
    [
      'network.createVpc',
      (c) => at(c, 'network', 'createVpc'),
      'cidr, maxAzs, natGateways, availabilityZones',
    ],
    [
      'jobs',
      (c) => (c['jobs'] = {}),
      'lambdaMemoryMiB, lambdaTimeoutSeconds, lambdaEphemeralStorageMiB, maxConcurrency, fargateCpu, fargateMemoryMiB, fargateEphemeralStorageGiB',
    ],
    ['alarms', (c) => (c['alarms'] = {}), 'topicArn, emails'],
    [
      'defaults',
      (c) => at(c, 'defaults'),
      'source, flavour, credentials, schedules, retention, archiver, workers, alarms',
    ],
    [
      'clusters[0]',
      (c) => at(c, 'clusters', 0),
      'name, source, flavour, credentials, schedules, retention, archiver, workers, alarms',
    ],
  ];
  const sections: [section: string, allowed: string][] = [
    ['source', 'host, port, user, tls, securityGroupId'],
    ['credentials', 'secret, passwordKey'],
    ['schedules', 'dump, expire, verify, compact'],
    ['retention', 'keepDays, keepBackups'],
    ['archiver', 'flushIntervalSeconds, segmentSizeMiB, cpu, memoryMiB'],
    ['workers', 'dump, expire, verify, compact'],
    ['alarms', 'archiveLagSeconds, maxBackupAgeHours, topicArn'],
  ];
  for (const [section, allowed] of sections) {
    cases.push([`clusters[0].${section}`, (c) => at(c, 'clusters', 0, section), allowed]);
    // A host in defaults would point every cluster at one server: only a cluster may set it.
    const inDefaults = section === 'source' ? 'port, user, tls, securityGroupId' : allowed;
    cases.push([`defaults.${section}`, (c) => at(c, 'defaults', section), inDefaults]);
  }

  for (const [path, place, allowed] of cases) {
    it(`${path || '(top level)'}`, () => {
      const data = edited((c) => {
        place(c)['zzUnknown'] = 1;
      });
      const key = path ? `${path}.zzUnknown` : 'zzUnknown';
      assert.deepEqual(problems(data), [`${key}: unknown field. Allowed here: ${allowed}`]);
    });
  }

  it('a host in defaults is refused, saying to set it in each cluster (not "did you mean port?")', () => {
    const found = problems(edited((c) => (at(c, 'defaults', 'source')['host'] = 'db.internal')));
    assert.deepEqual(found, [
      'defaults.source.host: cannot be a default: one value would point every cluster at the same server. ' +
        'Set source.host in each cluster instead (e.g. clusters[0].source.host) and remove it from ' +
        'defaults.source. Allowed here: port, user, tls, securityGroupId',
    ]);
    // with the host also missing in the cluster, that problem does not send the reader to defaults
    const both = problems(
      edited((c) => {
        at(c, 'defaults', 'source')['host'] = 'db.internal';
        delete at(c, 'clusters', 0, 'source')['host'];
      }),
    );
    assert.equal(both.length, 2, both.join('\n'));
    assert.equal(
      both[1],
      'clusters[0].source.host: is required: set it in clusters[0].source (each cluster names its own; ' +
        'defaults.source cannot hold it)',
    );
  });

  it('a missing host names only the cluster as its place; other required keys name defaults too', () => {
    assert.deepEqual(problems(edited((c) => delete at(c, 'clusters', 0, 'source')['host'])), [
      'clusters[0].source.host: is required: set it in clusters[0].source (each cluster names its own; ' +
        'defaults.source cannot hold it)',
    ]);
    assert.deepEqual(problems(edited((c) => delete at(c, 'defaults', 'source')['user'])), [
      'clusters[0].source.user: is required (set it in clusters[0].source or in defaults.source)',
    ]);
  });

  it('a misspelt key in a cluster section names the key it probably means', () => {
    const found = problems(edited((c) => (at(c, 'clusters', 0)['retention'] = { keepDay: 3 })));
    assert.deepEqual(found, [
      'clusters[0].retention.keepDay: unknown field; did you mean keepDays? Allowed here: keepDays, keepBackups',
    ]);
  });

  it('a section that is not an object says so', () => {
    assert.deepEqual(problems(edited((c) => (at(c, 'clusters', 0)['workers'] = 'lambda'))), [
      "clusters[0].workers: must be an object, not 'lambda'",
    ]);
    assert.deepEqual(problems(edited((c) => (c['jobs'] = []))), ['jobs: must be an object, not a list']);
  });
});

describe('deployment config sections: where a cluster value comes from', () => {
  it('cluster beats defaults beats built in', () => {
    const c = loadDeploymentConfig(
      edited((c) => {
        at(c, 'defaults')['retention'] = { keepDays: 30 };
        clusters(c).push({ name: 'billing', source: { host: 'db2.internal' }, retention: { keepDays: 5 } });
      }),
    );
    assert.deepEqual(
      c.clusters.map((x) => x.retention),
      [
        { keepDays: 30, keepBackups: 7 },
        { keepDays: 5, keepBackups: 7 },
      ],
    );
    assert.deepEqual(c.clusters[0]!.source, {
      host: 'db1.internal',
      port: 3306,
      user: 'pitr',
      tls: true,
      securityGroupId: undefined,
    });
  });

  it('a bad value in defaults is blamed on defaults, once for all the clusters using it', () => {
    const found = problems(
      edited((c) => {
        at(c, 'defaults', 'source')['port'] = 70000;
        clusters(c).push({ name: 'billing', source: { host: 'db2.internal' } });
      }),
    );
    assert.deepEqual(found, ['defaults.source.port: 70000 is out of range; allowed 1 to 65535']);
  });

  it('a missing value names both places it can be set', () => {
    const found = problems(edited((c) => delete at(c, 'defaults')['credentials']));
    assert.deepEqual(found, [
      'clusters[0].credentials.secret: is required (set it in clusters[0].credentials or in defaults.credentials)',
    ]);
    assert.deepEqual(problems(edited((c) => delete at(c, 'defaults')['flavour'])), [
      "clusters[0].flavour: is required: 'mariadb' or 'mysql' (set it here or in defaults.flavour)",
    ]);
  });

  it('an archiver size Fargate does not offer is blamed where the memory was set', () => {
    assert.deepEqual(problems(edited((c) => (at(c, 'defaults')['archiver'] = { memoryMiB: 4096 }))), [
      'defaults.archiver.memoryMiB: 4096 MiB is not valid with 256 CPU units on Fargate; use 512, 1024, 2048',
    ]);
    assert.deepEqual(problems(edited((c) => (at(c, 'clusters', 0)['archiver'] = { cpu: 300 }))), [
      'clusters[0].archiver.cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384',
    ]);
  });

  it("verify and compact may be 'off', dump and expire may not; expressions are trimmed", () => {
    const c = loadDeploymentConfig(
      edited(
        (c) => (at(c, 'clusters', 0)['schedules'] = { verify: 'off', compact: 'off', dump: ' rate(1 day) ' }),
      ),
    );
    assert.deepEqual(c.clusters[0]!.schedules, {
      dump: 'rate(1 day)',
      expire: 'cron(30 4 * * ? *)',
      verify: undefined,
      compact: undefined,
    });
    assert.deepEqual(problems(edited((c) => (at(c, 'clusters', 0)['schedules'] = { dump: 'off' }))), [
      "clusters[0].schedules.dump: 'off' is not a cron or rate expression; use cron(0 3 * * ? *) or rate(1 day)",
    ]);
  });

  it('cluster names are unique', () => {
    const found = problems(
      edited((c) => clusters(c).push({ name: 'orders', source: { host: 'db2.internal' } })),
    );
    assert.deepEqual(found, [
      "clusters[1].name: 'orders' is already used by clusters[0]; cluster names must be unique",
    ]);
  });
});

describe('deployment config sections: top-level rules', () => {
  it('an existing bucket needs its name and takes none of the settings of a created one', () => {
    assert.deepEqual(problems(edited((c) => (c['repository'] = { create: false }))), [
      'repository.bucketName: is required when repository.create is false: name the existing bucket',
    ]);
    assert.deepEqual(
      problems(
        edited(
          (c) =>
            (c['repository'] = { create: false, bucketName: 'pitr-bucket', abortIncompleteUploadDays: 3 }),
        ),
      ),
      [
        'repository.abortIncompleteUploadDays: applies only to a bucket this stack creates (repository.create is false); configure it on the existing bucket yourself, or remove it',
      ],
    );
  });

  it('a prefix gets its trailing slash, Object Lock needs its retention, a bucket name is not an IP', () => {
    const c = loadDeploymentConfig(edited((c) => (c['repository'] = { prefix: 'a/b' })));
    assert.equal(c.repository.prefix, 'a/b/');
    assert.deepEqual(c.repository.objectLock, { enabled: false, mode: 'governance', retentionDays: 0 });
    assert.deepEqual(problems(edited((c) => (c['repository'] = { objectLock: {} }))), [
      'repository.objectLock.retentionDays: is required',
    ]);
    assert.match(
      problems(edited((c) => (c['repository'] = { create: false, bucketName: '10.1.2.3' })))[0]!,
      /^repository\.bucketName: '10\.1\.2\.3' is not a valid S3 bucket name/,
    );
  });

  it('an existing VPC and createVpc together are refused', () => {
    assert.deepEqual(
      problems(edited((c) => (c['network'] = { vpcId: 'vpc-0123456789abcdef0', createVpc: {} }))),
      ['network: set either vpcId/subnetIds (use an existing VPC) or createVpc, not both'],
    );
  });

  it('log retention is one CloudWatch accepts', () => {
    assert.match(
      problems(edited((c) => (c['logRetentionDays'] = 31)))[0]!,
      /^logRetentionDays: 31 is not a CloudWatch Logs retention; use one of 1, 3, 5, 7, 14, 30, 60/,
    );
    assert.equal(loadDeploymentConfig(base()).logRetentionDays, 30);
  });

  it('a topic ARN is checked the same at the top and in a cluster', () => {
    const found = problems(
      edited((c) => {
        c['alarms'] = { topicArn: 'arn:aws:sns:eu-west-1:1:x' };
        at(c, 'clusters', 0)['alarms'] = { topicArn: 'arn:aws:sns:eu-west-1:1:x' };
      }),
    );
    assert.deepEqual(found, [
      "alarms.topicArn: 'arn:aws:sns:eu-west-1:1:x' is not valid; expected an SNS topic ARN arn:aws:sns:REGION:ACCOUNT:NAME",
      "clusters[0].alarms.topicArn: 'arn:aws:sns:eu-west-1:1:x' is not valid; expected an SNS topic ARN arn:aws:sns:REGION:ACCOUNT:NAME",
    ]);
  });
});
