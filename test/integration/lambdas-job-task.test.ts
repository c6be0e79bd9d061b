import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { S3_ENDPOINT_ENV } from '../../lambdas/worker.js';
import { loadDeploymentConfig } from '../../src/config/deployment-config.js';
import {
  JOB_CLUSTERS_ENV,
  JOB_ENV_VAR,
  clusterJobSettings,
  jobMarkerKeys,
  planDispatch,
  type JobMessage,
} from '../../src/jobs/index.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { startMariadb, type MariadbServer } from '../support/mariadb-server.js';
import { startS3Emulator, type S3Emulator } from '../support/s3-emulator.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface TaskResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs lambdas/job-task.ts as ECS would run the Fargate job container: one job in the environment, then exit. */
function runJobTask(env: Record<string, string | undefined>): Promise<TaskResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'lambdas/job-task.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'],
        HOME: process.env['HOME'],
        AWS_EC2_METADATA_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('Fargate job task: a real dump of a real MariaDB into the emulated S3 repository', () => {
  let db: MariadbServer;
  let emu: S3Emulator;
  let job: JobMessage;
  let env: Record<string, string>;
  let store: S3ObjectStore;

  const list = async (prefix: string): Promise<string[]> => {
    const out: string[] = [];
    for await (const o of store.list(prefix)) out.push(o.key);
    return out;
  };

  before(async () => {
    [db, emu] = await Promise.all([startMariadb(), startS3Emulator({ bucket: 'pitr-task' })]);
    await db.query('CREATE DATABASE shop');
    await db.query('CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(20)) ENGINE=InnoDB');
    await db.query("INSERT INTO shop.orders VALUES (1, 'teapot')");
    const port = new URL(db.url()).port;
    const config = loadDeploymentConfig({
      deployment: 'it',
      image: { repository: 'mysql-pitr', tag: 'test' },
      repository: { prefix: 'pitr/' },
      network: { createVpc: {} },
      clusters: [
        {
          name: 'orders',
          flavour: 'mariadb',
          source: { host: '127.0.0.1', port: Number(port), user: db.admin.user, tls: false },
          credentials: { secret: 'it/orders' },
          workers: { dump: 'fargate' },
        },
      ],
    });
    const plan = planDispatch(
      { cluster: 'orders', job: 'dump', scheduledAt: '2024-05-01T03:00:00Z' },
      config,
      {
        repositoryBucket: emu.bucket,
        jobQueueUrl: 'unused',
        fargate: {
          clusterArn: 'c',
          taskDefinitions: { orders: 'td' },
          containerName: 'job',
          subnetIds: ['s'],
          securityGroupIds: ['g'],
        },
      },
      new Date(),
    );
    assert.equal(plan.via, 'fargate');
    if (plan.via !== 'fargate') return;
    job = plan.message;
    env = {
      [JOB_ENV_VAR]: plan.runTask.overrides.containerOverrides[0]!.environment[0]!.value,
      // the cluster's own task definition carries its settings (cdk/lib/job-worker.ts)
      [JOB_CLUSTERS_ENV]: JSON.stringify(clusterJobSettings(config, emu.bucket)),
      MYSQL_PITR_SOURCE_PASSWORD: db.admin.password,
      [S3_ENDPOINT_ENV]: emu.endpoint,
      AWS_REGION: emu.region,
      AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey,
    };
    store = new S3ObjectStore({
      bucket: emu.bucket,
      prefix: 'pitr/orders',
      endpoint: emu.endpoint,
      region: emu.region,
      credentials: emu.credentials,
    });
  });
  after(async () => {
    await Promise.all([db?.stop(), emu?.stop()]);
  });

  it('dumps the source once: backup manifest, done marker, BackupSucceeded metric, exit 0', async () => {
    const res = await runJobTask(env);
    assert.equal(res.code, 0, res.stderr);
    const backups = (await list('backups/')).filter((k) => k.endsWith('/manifest.json'));
    assert.equal(backups.length, 1, (await list('')).join('\n'));
    const manifest = JSON.parse((await store.get(backups[0]!)).toString('utf8')) as { id: string };
    assert.ok(await store.exists(jobMarkerKeys(job).done));
    const done = JSON.parse((await store.get(jobMarkerKeys(job).done)).toString('utf8')) as {
      outcome: { details: { backupId: string } };
    };
    assert.equal(done.outcome.details.backupId, manifest.id);
    const emf = res.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((m) => m['BackupSucceeded'] === 1);
    assert.equal(emf?.['Cluster'], 'orders');
    assert.doesNotMatch(
      res.stderr + res.stdout,
      new RegExp(db.admin.password),
      'the password is never logged',
    );
  });

  it('a second task for the same scheduled run makes no second backup', async () => {
    const res = await runJobTask(env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /job already done by an earlier delivery/);
    assert.equal((await list('backups/')).filter((k) => k.endsWith('/manifest.json')).length, 1);
  });

  it('without the password it fails with a message that says how to fix it, and runs nothing', async () => {
    const other = jobMessageAt('2024-05-02T03:00:00Z');
    const res = await runJobTask({ ...env, [JOB_ENV_VAR]: other, MYSQL_PITR_SOURCE_PASSWORD: undefined });
    assert.equal(res.code, 2, 'a misconfigured task exits with the config exit code');
    assert.match(res.stderr, /has no MYSQL_PITR_SOURCE_PASSWORD.*task definition must map the secret/);
    assert.equal((await list('backups/')).filter((k) => k.endsWith('/manifest.json')).length, 1);
    assert.deepEqual(await list('jobs/dump/20240502'), [], 'the failed attempt released its claim');
  });

  it('runs verify and expire jobs: verify reports an unarchived backup as VerifyFailed, expire keeps the newest backup', async () => {
    const at = '2024-05-03T03:00:00Z';
    const verify = await runJobTask({
      ...env,
      [JOB_ENV_VAR]: JSON.stringify({
        ...job,
        kind: 'verify',
        scheduledAt: at,
        idempotencyKey: `orders/verify/${at}`,
      }),
    });
    assert.equal(verify.code, 0, verify.stderr);
    const metrics = verify.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(
      metrics.some((m) => m['VerifyFailed'] === 1),
      `no binlogs are archived, so the backup cannot be rolled forward: ${verify.stdout}`,
    );
    assert.match(verify.stderr, /problem/);

    const expire = await runJobTask({
      ...env,
      [JOB_ENV_VAR]: JSON.stringify({
        ...job,
        kind: 'expire',
        scheduledAt: at,
        idempotencyKey: `orders/expire/${at}`,
      }),
    });
    assert.equal(expire.code, 0, expire.stderr);
    assert.equal(
      (await list('backups/')).filter((k) => k.endsWith('/manifest.json')).length,
      1,
      'the newest backup is never expired',
    );
  });

  it("a task given another cluster's job (a RunTask override) runs nothing and exits 2", async () => {
    const at = '2024-05-04T03:00:00Z';
    const res = await runJobTask({
      ...env,
      [JOB_ENV_VAR]: JSON.stringify({
        ...job,
        cluster: 'payroll',
        scheduledAt: at,
        idempotencyKey: `payroll/dump/${at}`,
      }),
    });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /unknown cluster 'payroll': this worker serves orders/);
    assert.deepEqual(await list('jobs/dump/20240504'), []);
  });

  function jobMessageAt(scheduledAt: string): string {
    return JSON.stringify({ ...job, scheduledAt, idempotencyKey: `orders/dump/${scheduledAt}` });
  }
});
