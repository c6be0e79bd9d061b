import { createHash } from 'node:crypto';
import type { SegmentHeader } from '../../src/catalog/index.js';

/**
 * A segment header for `bytes` at `start` of `file` on timeline 000001 (no transactions), with its
 * true SHA-256 unless `more` overrides it.
 */
export function segmentHeaderFor(
  file: string,
  start: number,
  bytes: Buffer,
  more: Partial<SegmentHeader> = {},
): SegmentHeader {
  return {
    format: 1,
    timeline: '000001',
    file,
    start,
    end: start + bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    firstCommit: null,
    lastCommit: null,
    gtids: {},
    gtidSet: '',
    transactions: 0,
    events: 1,
    splitTransaction: false,
    closesFile: false,
    ...more,
  };
}
