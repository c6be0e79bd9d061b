import PQueue from 'p-queue';

/**
 * `fn` over `items` with at most `limit` calls in flight (at least one); results in input order.
 * The repository readers use it to fetch many small objects (segment headers, segments, manifests)
 * without opening one request per object at once. The first rejection rejects the whole call, and
 * no further call starts after it (those in flight finish; their results are dropped).
 *
 * A thin typed face over p-queue (the project's one bounded-concurrency library), so callers keep
 * one signature and do not each configure a queue.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const queue = new PQueue({ concurrency: Math.max(1, limit) });
  try {
    // throwOnTimeout: no timeout is set; it makes p-queue type each result as R (never void)
    return await queue.addAll(
      items.map((item) => () => fn(item)),
      { throwOnTimeout: true },
    );
  } finally {
    queue.clear();
  }
}
