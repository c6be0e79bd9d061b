import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

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
 */
export class YoungGenerationSizer {
  #growing = false;

  constructor(
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly smallEventBytes = 1024,
  ) {
    setFlagsFromString('--semi-space-growth-factor=1');
  }

  /** Called every few thousand events with their average size (bytes). */
  update(bytesPerEvent: number): void {
    let grow = bytesPerEvent < this.smallEventBytes;
    if (grow) {
      const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      grow = newSpace !== undefined && newSpace.space_size < this.maxBytes;
    }
    if (grow === this.#growing) return;
    this.#growing = grow;
    setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  }
}
