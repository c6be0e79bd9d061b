import { ConfigError } from '../config/config-error.js';
import { FLAVOURS, JOB_KINDS, type Flavour, type JobKind } from '../config/deployment-config.js';

/** Schema tag of every job message; a worker rejects messages of another schema. */
export const JOB_MESSAGE_SCHEMA = 'mysql-pitr/job@1';

/** Environment variable that carries a job message (JSON) into a Fargate job task. */
export const JOB_ENV_VAR = 'MYSQL_PITR_JOB';

/**
 * One scheduled job for one cluster, as the dispatcher sends it to the SQS job queue (message
 * body) or to a Fargate job task (`MYSQL_PITR_JOB`). It is self-contained: a worker needs no
 * deployment config to run it.
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
  /** The cluster's repository, `s3://bucket/prefix/cluster/`. */
  readonly repository: string;
  readonly source: {
    /** `mysql://user@host:port/?ssl=true` (or `mariadb://`), never with a password. */
    readonly url: string;
    readonly flavour: Flavour;
  };
  /** Where the source password is: a Secrets Manager secret (name or ARN) and the JSON key inside it. */
  readonly credentials: { readonly secret: string; readonly passwordKey: string };
  /** Retention for `expire`; carried by every kind so `verify` can report what expire would keep. */
  readonly retention: { readonly keepDays: number; readonly keepBackups: number };
}

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
 * CONFIG_INVALID) naming the first bad field; such a message can never succeed, so a worker
 * should log it and let it go to the dead-letter queue rather than retry.
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
  const str = (field: string, obj: Record<string, unknown> = m, path = field): string => {
    const value = obj[field];
    return typeof value === 'string' && value !== '' ? value : bad(path, 'must be a non-empty string');
  };
  const int = (field: string, obj: Record<string, unknown>, path: string): number => {
    const value = obj[field];
    return typeof value === 'number' && Number.isInteger(value) && value > 0
      ? value
      : bad(path, 'must be a positive whole number');
  };
  const sub = (field: string): Record<string, unknown> => {
    const value = m[field];
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : bad(field, 'must be an object');
  };
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
  const repository = str('repository');
  if (!repository.startsWith('s3://')) bad('repository', `'${repository}' is not an s3:// URL`);
  const source = sub('source');
  const url = str('url', source, 'source.url');
  const flavour = str('flavour', source, 'source.flavour');
  if (!(FLAVOURS as readonly string[]).includes(flavour))
    bad('source.flavour', `'${flavour}' is not mariadb or mysql`);
  const credentials = sub('credentials');
  const retention = sub('retention');
  return Object.freeze({
    schema: JOB_MESSAGE_SCHEMA,
    kind: kind as JobKind,
    cluster,
    idempotencyKey,
    scheduledAt,
    trigger: trigger as 'schedule' | 'manual',
    repository,
    source: Object.freeze({ url, flavour: flavour as Flavour }),
    credentials: Object.freeze({
      secret: str('secret', credentials, 'credentials.secret'),
      passwordKey: str('passwordKey', credentials, 'credentials.passwordKey'),
    }),
    retention: Object.freeze({
      keepDays: int('keepDays', retention, 'retention.keepDays'),
      keepBackups: int('keepBackups', retention, 'retention.keepBackups'),
    }),
  });
}
