import type { JobsConfig } from './deployment-config-sections.js';
import { checkFargateSize } from './deployment-fargate-size.js';
import { SectionFields } from './deployment-section-fields.js';
import type { Validator } from './deployment-validator.js';

/** The job workers' sizes when `jobs` (or one of its keys) is absent. */
const JOBS_DEFAULTS: JobsConfig = {
  lambdaMemoryMiB: 2048,
  lambdaTimeoutSeconds: 900,
  lambdaEphemeralStorageMiB: 2048,
  maxConcurrency: 5,
  fargateCpu: 1024,
  fargateMemoryMiB: 2048,
  fargateEphemeralStorageGiB: 21,
};

/** `jobs`: the sizes of the job worker Lambda and of the Fargate job task (a size Fargate offers). */
export function readJobsSection(v: Validator, value: unknown): JobsConfig | undefined {
  const d = JOBS_DEFAULTS;
  if (value === undefined) return d;
  const obj = v.object(value, 'jobs', Object.keys(d));
  if (!obj) return undefined;
  const f = SectionFields.of(v, obj, 'jobs');
  const jobs = f.complete<JobsConfig>({
    lambdaMemoryMiB: f.optional('lambdaMemoryMiB', d.lambdaMemoryMiB, (x, p) =>
      v.integer(x, p, 128, 10240, ' MiB'),
    ),
    lambdaTimeoutSeconds: f.optional('lambdaTimeoutSeconds', d.lambdaTimeoutSeconds, (x, p) =>
      v.integer(x, p, 60, 900, ' seconds (Lambda stops at 15 minutes; use a fargate worker for longer jobs)'),
    ),
    lambdaEphemeralStorageMiB: f.optional('lambdaEphemeralStorageMiB', d.lambdaEphemeralStorageMiB, (x, p) =>
      v.integer(x, p, 512, 10240, ' MiB'),
    ),
    maxConcurrency: f.optional('maxConcurrency', d.maxConcurrency, (x, p) => v.integer(x, p, 2, 1000)),
    fargateCpu: f.optional('fargateCpu', d.fargateCpu, (x, p) => v.integer(x, p, 256, 16384, ' CPU units')),
    fargateMemoryMiB: f.optional('fargateMemoryMiB', d.fargateMemoryMiB, (x, p) =>
      v.integer(x, p, 512, 122880, ' MiB'),
    ),
    fargateEphemeralStorageGiB: f.optional(
      'fargateEphemeralStorageGiB',
      d.fargateEphemeralStorageGiB,
      (x, p) => v.integer(x, p, 21, 200, ' GiB'),
    ),
  });
  if (!jobs) return undefined;
  const sized = checkFargateSize(
    v,
    jobs.fargateCpu,
    jobs.fargateMemoryMiB,
    'jobs.fargateMemoryMiB',
    'jobs.fargateCpu',
  );
  return sized ? jobs : undefined;
}
