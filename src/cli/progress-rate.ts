/** One reading of a counter. */
interface Sample {
  /** Milliseconds (any clock, as long as it only moves forward). */
  t: number;
  value: number;
}

/** Readings closer together than this replace each other, so a fast counter keeps few samples. */
const MIN_SAMPLE_GAP_MS = 100;

/**
 * The rate of a growing counter as a moving average over the last `windowMs` (default 5 s), so an
 * ETA computed from it does not jump with every chunk. Pure: the caller passes the time.
 *
 * The rate is measured from the oldest reading in the window to `now`, not to the newest reading,
 * so a counter that stops growing shows a rate that falls towards 0 (and an ETA that grows).
 */
export class ProgressRate {
  private samples: Sample[] = [];

  constructor(private readonly windowMs = 5000) {}

  /** Records that the counter reads `value` at time `t`. */
  add(t: number, value: number): void {
    const s = this.samples;
    const last = s.at(-1);
    if (last && s.length >= 2 && t - s[s.length - 2]!.t < MIN_SAMPLE_GAP_MS) {
      last.t = t;
      last.value = value;
    } else {
      s.push({ t, value });
    }
    this.trim(t);
  }

  /**
   * Units per second over the window ending at `now`; undefined before any reading, or while the
   * oldest one is less than `minSpanMs` (default 250 ms) old, when a rate would be noise.
   */
  rate(now: number, minSpanMs = 250): number | undefined {
    this.trim(now);
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last) return undefined;
    const span = now - first.t;
    if (span < minSpanMs || span <= 0) return undefined;
    return ((last.value - first.value) * 1000) / span;
  }

  /** Drops readings older than the window, keeping the newest of them as the window's base. */
  private trim(now: number): void {
    const start = now - this.windowMs;
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1]!.t <= start) drop += 1;
    if (drop > 0) this.samples.splice(0, drop);
  }
}
