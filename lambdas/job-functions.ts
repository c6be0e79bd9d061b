/**
 * The production wiring of the job port (`JobFunctions`): which domain function runs each job
 * kind. Shared by the Lambda worker (worker.ts) and the Fargate job task (job-task.ts).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createBackup } from '../src/backup/index.js';
import {
  compactRepository,
  expireRepository,
  verifyRepository,
  newestCommitRestorable,
} from '../src/maintenance/index.js';
import { parseMysqlUrl } from '../src/config/mysql-url.js';
import { PitrError } from '../src/errors/index.js';
import { atLeastTlsMode, loadTlsSettings } from '../src/mysql/index.js';
import type { JobFunctions } from '../src/jobs/index.js';

/** Where ECS puts the cluster's password (an ECS secret from Secrets Manager; see cdk/lib/job-worker.ts). */
export const SOURCE_PASSWORD_ENV = 'MYSQL_PITR_SOURCE_PASSWORD';

/** Reads one secret's string value (narrow port over Secrets Manager, so tests can pass their own). */
export type SecretReader = (secretId: string) => Promise<string>;

/** The production SecretReader: AWS Secrets Manager in the function's own region. */
export function secretsManagerReader(): SecretReader {
  let client: SecretsManagerClient | undefined;
  return async (secretId) => {
    client ??= new SecretsManagerClient({});
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
    return out.SecretString;
  };
}

/**
 * The password of a cluster: the ECS secret in `env` (Fargate task) or, in the Lambda worker,
 * the `passwordKey` field of the JSON secret (or the whole plain-text secret) in Secrets Manager.
 */
export async function sourcePassword(
  job: { cluster: string; credentials: { secret: string; passwordKey: string } },
  env: Readonly<Record<string, string | undefined>>,
  readSecret: SecretReader,
): Promise<string> {
  const fromEnv = env[SOURCE_PASSWORD_ENV];
  if (fromEnv !== undefined) return fromEnv;
  let text: string;
  try {
    text = await readSecret(job.credentials.secret);
  } catch (err) {
    throw new PitrError(
      'CONFIG_INVALID',
      `cannot read the password of cluster ${job.cluster} from Secrets Manager secret ${job.credentials.secret}: ` +
        `${(err as Error).message}. Check that the secret exists and that the worker role may call GetSecretValue on it.`,
      { cause: err },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text; // a plain-text secret is the password itself
  }
  const value = (parsed as Record<string, unknown> | null)?.[job.credentials.passwordKey];
  if (typeof value !== 'string') {
    throw new PitrError(
      'CONFIG_INVALID',
      `Secrets Manager secret ${job.credentials.secret} of cluster ${job.cluster} has no string field ` +
        `"${job.credentials.passwordKey}"; store the password under that key or change credentials.passwordKey in the deployment config.`,
    );
  }
  return value;
}

/**
 * The job functions of this build; `env` is the process environment (the Fargate task's password
 * comes from it), `readSecret` reads Secrets Manager where the environment has no password.
 */
export function productionJobFunctions(
  env: Readonly<Record<string, string | undefined>>,
  readSecret: SecretReader = secretsManagerReader(),
): JobFunctions {
  return {
    async dump(job, { repository, log }) {
      const password = await sourcePassword(job, env, readSecret);
      const url = parseMysqlUrl(job.source.url, `source of cluster ${job.cluster}`);
      const tls = loadTlsSettings({ mode: job.tls.mode, caFile: job.tls.caFile });
      const source = { ...url, tls: url.tls ? atLeastTlsMode(tls, url.tls.mode) : tls, password };
      const manifest = await createBackup({
        source,
        store: repository,
        searchPath: env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
        // The dump tool gets the password through createBackup's 0600 defaults file, not our variable.
        env: { ...env, [SOURCE_PASSWORD_ENV]: undefined },
        logger: log,
      });
      return { details: { backupId: manifest.id } };
    },
    async expire(job, { repository, log }) {
      const result = await expireRepository(
        repository,
        { keepDays: job.retention.keepDays, keepBackups: job.retention.keepBackups },
        { logger: log },
      );
      return { details: { deleted: result.deleted.length, segmentBytes: result.segmentBytes } };
    },
    async compact(_job, { repository, log }) {
      // A run stopped by the Lambda timeout leaves a consistent repository; the next run finishes it.
      const result = await compactRepository(repository, { logger: log });
      return {
        details: {
          files: result.files.length,
          objectsBefore: result.objectsBefore,
          objectsAfter: result.objectsAfter,
          storedBytesBefore: result.storedBytesBefore,
          storedBytesAfter: result.storedBytesAfter,
        },
      };
    },
    async verify(job, { repository, log }) {
      const report = await verifyRepository(repository, { logger: log });
      if (!report.ok) {
        // Completes (a retry would find the same damage) but raises VerifyFailed, and so the alarm.
        log.error(`verify of cluster ${job.cluster} found ${report.problems.length} problem(s)`, {
          repository: report.repository,
          problems: report.problems.slice(0, 20).map((p) => p.message),
          hint: `run mysql-pitr verify --repo ${report.repository} for the full report`,
        });
      }
      const newestRestorable = newestCommitRestorable(report);
      if (newestRestorable === false) {
        log.error(`the newest archived commit of cluster ${job.cluster} cannot be restored`, {
          unrestorable: report.unrestorable.slice(-3).map((u) => u.reason),
          hint: `run mysql-pitr verify --repo ${report.repository}; take a backup if the history broke (a failover without GTIDs, a gap)`,
        });
      }
      return {
        verified: report.ok,
        ...(newestRestorable === undefined ? {} : { newestRestorable }),
        details: {
          problems: report.problems.length,
          windows: report.windows.length,
          segments: report.segments.checked,
        },
      };
    },
  };
}
