/**
 * A free list of equal-sized buffers, for output that lives a little while (a compressed segment
 * until it is stored) and is then dropped. Such buffers survive young-generation collections, so
 * without reuse they stay allocated until V8's next full collection, which it starts only after
 * tens of MiB of external memory piled up: reusing them keeps the process's memory near what is
 * really live.
 *
 * Only buffers this pool made are taken back (others are ignored), each at most once while free.
 * Give a buffer back only when nothing reads it any more.
 */
export class BufferPool {
  /** Size of every buffer. */
  readonly size: number;
  readonly #maxFree: number;
  readonly #free: Buffer[] = [];
  /** Backing stores this pool made. */
  readonly #ours = new WeakSet<ArrayBufferLike>();
  /** Backing stores currently in the free list. */
  readonly #isFree = new WeakSet<ArrayBufferLike>();

  /**
   * @param size bytes per buffer (over Node's 4 KiB slab size, so each buffer has its own backing store)
   * @param maxFree buffers kept in the free list at most; more are left to the garbage collector
   * @throws RangeError for a size below 8 KiB
   */
  constructor(size: number, maxFree: number) {
    if (!Number.isInteger(size) || size < 8192)
      throw new RangeError(`buffer pool size ${size} is below 8 KiB`);
    this.size = size;
    this.#maxFree = maxFree;
  }

  /** Buffers waiting in the free list. */
  get free(): number {
    return this.#free.length;
  }

  /** A buffer of `size` bytes, reused when one is free (its content is arbitrary). */
  take(): Buffer {
    const b = this.#free.pop();
    if (b) {
      this.#isFree.delete(b.buffer);
      return b;
    }
    const fresh = Buffer.allocUnsafeSlow(this.size);
    this.#ours.add(fresh.buffer);
    return fresh;
  }

  /** Takes back the buffers (or views of them) that this pool made; anything else is ignored. */
  give(buffers: Iterable<Uint8Array>): void {
    for (const view of buffers) {
      const store = view.buffer;
      if (!this.#ours.has(store) || this.#isFree.has(store)) continue;
      if (this.#free.length >= this.#maxFree) return;
      this.#isFree.add(store);
      this.#free.push(Buffer.from(store, 0, this.size));
    }
  }
}
