import type { Clock } from '../../gateway/clock.ts';

/** A clock that moves only when the test says; timers fire as it passes their due time. */
export class ManualClock implements Clock {
  #now: number;
  #timers: Array<{ due: number; fn: () => void }> = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { due: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves to `to`, firing due timers in order. */
  advanceTo(to: number): void {
    for (;;) {
      const next = this.#timers.filter((t) => t.due <= to).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.due);
      next.fn();
    }
    this.#now = to;
  }
}
