import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { clusterRepositoryPrefix, type RepositoryConfig } from '../../src/config/deployment-config.js';

/** S3 actions of an archiver: write and read its own objects, never delete them. */
export const ARCHIVER_OBJECT_ACTIONS = ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'] as const;
/** S3 actions of the job worker: the archiver's, plus delete (only `expire` deletes). */
export const WORKER_OBJECT_ACTIONS = [...ARCHIVER_OBJECT_ACTIONS, 's3:DeleteObject'] as const;

/**
 * The repository bucket: KMS-encrypted, versioned, private, TLS only, with optional Object Lock,
 * and a lifecycle that only aborts interrupted multipart uploads and removes noncurrent versions
 * (what `expire` deleted or a put replaced) after a while. Or an existing bucket the stack only
 * grants access to.
 *
 * No lifecycle rule expires current objects: `mysql-pitr expire` is the only retention. An age
 * rule cannot know what the tool still needs (a timeline record is written once and read forever,
 * the first segments of a binlog file open for weeks, the backups `keepBackups` keeps), and a lost
 * timeline record made the archiver reuse its id (docs/retention.md).
 *
 * Grants are written out rather than taken from `bucket.grantReadWrite`, which includes
 * s3:DeleteObject*: the archiver must not be able to delete what it archived.
 */
export class RepositoryBucket extends Construct {
  readonly bucket: s3.IBucket;
  /** The key objects are encrypted with; undefined for an existing bucket without `kmsKeyArn`. */
  readonly key: kms.IKey | undefined;
  readonly #prefix: string;

  constructor(scope: Construct, id: string, props: { repository: RepositoryConfig }) {
    super(scope, id);
    const r = props.repository;
    this.#prefix = r.prefix;
    if (!r.create) {
      this.bucket = s3.Bucket.fromBucketName(this, 'Bucket', r.bucketName!);
      this.key = r.kmsKeyArn ? kms.Key.fromKeyArn(this, 'Key', r.kmsKeyArn) : undefined;
      return;
    }
    this.key = r.kmsKeyArn
      ? kms.Key.fromKeyArn(this, 'Key', r.kmsKeyArn)
      : new kms.Key(this, 'Key', {
          description: 'mysql-pitr repository encryption',
          enableKeyRotation: true,
          removalPolicy: RemovalPolicy.RETAIN,
        });
    const filter = r.prefix === '' ? {} : { prefix: r.prefix };
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...(r.bucketName ? { bucketName: r.bucketName } : {}),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(r.objectLock.enabled
        ? {
            objectLockEnabled: true,
            objectLockDefaultRetention:
              r.objectLock.mode === 'compliance'
                ? s3.ObjectLockRetention.compliance(Duration.days(r.objectLock.retentionDays))
                : s3.ObjectLockRetention.governance(Duration.days(r.objectLock.retentionDays)),
          }
        : {}),
      // Never an `expiration` of current objects here: see the class comment.
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(r.abortIncompleteUploadDays),
        },
        {
          id: 'noncurrent-version-expiration',
          ...filter,
          noncurrentVersionExpiration: Duration.days(r.noncurrentVersionExpirationDays),
        },
      ],
    });
  }

  /** Lets the archiver of `cluster` put, get and list objects under its own prefix; no delete. */
  grantArchiver(grantee: iam.IGrantable, cluster: string): void {
    this.#grant(grantee, clusterRepositoryPrefix({ prefix: this.#prefix }, cluster), ARCHIVER_OBJECT_ACTIONS);
  }

  /** Lets a job worker put, get, list and delete objects (expire deletes) of `cluster`, or of every cluster. */
  grantJobWorker(grantee: iam.IGrantable, cluster?: string): void {
    const prefix =
      cluster === undefined ? this.#prefix : clusterRepositoryPrefix({ prefix: this.#prefix }, cluster);
    this.#grant(grantee, prefix, WORKER_OBJECT_ACTIONS);
  }

  #grant(grantee: iam.IGrantable, prefix: string, actions: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...actions],
        resources: [this.bucket.arnForObjects(`${prefix}*`)],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        ...(prefix === '' ? {} : { conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } } }),
      }),
    );
    if (this.key) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt'],
          resources: [this.key.keyArn],
        }),
      );
    }
  }
}
