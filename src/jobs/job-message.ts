import { ConfigError } from '../config/config-error.js';
import { JOB_KINDS, type JobKind } from '../config/deployment-config.js';

/**
 * Schema tag of every job message; a worker rejects messages of another schema. `@2`: the message
 * names only a cluster and a job kind (`@1` messages carried endpoint, secret and prefix).
 */
export const JOB_MESSAGE_SCHEMA = 'mysql-pitr/job@2';

/** Environment variable that carries a job message (JSON) into a Fargate job task. */
export const JOB_ENV_VAR = 'MYSQL_PITR_JOB';

/**
 * One scheduled job for one cluster, as the dispatcher sends it to the SQS job queue (message
 * body) or to a Fargate job task (`MYSQL_PITR_JOB`). It names only the cluster and the job kind
 * (and when it was scheduled): the worker takes every parameter (endpoint, secret, repository,
 * retention, TLS) from its own deployment config (`ClusterJobSettings`), so whoever can send to
 * the queue can at most start a job the deployment already schedules.
 *
 * Redelivery is normal (SQS and EventBridge deliver at least once): a worker must make a second
 * run of the same `idempotencyKey` a no-op, e.g. by deriving the backup id from `scheduledAt` and
 * skipping when that backup's manifest already exists.
 */
export interface JobMessage {
  /** Always JOB_MESSAGE_SCHEMA. */
  readonly schema: typeof JOB_MESSAGE_SCHEMA;
  readonly kind: JobKind;
  /** Cluster name from the deployment config. */
  readonly cluster: string;
  /** `cluster/kind/scheduledAt`: the same for every delivery of one scheduled run. */
  readonly idempotencyKey: string;
  /** Scheduled time of the run, UTC, `YYYY-MM-DDTHH:MM:SSZ` (the schedule's time, not the delivery's). */
  readonly scheduledAt: string;
  /** `schedule` for EventBridge runs, `manual` for a direct invocation without a scheduled time. */
  readonly trigger: 'schedule' | 'manual';
}

/** The fields a job message may have; any other is refused. */
export const JOB_MESSAGE_FIELDS = [
  'schema',
  'kind',
  'cluster',
  'idempotencyKey',
  'scheduledAt',
  'trigger',
] as const;

/** `cluster/kind/2024-05-01T03:00:00Z`: deterministic per scheduled run. */
export function jobIdempotencyKey(cluster: string, kind: JobKind, scheduledAt: string): string {
  return `${cluster}/${kind}/${scheduledAt}`;
}

/**
 * A timestamp normalised to whole seconds, UTC, `YYYY-MM-DDTHH:MM:SSZ`, so that `2024-05-01T03:00:00Z`
 * and `2024-05-01T03:00:00.000Z` give the same idempotency key. Returns undefined when not a time.
 */
export function normaliseScheduledAt(text: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Parses and checks a job message (an SQS body or `MYSQL_PITR_JOB`). Throws ConfigError (code
 * CONFIG_INVALID) naming the first bad field, or every field a job message may not carry; such a
 * message can never succeed, so a worker should log it and let it go to the dead-letter queue.
 */
export function parseJobMessage(text: string): JobMessage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `job message is not JSON (${(err as Error).message}); it was not sent by the mysql-pitr dispatcher`,
      {
        cause: err,
      },
    );
  }
  const bad = (field: string, what: string): never => {
    throw new ConfigError(
      `job message field ${field} ${what}; it was not sent by a compatible mysql-pitr dispatcher`,
    );
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return bad('(top level)', 'is not an object');
  const m = data as Record<string, unknown>;
  const str = (field: string): string => {
    const value = m[field];
    return typeof value === 'string' && value !== '' ? value : bad(field, 'must be a non-empty string');
  };
  const extra = Object.keys(m).filter((k) => !(JOB_MESSAGE_FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) {
    throw new ConfigError(
      `job message carries ${extra.join(', ')}: a job message names only a cluster and a job kind ` +
        `(${JOB_MESSAGE_FIELDS.join(', ')}); the worker takes endpoint, secret, repository and retention from ` +
        'its deployment config. Refused without running anything; it goes to the dead-letter queue',
    );
  }
  if (m['schema'] !== JOB_MESSAGE_SCHEMA)
    bad('schema', `is ${JSON.stringify(m['schema'])}, expected '${JOB_MESSAGE_SCHEMA}'`);
  const kind = str('kind');
  if (!(JOB_KINDS as readonly string[]).includes(kind))
    bad('kind', `'${kind}' is not one of ${JOB_KINDS.join(', ')}`);
  const cluster = str('cluster');
  const scheduledAt = str('scheduledAt');
  if (normaliseScheduledAt(scheduledAt) !== scheduledAt)
    bad('scheduledAt', `'${scheduledAt}' is not YYYY-MM-DDTHH:MM:SSZ`);
  const idempotencyKey = str('idempotencyKey');
  if (idempotencyKey !== jobIdempotencyKey(cluster, kind as JobKind, scheduledAt)) {
    bad('idempotencyKey', `'${idempotencyKey}' does not match cluster/kind/scheduledAt`);
  }
  const trigger = str('trigger');
  if (trigger !== 'schedule' && trigger !== 'manual')
    bad('trigger', `'${trigger}' is not schedule or manual`);
  return Object.freeze({
    schema: JOB_MESSAGE_SCHEMA,
    kind: kind as JobKind,
    cluster,
    idempotencyKey,
    scheduledAt,
    trigger: trigger as 'schedule' | 'manual',
  });
}
