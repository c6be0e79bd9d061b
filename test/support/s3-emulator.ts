import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildApp } from 'fauxqs';

/** One request the emulator received, for tests that count round trips (pagination, batching). */
export interface RecordedRequest {
  method: string;
  /** Path and query string as sent (`/bucket/key?uploadId=...`). */
  url: string;
}

/** A running in-process S3 + SQS emulator (fauxqs) on 127.0.0.1. */
export interface S3Emulator {
  /** S3 endpoint (`http://127.0.0.1:PORT`); use path-style addressing. */
  readonly endpoint: string;
  /** SQS endpoint: the same server answers both protocols. */
  readonly sqsEndpoint: string;
  readonly region: string;
  /** Dummy static credentials the emulator accepts (it does not check signatures). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** A bucket created at start. */
  readonly bucket: string;
  /** Body bytes of every PUT request received (objects and parts), for read-ahead bounds. */
  readonly bytesReceived: number;
  /** Every request received since start or the last `clearRequests()`. */
  readonly requests: readonly RecordedRequest[];
  clearRequests(): void;
  /** Creates another bucket (no-op when it exists). */
  createBucket(name: string): Promise<void>;
  /** Creates an SQS queue and returns its URL. */
  createQueue(name: string, attributes?: Record<string, string>): Promise<string>;
  /** Closes the server and every open connection. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startS3Emulator}. */
export interface S3EmulatorOptions {
  bucket?: string;
  region?: string;
}

/** The part of fauxqs's S3Store the fidelity patches below use. */
interface FauxS3Object {
  key: string;
}
interface FauxS3Store {
  getObject(bucket: string, key: string): FauxS3Object;
  listObjects(
    bucket: string,
    options?: { prefix?: string; delimiter?: string; maxKeys?: number; startAfter?: string; marker?: string },
  ): { objects: FauxS3Object[]; commonPrefixes: string[]; isTruncated: boolean };
}
type FauxS3StoreClass = new () => FauxS3Store;

/** S3 takes at most this many keys in one DeleteObjects request. */
const DELETE_OBJECTS_MAX = 1000;

function s3ErrorXml(code: string, message: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
    `<RequestId>emulator</RequestId></Error>`
  );
}

/** Which checksum header of a PUT the body does not match ('Content-MD5', 'CRC32'), or undefined. */
function bodyMismatch(body: Buffer, headers: FastifyRequest['headers']): string | undefined {
  const md5 = headers['content-md5'];
  if (typeof md5 === 'string' && createHash('md5').update(body).digest('base64') !== md5)
    return 'Content-MD5';
  const crc = headers['x-amz-checksum-crc32'];
  if (typeof crc === 'string') {
    const want = Buffer.alloc(4);
    want.writeUInt32BE(crc32(body) >>> 0);
    if (want.toString('base64') !== crc) return 'CRC32';
  }
  return undefined;
}

/**
 * Loads fauxqs's S3Store class. The package exports only `buildApp`/`startFauxqs`, and
 * `startFauxqs` always listens on 0.0.0.0; tests must stay on loopback, so we build the app
 * ourselves and pass our own (patched) store.
 */
async function loadS3StoreClass(): Promise<FauxS3StoreClass> {
  const main = import.meta.resolve('fauxqs');
  const mod = (await import(new URL('./s3/s3Store.js', main).href)) as { S3Store: FauxS3StoreClass };
  return mod.S3Store;
}

/**
 * fauxqs 1.9 sorts listings with `localeCompare`; S3 lists keys in the byte order of their UTF-8
 * encoding ("B" < "a", "a-b" < "a/b" < "a0"). Our stores promise byte order, so the emulator must
 * list like S3 or the contract tests would test the emulator's quirk.
 */
function byteOrderStore(Base: FauxS3StoreClass): FauxS3StoreClass {
  const compare = (a: string, b: string): number =>
    Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return class ByteOrderS3Store extends Base {
    override listObjects(
      bucket: string,
      options: {
        prefix?: string;
        delimiter?: string;
        maxKeys?: number;
        startAfter?: string;
        marker?: string;
      } = {},
    ): { objects: FauxS3Object[]; commonPrefixes: string[]; isTruncated: boolean } {
      if (options.delimiter) return super.listObjects(bucket, options);
      const all = super.listObjects(bucket, {
        prefix: options.prefix ?? '',
        maxKeys: Number.POSITIVE_INFINITY,
      }).objects;
      const after = options.startAfter || options.marker || '';
      const sorted = all
        .filter((o) => after === '' || compare(o.key, after) > 0)
        .sort((a, b) => compare(a.key, b.key));
      const maxKeys = options.maxKeys ?? 1000;
      return { objects: sorted.slice(0, maxKeys), commonPrefixes: [], isTruncated: sorted.length > maxKeys };
    }
  };
}

/**
 * S3 behaviour fauxqs 1.9 lacks, added as hooks so the stores meet it here as they do on AWS:
 *
 * - Conditional writes: PutObject / CompleteMultipartUpload with `If-None-Match: *` answer
 *   412 PreconditionFailed when the key exists, and 409 ConditionalRequestConflict while another
 *   conditional write of the same key is in flight (AWS S3 since August 2024).
 * - DeleteObjects refuses more than 1,000 keys (400 MalformedXML), as S3 does.
 * - PutObject / UploadPart check the body against the `Content-MD5` and `x-amz-checksum-crc32`
 *   headers the client sent (the SDK sends the CRC32) and answer 400 BadDigest when it does not
 *   match, storing nothing, as S3 does for bytes damaged on the way.
 */
function addS3FidelityHooks(app: FastifyInstance, store: FauxS3Store): void {
  const inFlight = new Set<string>();
  const held = new WeakMap<FastifyRequest, string>();
  const fail = (reply: FastifyReply, status: number, code: string, message: string): FastifyReply =>
    reply.status(status).header('content-type', 'application/xml').send(s3ErrorXml(code, message));

  app.addHook('preHandler', async (request, reply) => {
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const query = (request.query ?? {}) as Record<string, string | undefined>;
    const bucket = params.bucket;
    const key = params['*'] ?? '';
    if (bucket === undefined) return;

    if (request.method === 'POST' && 'delete' in query) {
      const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : String(request.body ?? '');
      const count = body.match(/<Object>/g)?.length ?? 0;
      if (count > DELETE_OBJECTS_MAX) {
        return fail(
          reply,
          400,
          'MalformedXML',
          `The XML you provided was not well-formed or did not validate against our published schema (${count} keys > ${DELETE_OBJECTS_MAX})`,
        );
      }
      return;
    }

    if (request.method === 'PUT' && key !== '' && Buffer.isBuffer(request.body)) {
      const damaged = bodyMismatch(request.body, request.headers);
      if (damaged !== undefined) {
        return fail(
          reply,
          400,
          'BadDigest',
          `The ${damaged} you specified did not match the calculated checksum.`,
        );
      }
    }

    const isObjectWrite =
      key !== '' &&
      ((request.method === 'PUT' && query.partNumber === undefined) ||
        (request.method === 'POST' && query.uploadId !== undefined));
    if (!isObjectWrite || request.headers['if-none-match'] !== '*') return;
    const id = `${bucket}/${key}`;
    if (inFlight.has(id)) {
      return fail(
        reply,
        409,
        'ConditionalRequestConflict',
        'A conflicting conditional operation is currently in progress against this resource.',
      );
    }
    let exists = true;
    try {
      store.getObject(bucket, key);
    } catch {
      exists = false;
    }
    if (exists) {
      return fail(
        reply,
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
      );
    }
    inFlight.add(id);
    held.set(request, id);
  });
  const release = async (request: FastifyRequest): Promise<void> => {
    const id = held.get(request);
    if (id !== undefined) inFlight.delete(id);
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
}

/**
 * Starts fauxqs's S3 + SQS emulator in this process on a free port of 127.0.0.1 (in memory: objects
 * are gone after `stop()`), with one bucket created. Verified to store streamed multipart uploads
 * intact (s3rver did not).
 */
export async function startS3Emulator(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const region = options.region ?? 'us-east-1';
  const bucket = options.bucket ?? 'pitr-test';
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const S3Store = byteOrderStore(await loadS3StoreClass());
  const s3Store = new S3Store();
  const app = buildApp({
    logger: false,
    defaultRegion: region,
    stores: await makeStores(s3Store),
  });
  const requests: RecordedRequest[] = [];
  app.addHook('onRequest', async (request) => {
    requests.push({ method: request.method, url: request.url });
  });
  let bytesReceived = 0;
  app.addHook('preHandler', async (request) => {
    if (request.method === 'PUT' && Buffer.isBuffer(request.body)) bytesReceived += request.body.length;
  });
  addS3FidelityHooks(app, s3Store);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('emulator has no TCP address');
  const endpoint = `http://127.0.0.1:${address.port}`;

  const clientConfig = { endpoint, region, credentials, forcePathStyle: true };
  const createBucket = async (name: string): Promise<void> => {
    const s3 = new S3Client(clientConfig);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
    } catch (err) {
      if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err;
    } finally {
      s3.destroy();
    }
  };
  await createBucket(bucket);

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    sqsEndpoint: endpoint,
    region,
    credentials,
    bucket,
    requests,
    get bytesReceived() {
      return bytesReceived;
    },
    clearRequests: () => {
      requests.length = 0;
    },
    createBucket,
    async createQueue(name, attributes) {
      const sqs = new SQSClient({ endpoint, region, credentials });
      try {
        const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
        if (out.QueueUrl === undefined) throw new Error(`emulator returned no URL for queue ${name}`);
        return out.QueueUrl;
      } finally {
        sqs.destroy();
      }
    },
    stop() {
      stopped ??= app.close().then(() => undefined);
      return stopped;
    },
  };
}

/** fauxqs's `buildApp` takes either all three stores or none; build the SQS and SNS ones as it would. */
async function makeStores(s3Store: FauxS3Store): Promise<never> {
  const main = import.meta.resolve('fauxqs');
  const { SqsStore } = (await import(new URL('./sqs/sqsStore.js', main).href)) as {
    SqsStore: new () => unknown;
  };
  const { SnsStore } = (await import(new URL('./sns/snsStore.js', main).href)) as {
    SnsStore: new () => unknown;
  };
  return { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store } as never;
}
