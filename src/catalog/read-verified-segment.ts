import { createHash } from 'node:crypto';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { createZstdDecompressStream } from '../codec/index.js';
import { ChecksumMismatchError } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import { readSegmentHeader } from './binlog-catalog.js';
import type { SegmentHeader } from './segment-header.js';

/** Options of verifySegmentBody and readVerifiedSegment. */
export interface VerifySegmentOptions {
  /** Where the verified binlog bytes go (default: nowhere, only verified). */
  into?: Writable;
  /** End `into` when the body is done (default true; false to append several segments to one sink). */
  end?: boolean;
  /** What the operator should do, added to the mismatch message (default: a general advice; '' for none). */
  advice?: string;
}

/** A segment read and verified: its header and the binlog bytes its body decompressed to. */
export interface VerifiedSegmentRead {
  header: SegmentHeader;
  /** Bytes of the header frame before the zstd body. */
  frameLength: number;
  /** Binlog bytes of the body (equal to `header.end - header.start`). */
  bytes: number;
}

/** What to do about a damaged segment, unless the caller knows better. */
const DEFAULT_ADVICE =
  'The archive is damaged here: run `mysql-pitr verify`, restore the object from a copy, or re-archive the file ' +
  'from the source if it still has it';

/** Counts and hashes what flows through. */
class Digest extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/**
 * The one rule for a segment's body: its zstd bytes decompress to exactly `header.end -
 * header.start` bytes whose SHA-256 is `header.sha256`. Streams `body` (the stored bytes after the
 * header frame) through zstd and SHA-256 into `opts.into`; memory stays at a few stream buffers.
 *
 * Bytes reach `into` before the digest is known: a caller that must not hand on unverified bytes
 * writes into something it can drop (a buffer, a `.partial` file) and uses it only once this
 * resolves.
 *
 * @returns the number of binlog bytes
 * @throws ChecksumMismatchError (CHECKSUM_MISMATCH) naming `key` when length or SHA-256 differ
 * @throws CorruptDataError / TRUNCATED_DATA from zstd for a damaged frame; what `body` or `into` throw
 */
export async function verifySegmentBody(
  body: Readable | AsyncIterable<Buffer>,
  header: SegmentHeader,
  key: string,
  opts: VerifySegmentOptions = {},
): Promise<number> {
  const digest = new Digest();
  const into =
    opts.into ??
    new Writable({
      write(_chunk: Buffer, _enc, done): void {
        done();
      },
    });
  await pipeline(body, createZstdDecompressStream({ object: key }), digest, into, { end: opts.end ?? true });
  const sha = digest.hash.digest('hex');
  if (digest.bytes !== header.end - header.start || sha !== header.sha256) {
    throw new ChecksumMismatchError(
      key,
      header.start,
      `segment ${header.file} @ ${header.start}-${header.end} decompressed to ${digest.bytes} bytes with SHA-256 ` +
        `${sha}; its header records ${header.end - header.start} bytes and ${header.sha256}` +
        (opts.advice === '' ? '' : `. ${opts.advice ?? DEFAULT_ADVICE}`),
    );
  }
  return digest.bytes;
}

/**
 * Reads segment `key` from `store`: its header, then (once `check` accepts the header) its body,
 * verified by verifySegmentBody into `opts.into`.
 *
 * @param check called with the header before the body is read; throws to refuse the object
 *   (a header that does not match its key, a gap)
 * @throws ObjectNotFoundError when the object is gone; CorruptDataError for a damaged header;
 *   ChecksumMismatchError for a damaged body; what `check` throws; StorageError
 */
export async function readVerifiedSegment(
  store: ObjectStore,
  key: string,
  opts: VerifySegmentOptions & { check?: (header: SegmentHeader) => void } = {},
): Promise<VerifiedSegmentRead> {
  const { header, frameLength } = await readSegmentHeader(store, key);
  opts.check?.(header);
  const bytes = await verifySegmentBody(
    await store.getStream(key, { start: frameLength }),
    header,
    key,
    opts,
  );
  return { header, frameLength, bytes };
}
