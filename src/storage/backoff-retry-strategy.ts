import { silentLogger, type Logger } from '../log/index.js';

/**
 * How the AWS SDK (Smithy retry middleware) classifies a failed attempt. Declared here as the
 * narrow structural port we implement, so that this file needs no SDK import.
 */
export type RetryErrorType = 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';

/** What the SDK passes when an attempt failed (its `RetryErrorInfo`). */
export interface RetryErrorInfoLike {
  error?: unknown;
  errorType: RetryErrorType;
  /** From a Retry-After header, when the server sent one. */
  retryAfterHint?: Date;
}

/** The SDK's `RetryToken`: how many retries so far and how long to wait before the next one. */
export interface RetryTokenLike {
  getRetryCount(): number;
  getRetryDelay(): number;
}

/** Options of {@link BackoffRetryStrategy}. */
export interface BackoffRetryOptions {
  /** Attempts per request including the first (>= 1). */
  maxAttempts: number;
  /** Backoff base for 5xx and connection errors, in ms (default 100). */
  baseDelayMs?: number;
  /** Backoff base when the server throttles (503 SlowDown, 429), in ms (default 500). */
  throttlingBaseDelayMs?: number;
  /** Upper bound of one delay, in ms (default 20,000). */
  maxDelayMs?: number;
  logger?: Logger;
}

/**
 * Error codes Node or the SDK raise for a connection that broke under a request, which the SDK's
 * own classification leaves as CLIENT_ERROR. They say nothing about the request being wrong.
 */
const EXTRA_TRANSIENT_CODES = new Set([
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'EAI_AGAIN',
  'ENETDOWN',
]);

/**
 * S3 error codes (the SDK error's `name`, HTTP 400) meaning the bytes S3 received do not match the
 * checksum the SDK computed before sending them (`x-amz-checksum-*`, `Content-MD5`, the signed
 * payload hash): damaged on the way, and nothing was stored. Sending the same bytes again can work.
 */
export const DAMAGED_IN_TRANSIT_NAMES: ReadonlySet<string> = new Set([
  'BadDigest',
  'XAmzContentSHA256Mismatch',
]);

class BackoffToken implements RetryTokenLike {
  constructor(
    private readonly retries: number,
    private readonly delayMs: number,
  ) {}
  getRetryCount(): number {
    return this.retries;
  }
  getRetryDelay(): number {
    return this.delayMs;
  }
}

/**
 * An SDK `RetryStrategyV2`: retries throttling, 5xx, broken connections and request bodies damaged
 * on the way (BadDigest) up to `maxAttempts`
 * with capped exponential backoff and "equal jitter" (half fixed, half random, so a retry always
 * waits a little and many clients do not retry in step). Unlike the SDK's standard strategy it has
 * no shared retry quota, which would stop retrying altogether after a burst of failures across
 * many parallel requests (a multipart upload under a flaky network).
 *
 * The SDK never retries a request whose body is a stream; the stores send Buffers only.
 */
export class BackoffRetryStrategy {
  /** Reported to the SDK (user agent); the behaviour is ours. */
  readonly mode = 'standard';
  readonly maxAttempts: number;
  readonly #base: number;
  readonly #throttlingBase: number;
  readonly #max: number;
  readonly #logger: Logger;

  constructor(options: BackoffRetryOptions) {
    if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be an integer >= 1, got ${options.maxAttempts}`);
    }
    this.maxAttempts = options.maxAttempts;
    this.#base = options.baseDelayMs ?? 100;
    this.#throttlingBase = options.throttlingBaseDelayMs ?? 500;
    this.#max = options.maxDelayMs ?? 20_000;
    this.#logger = options.logger ?? silentLogger;
  }

  async acquireInitialRetryToken(_scope: string): Promise<RetryTokenLike> {
    return new BackoffToken(0, 0);
  }

  /** Rejects (and the SDK throws the attempt's error) when the error is final or attempts are spent. */
  async refreshRetryTokenForRetry(token: RetryTokenLike, info: RetryErrorInfoLike): Promise<RetryTokenLike> {
    const retries = token.getRetryCount();
    if (!isRetryable(info) || retries + 1 >= this.maxAttempts) {
      throw info.error instanceof Error ? info.error : new Error(`not retried: ${info.errorType}`);
    }
    const delay = this.delayFor(retries, info);
    this.#logger.debug('S3 request failed, retrying', {
      attempt: retries + 1,
      maxAttempts: this.maxAttempts,
      delayMs: delay,
      errorType: info.errorType,
      error: info.error,
    });
    return new BackoffToken(retries + 1, delay);
  }

  recordSuccess(_token: RetryTokenLike): void {}

  /** Delay before retry number `retries + 1`, in ms. */
  delayFor(retries: number, info: RetryErrorInfoLike): number {
    const base = info.errorType === 'THROTTLING' ? this.#throttlingBase : this.#base;
    const cap = Math.min(this.#max, base * 2 ** Math.min(retries, 30));
    let delay = cap / 2 + (Math.random() * cap) / 2;
    if (info.retryAfterHint) {
      delay = Math.max(delay, Math.min(this.#max, info.retryAfterHint.getTime() - Date.now()));
    }
    return Math.round(delay);
  }
}

function isRetryable(info: RetryErrorInfoLike): boolean {
  if (info.errorType !== 'CLIENT_ERROR') return true;
  if (DAMAGED_IN_TRANSIT_NAMES.has((info.error as { name?: unknown } | undefined)?.name as string))
    return true;
  let err: unknown = info.error;
  for (let depth = 0; depth < 5 && err instanceof Error; depth++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && EXTRA_TRANSIENT_CODES.has(code)) return true;
    err = err.cause;
  }
  return false;
}
