import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Sizes V8's young generation (new space: two semi-spaces) for the events being archived. By
 * default V8 grows it to 32 MiB during a catch-up and keeps it. That costs memory twice: the space
 * itself, and the socket reads it keeps alive, because a Buffer's memory is freed only when a GC
 * finds its (dead) JavaScript object: with large row events the archiver allocates few objects per
 * MiB received, so a large young generation is collected rarely while tens of MiB of spent socket
 * reads wait for it. Small OLTP events are the opposite: many objects per MiB, and a small young
 * generation means a GC every few thousand events (per GiB of OLTP binlogs, 1 MiB semi-spaces
 * cost about 1.4 s of GC, 4 MiB ones 0.7 s, V8's 16 MiB 0.4 s). So: frozen at its initial size
 * while the events are large, allowed to grow to `maxBytes` (8 MiB) while they are small.
 *
 * V8 reads `--semi-space-growth-factor` whenever it considers growing, so setting it at run time
 * works (`--max-semi-space-size` is read only when the heap is configured, before our code runs).
 * src/cli/heap-tuning.ts (the first module of the CLI) freezes the new space before the other
 * modules load (loading them grows it first).
 * bench/README.md (archive) has the figures.
 *
 * While the events are large, it also collects the young generation every `collectEveryBytes`
 * (2 MiB) of events received: large events allocate few JavaScript objects per MiB, so even a
 * frozen young generation fills only after tens of MiB of socket reads, all of them waiting in
 * memory for that collection. A minor GC (about 0.1 ms with the small new space) every 2 MiB
 * frees them: the peak RSS of the bulk catch-up fell by about 15 MiB, and its CPU time by 10-20 %
 * (fresh pages are no longer faulted in for every read). Small events fill the young generation
 * long before 2 MiB, so they are left to V8.
 */
export class YoungGenerationSizer {
  #growing = false;
  /** Large events (no update yet, or the last update's average at least `smallEventBytes`). */
  #large = true;
  #received = 0;
  #minorGc: ((options: { type: 'minor' }) => void) | undefined;

  /**
   * @param maxBytes the new space's size up to which it may grow while events are small
   * @param smallEventBytes below this average size (bytes) events are small
   * @param collectEveryBytes bytes of large events between two minor collections (0: never)
   * @param minorGc runs one minor collection; default V8's own `gc` (exposedGc)
   */
  constructor(
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly smallEventBytes = 1024,
    private readonly collectEveryBytes = 2 * 1024 * 1024,
    minorGc?: (options: { type: 'minor' }) => void,
  ) {
    setFlagsFromString('--semi-space-growth-factor=1');
    if (collectEveryBytes > 0) this.#minorGc = minorGc ?? exposedGc();
  }

  /** Called for every event received with its size (bytes). */
  received(bytes: number): void {
    if (!this.#large || this.#minorGc === undefined) return;
    this.#received += bytes;
    if (this.#received < this.collectEveryBytes) return;
    this.#received = 0;
    this.#minorGc({ type: 'minor' });
  }

  /** Called every few thousand events with their average size (bytes). */
  update(bytesPerEvent: number): void {
    this.#large = bytesPerEvent >= this.smallEventBytes;
    let grow = !this.#large;
    if (grow) {
      const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      grow = newSpace !== undefined && newSpace.space_size < this.maxBytes;
    }
    if (grow === this.#growing) return;
    this.#growing = grow;
    setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  }
}

/**
 * V8's `gc` function without `--expose-gc` on the command line: the flag set at run time installs
 * it in contexts created afterwards. Undefined if this V8 does not (then nothing is collected early).
 */
function exposedGc(): ((options: { type: 'minor' }) => void) | undefined {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  return typeof gc === 'function' ? (gc as (options: { type: 'minor' }) => void) : undefined;
}
