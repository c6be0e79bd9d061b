/**
 * The production wiring of the job port (`JobFunctions`): which domain function runs each job
 * kind. Shared by the Lambda worker (worker.ts) and the Fargate job task (job-task.ts).
 */
import { createBackup } from '../src/archiver/index.js';
import { parseMysqlUrl } from '../src/config/mysql-url.js';
import { PitrError } from '../src/errors/index.js';
import type { JobFunctions } from '../src/jobs/index.js';

/** Where ECS puts the cluster's password (an ECS secret from Secrets Manager; see cdk/lib/job-worker.ts). */
export const SOURCE_PASSWORD_ENV = 'MYSQL_PITR_SOURCE_PASSWORD';

function notImplemented(what: string, deliveredBy: string): () => Promise<never> {
  return () =>
    Promise.reject(
      new PitrError(
        'NOT_IMPLEMENTED',
        `this mysql-pitr build cannot run ${what} jobs yet: ${deliveredBy}. ` +
          'The job was not run and will land in the dead-letter queue; deploy an image that includes it, ' +
          'or turn the schedule off in the deployment config.',
      ),
    );
}

/** The job functions of this build; `env` is the process environment (the password comes from it). */
export function productionJobFunctions(env: Readonly<Record<string, string | undefined>>): JobFunctions {
  return {
    async dump(job, { repository, log }) {
      const password = env[SOURCE_PASSWORD_ENV];
      if (password === undefined) {
        throw new PitrError(
          'NOT_IMPLEMENTED',
          `cannot dump cluster ${job.cluster}: its password is in Secrets Manager (${job.credentials.secret}) and this worker ` +
            `has no ${SOURCE_PASSWORD_ENV}. The Lambda worker cannot read Secrets Manager in this build; set ` +
            `workers.dump to "fargate" for this cluster (the Fargate job task receives the password as an ECS secret) and redeploy.`,
        );
      }
      const source = { ...parseMysqlUrl(job.source.url, `source of cluster ${job.cluster}`), password };
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
    expire: notImplemented(
      'expire',
      'retention (`expire`) is delivered by a later issue, after issue 5 (`backup create`)',
    ),
    verify: notImplemented(
      'verify',
      'repository verification (`verify`) is delivered by a later issue, after issue 5',
    ),
  };
}
