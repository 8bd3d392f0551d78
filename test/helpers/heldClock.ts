import type { Clock } from '../../gateway/clock.ts';

/**
 * A clock held at `start` until the test releases it, then running in real time. A test that needs
 * something to happen before an hour closes (a device's first reading, however slow the machine is
 * to start the device) holds the clock until it has, instead of racing a few seconds of margin.
 */
export class HeldClock implements Clock {
  readonly #start: number;
  #releasedAt: number | undefined;
  #held = new Set<{ ms: number; fn: () => void; cancel?: () => void }>();

  constructor(start: number) {
    this.#start = start;
  }

  now(): number {
    return this.#releasedAt === undefined ? this.#start : this.#start + (Date.now() - this.#releasedAt);
  }

  setTimer(ms: number, fn: () => void): () => void {
    if (this.#releasedAt !== undefined) {
      const t = setTimeout(fn, Math.max(0, ms));
      return () => clearTimeout(t);
    }
    const timer: { ms: number; fn: () => void; cancel?: () => void } = { ms, fn };
    this.#held.add(timer);
    return () => {
      this.#held.delete(timer);
      timer.cancel?.();
    };
  }

  /** Lets time run from here; the timers set while held are due their `ms` after this. */
  release(): void {
    if (this.#releasedAt !== undefined) return;
    this.#releasedAt = Date.now();
    for (const timer of this.#held) {
      const t = setTimeout(
        () => {
          this.#held.delete(timer);
          timer.fn();
        },
        Math.max(0, timer.ms),
      );
      timer.cancel = () => clearTimeout(t);
    }
  }
}
