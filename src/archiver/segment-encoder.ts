import { Readable } from 'node:stream';

import { encodeSegmentHeader, type SegmentHeader } from '../catalog/index.js';
import { createZstdCompressStream, DEFAULT_STREAM_LEVEL } from '../codec/index.js';

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
