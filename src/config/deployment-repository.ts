import type { ObjectLockMode, RepositoryConfig } from './deployment-config-sections.js';
import { DEPLOYMENT_PATTERNS } from './deployment-patterns.js';
import { SectionFields } from './deployment-section-fields.js';
import { describe, type Validator } from './deployment-validator.js';

const KMS_KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const PREFIX_RE = /^[A-Za-z0-9!_.*'()/-]*$/;
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** The settings of a bucket this stack creates; an existing bucket's are its owner's business. */
const MANAGED_KEYS = ['objectLock', 'noncurrentVersionExpirationDays', 'abortIncompleteUploadDays'];
const NO_OBJECT_LOCK: RepositoryConfig['objectLock'] = {
  enabled: false,
  mode: 'governance',
  retentionDays: 0,
};

/**
 * `repository` (optional): the bucket (created by the stack, or an existing one by name), the key
 * prefix, the KMS key, and for a created bucket its Object Lock and lifecycle.
 */
export function readRepositorySection(v: Validator, value: unknown): RepositoryConfig | undefined {
  if (typeof value === 'object' && value !== null && 'safetyNetExpirationDays' in value) {
    // Removed: a lifecycle rule expiring current objects deleted what the tool still needed
    // (timeline records written once, segments of long-open files, backups keepBackups keeps).
    return v.fail(
      'repository.safetyNetExpirationDays',
      'was removed: no lifecycle rule expires current objects any more, `mysql-pitr expire` is the only retention ' +
        '(docs/retention.md). Delete the key',
    );
  }
  const obj =
    value === undefined
      ? {}
      : v.object(value, 'repository', ['create', 'bucketName', 'prefix', 'kmsKeyArn', ...MANAGED_KEYS]);
  if (!obj) return undefined;
  const f = SectionFields.of(v, obj, 'repository');
  const create = f.optional('create', true, (x, p) => v.boolean(x, p));
  if (create === undefined) return undefined;
  const bucketName = f.maybe('bucketName', (x, p) => readBucketName(v, x, p));
  if (f.failed) return undefined;
  if (!create && bucketName === undefined) {
    return v.fail(
      'repository.bucketName',
      'is required when repository.create is false: name the existing bucket',
    );
  }
  const prefix = f.optional('prefix', '', (x, p) => readPrefix(v, x, p));
  const kmsKeyArn = f.maybe('kmsKeyArn', (x, p) =>
    v.string(x, p, KMS_KEY_ARN_RE, 'a KMS key ARN arn:aws:kms:REGION:ACCOUNT:key/UUID (not an alias)'),
  );
  if (prefix === undefined || f.failed) return undefined;

  if (!create) {
    const managed = MANAGED_KEYS.filter((key) => f.has(key));
    for (const key of managed) {
      v.fail(
        `repository.${key}`,
        'applies only to a bucket this stack creates (repository.create is false); configure it on the existing bucket yourself, or remove it',
      );
    }
    if (managed.length > 0) return undefined;
    return {
      create,
      bucketName,
      prefix,
      kmsKeyArn,
      objectLock: NO_OBJECT_LOCK,
      noncurrentVersionExpirationDays: 0,
      abortIncompleteUploadDays: 0,
    };
  }

  const objectLock = f.optional('objectLock', NO_OBJECT_LOCK, (x, p) => readObjectLock(v, x, p));
  if (!objectLock) return undefined;
  return f.complete<RepositoryConfig>({
    create,
    bucketName,
    prefix,
    kmsKeyArn,
    objectLock,
    noncurrentVersionExpirationDays: f.optional(
      'noncurrentVersionExpirationDays',
      Math.max(7, objectLock.retentionDays),
      (x, p) => v.integer(x, p, 1, 36500, ' days'),
    ),
    abortIncompleteUploadDays: f.optional('abortIncompleteUploadDays', 3, (x, p) =>
      v.integer(x, p, 1, 30, ' days'),
    ),
  });
}

/** `repository.objectLock`: on when present unless `enabled` is false; then `retentionDays` is required. */
function readObjectLock(
  v: Validator,
  value: unknown,
  path: string,
): RepositoryConfig['objectLock'] | undefined {
  const ol = v.object(value, path, ['enabled', 'mode', 'retentionDays']);
  if (!ol) return undefined;
  const f = SectionFields.of(v, ol, path);
  const enabled = f.optional('enabled', true, (x, p) => v.boolean(x, p));
  const mode = f.optional<ObjectLockMode>('mode', 'governance', (x, p) =>
    v.oneOf(x, p, ['governance', 'compliance'] as const),
  );
  const retentionDays = enabled
    ? f.required('retentionDays', (x, p) => v.integer(x, p, 1, 36500, ' days'))
    : 0;
  return f.complete<RepositoryConfig['objectLock']>({ enabled, mode, retentionDays });
}

function readBucketName(v: Validator, value: unknown, path: string): string | undefined {
  const s = v.string(value, path, undefined, 'an S3 bucket name');
  if (s === undefined) return undefined;
  const ok =
    BUCKET_RE.test(s) &&
    !s.includes('..') &&
    !s.includes('.-') &&
    !s.includes('-.') &&
    !DEPLOYMENT_PATTERNS.ipv4.re.test(s);
  return ok
    ? s
    : v.fail(
        path,
        `'${s}' is not a valid S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit`,
      );
}

function readPrefix(v: Validator, value: unknown, path: string): string | undefined {
  if (typeof value !== 'string')
    return v.fail(
      path,
      `must be a string such as 'pitr/' (or '' for the bucket root), not ${describe(value)}`,
    );
  if (value.startsWith('/'))
    return v.fail(path, `'${value}' must not start with '/'; S3 keys are relative, e.g. 'pitr/'`);
  if (!PREFIX_RE.test(value) || value.includes('//')) {
    return v.fail(
      path,
      `'${value}' may contain only letters, digits and !_.*'()/- and no empty segment ('//')`,
    );
  }
  return value === '' || value.endsWith('/') ? value : `${value}/`;
}
