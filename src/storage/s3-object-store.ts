import { Agent as HttpAgent, STATUS_CODES } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';

import { ChecksumMismatchError, PitrError } from '../errors/index.js';
import { silentLogger, type Logger } from '../log/index.js';
import { BackoffRetryStrategy, DAMAGED_IN_TRANSIT_NAMES } from './backoff-retry-strategy.js';
import { validateByteRange } from './byte-range.js';
import { ObjectNotFoundError } from './object-not-found-error.js';
import { validateKeyPrefix, validateObjectKey } from './object-key.js';
import type {
  ByteRange,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
} from './object-store.js';
import { PreconditionFailedError } from './precondition-failed-error.js';
import { assertFreshBody, BodySource, isBytes, toBuffer } from './put-body.js';
import { redactUrl } from '../log/index.js';
import { StorageError, type StorageErrorCode } from './storage-error.js';

/** Static AWS credentials, or a provider of them (the SDK's default chain when omitted). */
export type S3Credentials =
  | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | (() => Promise<{
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      expiration?: Date;
    }>);

/** Options of {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (no leading or trailing "/"); `''` for the bucket root. */
  prefix?: string;
  /** AWS region; when omitted the SDK resolves it (AWS_REGION, profile). */
  region?: string;
  /** Endpoint of an S3-compatible store or emulator (`http://127.0.0.1:4566`). */
  endpoint?: string;
  /** Path-style addressing (`endpoint/bucket/key`); default true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** When omitted, the SDK's default provider chain (environment, profile, SSO, IMDS/ECS role). */
  credentials?: S3Credentials;
  /** Attempts per request, including the first (default 8). Also bounds resumes of a broken download. */
  maxAttempts?: number;
  /** Backoff base for 5xx and connection errors, ms (default 100). */
  retryBaseDelayMs?: number;
  /** Backoff base when S3 throttles (503 SlowDown), ms (default 500). */
  throttlingBaseDelayMs?: number;
  /** Upper bound of one backoff delay, ms (default 20,000). */
  retryMaxDelayMs?: number;
  /** TCP connect timeout, ms (default 5,000). */
  connectionTimeoutMs?: number;
  /** Socket idle timeout during a request, ms (default 60,000). */
  requestTimeoutMs?: number;
  /** Multipart part size, bytes (default 8 MiB, minimum 5 MiB). Memory per stream put is about (queueSize + 1) parts. */
  partSizeBytes?: number;
  /** Parts uploaded in parallel per stream put (default 2). */
  queueSize?: number;
  /** Sockets per client (default 32). */
  maxSockets?: number;
  /**
   * Whether the store honours `If-None-Match: *` on PutObject/CompleteMultipartUpload (AWS S3
   * does since August 2024; some S3-compatible stores and emulators ignore it). Default true.
   * When false, put-if-absent is a HEAD followed by a PUT (see `supportsConditionalPut`).
   */
  conditionalPut?: boolean;
  logger?: Logger;
}

type Operation = 'put' | 'get' | 'head' | 'list' | 'delete' | 'check bucket';

const MIB = 1024 * 1024;
/** S3's smallest part other than the last. */
const MIN_PART_SIZE = 5 * MIB;
/** DeleteObjects takes at most this many keys per request. */
const DELETE_BATCH = 1000;
/** ListObjectsV2 returns at most this many keys per page. */
const LIST_PAGE = 1000;

/** The IAM action each operation needs, for access-denied messages. */
const IAM_ACTION: Record<Operation, string> = {
  put: 's3:PutObject',
  get: 's3:GetObject',
  head: 's3:GetObject',
  list: 's3:ListBucket',
  delete: 's3:DeleteObject',
  'check bucket': 's3:ListBucket',
};

/** S3 error codes (the SDK error's `name`) meaning the caller's credentials were refused. */
const ACCESS_DENIED_NAMES = new Set([
  'AccessDenied',
  'Forbidden',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
]);

/** HTTP statuses (with 5xx) and codes after which retrying later can help. */
const THROTTLING_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; totalRetryDelay?: number };
}

/**
 * A repository in an S3 bucket (or an S3-compatible store) under a key prefix. The only module
 * that imports the AWS SDK.
 *
 * - Buffers up to one part go in one PutObject; larger buffers and all streams go through
 *   lib-storage's multipart `Upload` with `partSizeBytes` parts and `queueSize` parts in flight,
 *   so memory is bounded. Parts are Buffers, so the SDK can retry each one; a stream is never
 *   re-sent (the SDK refuses to retry a streaming body), and a failed or aborted upload is
 *   aborted, so no partial object becomes visible.
 * - Every request is retried by {@link BackoffRetryStrategy} (throttling, 5xx, dropped
 *   connections, timeouts, a body S3 received damaged: BadDigest) up to `maxAttempts`; then the
 *   operation fails with STORAGE_UNAVAILABLE saying how many attempts over how long and the last error.
 * - A download that breaks mid-body is resumed with a Range request from the last byte received,
 *   pinned to the first response's ETag (If-Match), so the bytes come from one object version.
 */
export class S3ObjectStore implements ObjectStore {
  readonly supportsConditionalPut: boolean;
  readonly bucket: string;
  /** Key prefix inside the bucket, '' or ending with '/'. */
  readonly keyPrefix: string;
  readonly #client: S3Client;
  readonly #retry: BackoffRetryStrategy;
  readonly #url: string;
  readonly #endpoint: string | undefined;
  readonly #logger: Logger;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #maxAttempts: number;
  /** The region given in the options (undefined: the SDK resolves it). */
  readonly #regionOption: string | undefined;
  /** Set after any request answered without NoSuchBucket: the bucket exists. */
  #bucketSeen = false;

  constructor(options: S3ObjectStoreOptions) {
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.bucket = options.bucket;
    this.keyPrefix = prefix === '' ? '' : `${prefix}/`;
    this.#url = `s3://${options.bucket}/${prefix}`;
    if (prefix !== '') validateKeyPrefix(this.#url, this.keyPrefix);
    this.#endpoint = options.endpoint;
    this.#regionOption = options.region;
    this.#logger = options.logger ?? silentLogger;
    this.#partSize = options.partSizeBytes ?? 8 * MIB;
    if (this.#partSize < MIN_PART_SIZE) {
      throw new StorageError(
        'CONFIG_INVALID',
        `S3 part size ${this.#partSize} is below S3's minimum of 5 MiB`,
        {
          store: this.#url,
        },
      );
    }
    this.#queueSize = options.queueSize ?? 2;
    this.#maxAttempts = options.maxAttempts ?? 8;
    this.supportsConditionalPut = options.conditionalPut ?? true;
    this.#retry = new BackoffRetryStrategy({
      maxAttempts: this.#maxAttempts,
      baseDelayMs: options.retryBaseDelayMs,
      throttlingBaseDelayMs: options.throttlingBaseDelayMs,
      maxDelayMs: options.retryMaxDelayMs,
      logger: this.#logger.child({ store: this.#url }),
    });
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 32 };
    this.#client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      credentials: options.credentials,
      maxAttempts: this.#maxAttempts,
      retryStrategy: this.#retry,
      // A bucket in another region than configured: follow S3's redirect instead of failing.
      followRegionRedirects: true,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: options.connectionTimeoutMs ?? 5_000,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new HttpsAgent(agentOptions),
      }),
    });
  }

  describe(): string {
    return this.#url;
  }

  /** Closes the client's sockets. The store must not be used afterwards. */
  destroy(): void {
    this.#client.destroy();
  }

  async put(key: string, body: PutBody, opts: PutOptions = {}): Promise<PutResult> {
    const fullKey = this.#fullKey(key);
    assertFreshBody(this.#url, key, body);
    // Before any await: from here on a failing source is recorded, not an uncaught 'error'.
    const source = isBytes(body) ? undefined : new BodySource(body);
    if (opts.ifAbsent && !this.supportsConditionalPut && (await this.exists(key))) {
      throw new PreconditionFailedError(this.#url, key, `object ${key} already exists`);
    }
    const params = {
      Bucket: this.bucket,
      Key: fullKey,
      ContentType: opts.contentType ?? 'application/octet-stream',
      ...(opts.ifAbsent && this.supportsConditionalPut ? { IfNoneMatch: '*' } : {}),
    };

    if (isBytes(body) && body.byteLength <= this.#partSize) {
      const buf = toBuffer(body);
      try {
        await this.#send('put', key, () =>
          this.#client.send(new PutObjectCommand({ ...params, Body: buf, ContentLength: buf.byteLength })),
        );
      } catch (err) {
        // A retried conditional PUT whose first attempt succeeded but whose answer was lost sees
        // its own object: that is success, not a lost race.
        if (err instanceof PreconditionFailedError && opts.ifAbsent && attemptsOf(err.cause) > 1) {
          const stored = await this.get(key).catch(() => undefined);
          if (stored?.equals(buf)) return { key, size: buf.byteLength };
        }
        throw err;
      }
      return { key, size: buf.byteLength };
    }

    const upload = new Upload({
      client: this.#client,
      params: {
        ...params,
        Body:
          source === undefined
            ? toBuffer(body as Uint8Array)
            : Readable.from(source.chunks(), { objectMode: false }),
      },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });
    try {
      await this.#send('put', key, () => upload.done());
    } catch (err) {
      // The caller's stream failed: that error is theirs, not the store's. The upload was aborted.
      const failed = source?.error;
      if (failed !== undefined) throw failed.error;
      throw err;
    }
    if (source === undefined) return { key, size: (body as Uint8Array).byteLength };
    // Verify what S3 holds against what we read from the stream, so a short upload can never pass
    // for a whole one.
    const stored = await this.head(key);
    if (stored.size !== source.bytes) {
      throw new StorageError(
        'STORAGE_UNAVAILABLE',
        `upload of ${key} to ${this.#url} stored ${stored.size} bytes but the stream had ${source.bytes}; ` +
          'the object is incomplete, put it again',
        { store: this.#url, key },
      );
    }
    return { key, size: source.bytes };
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const stream = await this.getStream(key, range);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    const fullKey = this.#fullKey(key);
    validateByteRange(this.#url, key, range);
    const start = range?.start ?? 0;
    const end = range?.end;
    if (end !== undefined && end <= start) {
      await this.head(key); // still report a missing object
      return Readable.from([], { objectMode: false });
    }
    const first = await this.#openBody(key, fullKey, start, end, undefined);
    if (first === undefined) return Readable.from([], { objectMode: false });
    return Readable.from(this.#resumingBody(key, fullKey, start, end, first), { objectMode: false });
  }

  async head(key: string): Promise<ObjectInfo> {
    const fullKey = this.#fullKey(key);
    const out = await this.#send('head', key, () =>
      this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey })),
    );
    return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.head(key);
      return true;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return false;
      throw err;
    }
  }

  async *list(prefix: string, opts: ListOptions = {}): AsyncIterable<ObjectInfo> {
    validateKeyPrefix(this.#url, prefix);
    let token: string | undefined;
    do {
      const page = await this.#send('list', undefined, () =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.keyPrefix + prefix,
            MaxKeys: LIST_PAGE,
            ContinuationToken: token,
            // S3 uses StartAfter on the first page only; later pages follow the token.
            StartAfter:
              token === undefined && opts.startAfter !== undefined
                ? this.keyPrefix + opts.startAfter
                : undefined,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const fullKey = object.Key ?? '';
        const key = fullKey.slice(this.keyPrefix.length);
        try {
          validateObjectKey(this.#url, key);
        } catch {
          // Not one of ours (a console "folder" marker like "dir/", or "a//b"): skip it.
          this.#logger.debug('skipping an object whose key is not a valid object key', { key: fullKey });
          continue;
        }
        yield { key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(keys: readonly string[]): Promise<void> {
    const fullKeys = keys.map((key) => this.#fullKey(key));
    for (let i = 0; i < fullKeys.length; i += DELETE_BATCH) {
      const batch = fullKeys.slice(i, i + DELETE_BATCH);
      const firstKey = keys[i];
      const out = await this.#send('delete', firstKey, () =>
        this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      const errors = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      const bad = errors[0];
      if (bad !== undefined) {
        const key = (bad.Key ?? '').slice(this.keyPrefix.length);
        const err = Object.assign(new Error(bad.Message ?? bad.Code ?? 'delete failed'), {
          name: bad.Code ?? 'Unknown',
          $metadata: { httpStatusCode: bad.Code === 'AccessDenied' ? 403 : 500, attempts: 1 },
        });
        const mapped = await this.#mapError(err, 'delete', key, 0);
        throw new StorageError(
          mapped.code as StorageErrorCode,
          `${mapped.message} (${errors.length} of ${batch.length} keys in this batch were not deleted)`,
          { store: this.#url, key },
          { cause: err },
        );
      }
    }
  }

  /** `s3://bucket/prefix/key`, for messages. */
  #objectUrl(key: string): string {
    return `s3://${this.bucket}/${this.keyPrefix}${key}`;
  }

  #fullKey(key: string): string {
    validateObjectKey(this.#url, key);
    return this.keyPrefix + key;
  }

  /**
   * GetObject from `start` (to `end`, exclusive), pinned to `etag` when resuming. Undefined when
   * the range starts at or after the end of the object (S3 answers 416).
   */
  async #openBody(
    key: string,
    fullKey: string,
    start: number,
    end: number | undefined,
    etag: string | undefined,
  ): Promise<{ out: GetObjectCommandOutput; start: number } | undefined> {
    const rangeHeader =
      start > 0 || end !== undefined ? `bytes=${start}-${end === undefined ? '' : end - 1}` : undefined;
    try {
      const out = await this.#send('get', key, () =>
        this.#client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: fullKey, Range: rangeHeader, IfMatch: etag }),
        ),
      );
      return { out, start };
    } catch (err) {
      if (err instanceof StorageError && (err.cause as SdkErrorShape | undefined)?.name === 'InvalidRange') {
        return undefined;
      }
      throw err;
    }
  }

  async *#resumingBody(
    key: string,
    fullKey: string,
    start: number,
    end: number | undefined,
    first: { out: GetObjectCommandOutput; start: number },
  ): AsyncGenerator<Buffer> {
    const etag = first.out.ETag;
    let current: { out: GetObjectCommandOutput; start: number } | undefined = first;
    let offset = start;
    let attempt = 1;
    const t0 = Date.now();
    while (current !== undefined) {
      const expected = current.start + (current.out.ContentLength ?? Number.NaN);
      try {
        const body = current.out.Body as Readable | undefined;
        if (body === undefined) throw new Error('GetObject returned no body');
        for await (const chunk of body) {
          const buf = chunk as Buffer;
          offset += buf.byteLength;
          yield buf;
        }
        if (Number.isFinite(expected) && offset < expected) {
          throw Object.assign(new Error(`body ended at byte ${offset} of ${expected}`), {
            code: 'ECONNRESET',
          });
        }
        return;
      } catch (err) {
        if (err instanceof PitrError) throw err;
        if (isSdkChecksumMismatch(err)) {
          throw new ChecksumMismatchError(this.#objectUrl(key), undefined, err.message, { cause: err });
        }
        if (!isTransient(err) || attempt >= this.#maxAttempts) {
          throw this.#unavailable(
            'get',
            key,
            attempt,
            Date.now() - t0,
            err,
            `download broke at byte ${offset}`,
          );
        }
        attempt++;
        const delay = this.#retry.delayFor(attempt - 2, { errorType: 'TRANSIENT' });
        this.#logger.warn('S3 download broke, resuming', {
          store: this.#url,
          key,
          offset,
          attempt,
          error: err,
        });
        await sleep(delay);
        current = await this.#openBody(key, fullKey, offset, end, etag);
      }
    }
  }

  /** Runs one SDK call, mapping its failure to a StorageError. */
  async #send<T>(op: Operation, key: string | undefined, call: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      const out = await call();
      this.#bucketSeen = true;
      return out;
    } catch (err) {
      throw await this.#mapError(err, op, key, Date.now() - t0);
    }
  }

  async #region(): Promise<string> {
    try {
      return await this.#client.config.region();
    } catch {
      return '(unset)';
    }
  }

  /**
   * Whether the client's region can be resolved. The SDK offers no typed
   * error for this: its region provider throws plain Errors ("Region is missing" in @smithy/core
   * 3.41 dist-cjs/submodules/config/index.js lines 593 and 626, NODE_REGION_CONFIG_OPTIONS.default
   * and resolveRegionConfig; "Region not accepted" for an invalid name, checkRegion line 607). So
   * instead of matching those texts, ask the provider again: it memoizes a resolved region, so this
   * costs nothing when the region is fine.
   */
  async #regionResolves(): Promise<boolean> {
    try {
      await this.#client.config.region();
      return true;
    } catch {
      return false;
    }
  }

  async #mapError(
    err: unknown,
    op: Operation,
    key: string | undefined,
    elapsedMs: number,
  ): Promise<PitrError> {
    if (err instanceof PitrError) return err;
    const e = (err ?? {}) as SdkErrorShape;
    const name = e.name ?? '';
    const status = e.$metadata?.httpStatusCode;
    const where = { store: this.#url, key };
    const target = key === undefined ? this.#url : this.#objectUrl(key);
    const bucketMissing = async (): Promise<StorageError> =>
      new StorageError(
        'STORAGE_BUCKET_MISSING',
        `bucket ${this.bucket} does not exist in region ${await this.#region()}; create it or fix --repo (${this.#url})`,
        where,
        { cause: err },
      );

    if (name === 'NoSuchBucket') return bucketMissing();
    if (
      name === 'NoSuchKey' ||
      ((name === 'NotFound' || status === 404) && (op === 'head' || op === 'get'))
    ) {
      // HEAD answers a bare 404 for a missing bucket too: tell the two apart once.
      if (!this.#bucketSeen && !(await this.#bucketExists())) return bucketMissing();
      return new ObjectNotFoundError(this.#url, key ?? '', { cause: err });
    }
    if (name === 'PreconditionFailed' || status === 412) {
      const detail =
        op === 'put'
          ? `object ${key} already exists`
          : `object ${key} was replaced while being read; read it again`;
      return new PreconditionFailedError(this.#url, key ?? '', detail, { cause: err });
    }
    if (name === 'ConditionalRequestConflict' || (status === 409 && op === 'put')) {
      return new PreconditionFailedError(
        this.#url,
        key ?? '',
        `another writer is creating object ${key} at the same time`,
        {
          cause: err,
        },
      );
    }
    if (ACCESS_DENIED_NAMES.has(name) || status === 403) {
      const resource =
        op === 'list' || op === 'check bucket'
          ? `arn:aws:s3:::${this.bucket}`
          : `arn:aws:s3:::${this.bucket}/${this.keyPrefix}${key ?? '*'}`;
      const hint =
        op === 'get' || op === 'head'
          ? ' (without s3:ListBucket, S3 also answers "access denied" for a missing object)'
          : '';
      const credentials =
        name === 'CredentialsProviderError'
          ? 'no AWS credentials were found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with an IAM role)'
          : `${name || `HTTP ${status}`}: ${e.message ?? ''}`;
      return new StorageError(
        'STORAGE_ACCESS_DENIED',
        `access denied to ${op} ${key ?? ''} in ${this.#url} (${credentials}). ` +
          `The credentials need IAM permission ${IAM_ACTION[op]} on ${resource}${hint}.`.replace('  ', ' '),
        where,
        { cause: err },
      );
    }
    if (e.$metadata === undefined && !(await this.#regionResolves())) {
      // The request never left: the SDK could not resolve the region (it throws a plain Error, see
      // #regionResolves), which no retry mends.
      return new StorageError(
        'CONFIG_INVALID',
        this.#regionOption === undefined
          ? `no AWS region configured for ${this.#url}; pass --region or set AWS_REGION`
          : `AWS region "${this.#regionOption}" is not a region name (${e.message ?? ''}); give --region such as eu-west-1 for ${this.#url}`,
        where,
        { cause: err },
      );
    }
    if (isSdkChecksumMismatch(err)) {
      return new ChecksumMismatchError(target, undefined, err.message, { cause: err });
    }
    if (DAMAGED_IN_TRANSIT_NAMES.has(name)) return this.#damagedInTransit(op, key, elapsedMs, err);
    if (isTransient(err)) {
      return this.#unavailable(op, key, attemptsOf(err), elapsedMs, err);
    }
    return new StorageError(
      'INTERNAL',
      `S3 rejected ${op} ${key ?? ''} in ${this.#url}: ${name || `HTTP ${status}`}: ${e.message ?? ''}`.replace(
        '  ',
        ' ',
      ),
      where,
      { cause: err },
    );
  }

  /** S3 refused a request body that did not match its checksum (BadDigest), on every attempt. */
  #damagedInTransit(op: Operation, key: string | undefined, elapsedMs: number, err: unknown): StorageError {
    const e = err as SdkErrorShape;
    return new StorageError(
      'STORAGE_UNAVAILABLE',
      `${this.#failedAfter(op, key, attemptsOf(err), elapsedMs)}: the bytes S3 received did not match the checksum sent with them ` +
        `(${e.name}: ${e.message ?? ''}), so they were damaged on the way and S3 stored nothing. Check the network ` +
        `path to ${this.#endpointName()} (proxies, network cards) and this host's memory, then retry; the operation is safe to repeat.`,
      { store: this.#url, key },
      { cause: err },
    );
  }

  /** `S3 put of KEY in URL failed after N attempts over T s`: the head of both exhausted-retry errors. */
  #failedAfter(op: Operation, key: string | undefined, attempts: number, elapsedMs: number): string {
    return (
      `S3 ${op}${key === undefined ? '' : ` of ${key}`} in ${this.#url} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} ` +
      `over ${(elapsedMs / 1000).toFixed(1)} s`
    );
  }

  /** `S3`, or `the endpoint URL` (credentials redacted) for a custom endpoint. */
  #endpointName(): string {
    return this.#endpoint === undefined ? 'S3' : `the endpoint ${redactUrl(this.#endpoint)}`;
  }

  #unavailable(
    op: Operation,
    key: string | undefined,
    attempts: number,
    elapsedMs: number,
    err: unknown,
    detail?: string,
  ): StorageError {
    const e = (err ?? {}) as SdkErrorShape;
    const status = e.$metadata?.httpStatusCode;
    // A HEAD answer has no body, so the SDK knows only the status ("Unknown: UnknownError").
    const last =
      status !== undefined && (e.name === undefined || e.name === 'Unknown')
        ? `HTTP ${status} ${STATUS_CODES[status] ?? ''} (no error details in the response)`
        : `${e.name ?? 'Error'}${status === undefined ? '' : ` (HTTP ${status})`}: ${e.message ?? String(err)}`;
    return new StorageError(
      'STORAGE_UNAVAILABLE',
      `${this.#failedAfter(op, key, attempts, elapsedMs)}${detail === undefined ? '' : ` (${detail})`}; last error: ${last}. ` +
        `Check network access to ${this.#endpointName()} and the service's health, then retry; the operation is safe to repeat.`,
      { store: this.#url, key },
      { cause: err },
    );
  }

  async #bucketExists(): Promise<boolean> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      this.#bucketSeen = true;
      return true;
    } catch (err) {
      const e = err as SdkErrorShape;
      if (e.name === 'NotFound' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404)
        return false;
      return true; // 403 and others: cannot tell, assume it exists and report the object missing
    }
  }
}

/**
 * Whether `err` is the SDK's response checksum failure (x-amz-checksum-* against the body). Only a
 * message match is possible: the SDK throws a plain `Error` with no name, code or `$metadata`, from
 * `ChecksumStream.onSourceEnd` for streamed bodies (@smithy/core 3.41
 * dist-cjs/submodules/serde/index.js line 1044, `createChecksumStream` for web streams line 1150)
 * and from `validateChecksumFromResponse` for buffered ones (@aws-sdk/checksums 3.1002
 * dist-cjs/submodules/flexible-checksums/index.js line 361). All three say
 * `Checksum mismatch: expected "..." but received "..." in response header "x-amz-checksum-...".`
 */
function isSdkChecksumMismatch(err: unknown): err is Error {
  return (
    err instanceof Error &&
    err.name === 'Error' &&
    (err as SdkErrorShape).$metadata === undefined &&
    err.message.startsWith('Checksum mismatch: expected ')
  );
}

function attemptsOf(err: unknown): number {
  return (err as SdkErrorShape | undefined)?.$metadata?.attempts ?? 1;
}

/** Whether retrying later could help: no answer at all, 5xx, 429 or a throttling code, or a broken connection. */
function isTransient(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429 || THROTTLING_NAMES.has(e.name ?? '');
  if (e.name === 'AbortError') return false;
  return true; // no HTTP answer: connection refused, reset, timed out, DNS
}
