import type { ByteRange } from './object-store.js';
import { StorageError } from './storage-error.js';

/** Throws (code USAGE) unless `range` is absent or has non-negative safe-integer bounds. */
export function validateByteRange(store: string, key: string, range: ByteRange | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  const bad = (n: number): boolean => !Number.isSafeInteger(n) || n < 0;
  if (bad(start) || (end !== undefined && bad(end))) {
    throw new StorageError(
      'USAGE',
      `invalid byte range ${JSON.stringify(range)} for ${key} in ${store}: start and end must be non-negative integers`,
      { store, key },
    );
  }
}

/** `range` as [start, end) within [0, size]; empty (start === end) when it starts at or after the end. */
export function clampByteRange(range: ByteRange | undefined, size: number): [start: number, end: number] {
  if (range === undefined) return [0, size];
  const start = Math.min(range.start, size);
  const end = Math.min(range.end ?? size, size);
  return [start, Math.max(start, end)];
}
