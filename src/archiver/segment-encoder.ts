import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';

import { encodeSegmentHeader, type SegmentHeader } from '../catalog/index.js';
import {
  createZstdCompressStream,
  DEFAULT_STREAM_LEVEL,
  ZstdFrameEncoder,
  type BufferPool,
} from '../codec/index.js';
import type { SegmentBody } from './segment-builder.js';

/**
 * The stored form of a segment: the header as a zstd skippable frame, then one zstd frame (with
 * content checksum) of the bytes. `zstd -dc` of the result gives the bytes back; see
 * docs/archive-layout.md.
 *
 * @throws RangeError for a bad level or an oversized header
 */
export async function encodeSegment(
  header: SegmentHeader,
  chunks: readonly Buffer[],
  level: number = DEFAULT_STREAM_LEVEL,
): Promise<Buffer> {
  return Buffer.concat(await encodeSegmentParts(header, chunks, level));
}

/**
 * {@link encodeSegment} as the list of its parts (header frame, then the compressed blocks), so a
 * large segment can be uploaded without one more copy of it in memory.
 *
 * @throws RangeError for a bad level or an oversized header
 */
export async function encodeSegmentParts(
  header: SegmentHeader,
  chunks: readonly Buffer[],
  level: number = DEFAULT_STREAM_LEVEL,
): Promise<Buffer[]> {
  const out: Buffer[] = [encodeSegmentHeader(header)];
  const zstd = createZstdCompressStream({ level });
  const done = new Promise<void>((resolve, reject) => {
    zstd.on('data', (c: Buffer) => out.push(c));
    zstd.once('end', resolve);
    zstd.once('error', reject);
  });
  Readable.from(coalesce(chunks), { objectMode: false }).pipe(zstd);
  await done;
  return out;
}

/** Bytes handed to zstd per call: one call per small event costs more than the compression. */
const BLOCK = 1024 * 1024;

/** The chunks regrouped into blocks of about BLOCK bytes (large chunks pass as they are). */
function* coalesce(chunks: readonly Buffer[]): Generator<Buffer> {
  let group: Buffer[] = [];
  let size = 0;
  for (const c of chunks) {
    if (c.length >= BLOCK) {
      if (size > 0) yield Buffer.concat(group, size);
      group = [];
      size = 0;
      yield c;
      continue;
    }
    group.push(c);
    size += c.length;
    if (size >= BLOCK) {
      yield Buffer.concat(group, size);
      group = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(group, size);
}

/** Bytes gathered before one hash update and one compressor call: per-event native calls cost more. */
const STAGE_SIZE = 256 * 1024;

/**
 * Makes {@link SegmentBody} bodies that hash and compress a segment's bytes as they arrive, so a
 * segment in progress holds its compressed bytes only (plus one 256 KiB staging buffer), whatever
 * the size of its transactions. The bodies share one {@link ZstdFrameEncoder} (libzstd context and
 * worker thread): compression runs beside the stream instead of after the cut. The body's
 * `encoded` output is the data frame of the segment object; the uploader puts the header frame
 * before it. Only one body may be in use at a time (the builder's contract). With `opts.pool`, the
 * encoded parts are buffers of that pool: give them back once stored.
 *
 * @throws RangeError for a bad level
 */
export function segmentBodies(
  level: number = DEFAULT_STREAM_LEVEL,
  opts: { workers?: number; jobSize?: number | undefined; pool?: BufferPool } = {},
): () => SegmentBody {
  const encoder = new ZstdFrameEncoder({
    level,
    workers: opts.workers ?? 1,
    jobSize: opts.jobSize,
    ...(opts.pool ? { pool: opts.pool } : {}),
  });
  const stage = Buffer.allocUnsafe(STAGE_SIZE);
  return () => new EncodingSegmentBody(encoder, stage);
}

class EncodingSegmentBody implements SegmentBody {
  readonly #encoder: ZstdFrameEncoder;
  readonly #stage: Buffer;
  #staged = 0;
  #hash: Hash = createHash('sha256');

  constructor(encoder: ZstdFrameEncoder, stage: Buffer) {
    this.#encoder = encoder;
    this.#stage = stage;
    // a body is made only once the previous one finished or was discarded
    if (encoder.inFrame) encoder.discard();
  }

  write(chunk: Buffer): void {
    if (chunk.length >= STAGE_SIZE / 2) {
      this.#flushStage();
      this.#hash.update(chunk);
      this.#encoder.write(chunk);
      return;
    }
    if (this.#staged + chunk.length > STAGE_SIZE) this.#flushStage();
    this.#stage.set(chunk, this.#staged); // TypedArray.set: no per-call argument checks of Buffer.copy
    this.#staged += chunk.length;
  }

  finish(): { sha256: string; chunks: Buffer[]; encoded: Buffer[] } {
    this.#flushStage();
    const encoded = this.#encoder.end();
    return { sha256: this.#hash.digest('hex'), chunks: [], encoded };
  }

  discard(): void {
    this.#staged = 0;
    this.#encoder.discard();
  }

  #flushStage(): void {
    if (this.#staged === 0) return;
    const view = this.#stage.subarray(0, this.#staged);
    this.#hash.update(view);
    this.#encoder.write(view); // consumed (copied into libzstd) before it returns
    this.#staged = 0;
  }
}
