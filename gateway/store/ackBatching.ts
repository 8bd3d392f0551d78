/**
 * The wear guard of group commit. Every fsynced commit rewrites WAL pages (1.2 frames and ~5.4 KB as
 * /proc/<pid>/io counts it for 5 readings, 3.2 frames and ~7.4 KB for 40), so commits per second, not
 * readings, decide what an SD card wears. When acknowledged readings arrive fast, at least half of
 * `minBatch` within `maxWaitMs` (defaults: 50 within 25 ms, so from 1,000 readings/s), a commit waits
 * until `minBatch` of them are there or the oldest has waited `maxWaitMs`. Slower, each commit goes at
 * once: the batch could not fill in time, and waiting would cost latency for little.
 */
export interface AckBatchingOptions {
  /** readings per commit worth waiting for (1: never wait; the writer then keeps no AckBatching) */
  readonly minBatch: number;
  /** the longest a reading waits for others to share its commit */
  readonly maxWaitMs: number;
}

/** arrivals are counted over windows this long; the last full one gives the rate */
const WINDOW_MS = 100;

export class AckBatching {
  readonly #o: AckBatchingOptions;
  #windowStart = Number.NEGATIVE_INFINITY;
  #count = 0;
  /** acknowledged readings per ms over the last full window */
  #rate = 0;

  constructor(options: AckBatchingOptions) {
    this.#o = options;
  }

  /** A reading someone waits on arrived at `now` (performance.now()). */
  arrived(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed >= WINDOW_MS) {
      // a window with a long quiet spell after it counts as that much slower
      this.#rate = Number.isFinite(elapsed) ? this.#count / elapsed : 0;
      this.#windowStart = now;
      this.#count = 0;
    }
    this.#count++;
  }

  /** How long to hold a commit that `pending` readings wait on, the oldest since `oldestAt`; 0: commit now. */
  holdMs(now: number, pending: number, oldestAt: number): number {
    const { minBatch, maxWaitMs } = this.#o;
    if (pending >= minBatch || 2 * this.#rate * maxWaitMs < minBatch) return 0;
    return Math.max(0, maxWaitMs - (now - oldestAt));
  }

  /** whether `pending` readings are enough to commit a held batch at once */
  full(pending: number): boolean {
    return pending >= this.#o.minBatch;
  }
}
