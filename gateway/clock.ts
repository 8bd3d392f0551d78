/**
 * The gateway's time. Rules timers, `for:` and delays run on it; tests and demos can run it faster
 * than real time. Nothing else in the gateway reads the wall clock for rule timing.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms` of this clock's time; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(t);
  },
};

/** A clock running `speed` times faster than real time from now on. */
export function scaledClock(speed: number, start = Date.now()): Clock {
  const realStart = Date.now();
  return {
    now: () => start + (Date.now() - realStart) * speed,
    setTimer(ms, fn) {
      const t = setTimeout(fn, Math.max(0, ms / speed));
      return () => clearTimeout(t);
    },
  };
}

/**
 * The demo's time: it starts `replayMs` in the past and runs `speed` times faster than real time
 * until it has caught up with the present, then runs in real time. So a demo shows hours of usage
 * buckets and maintenance signals within minutes, and never stamps anything in the future.
 */
export function catchUpClock(speed: number, replayMs: number, realStart = Date.now()): Clock {
  if (!(speed > 1)) throw new Error(`a catch-up clock's speed must be above 1, got ${speed}`);
  const start = realStart - replayMs;
  // the real time at which start + (r - realStart) * speed = r
  const meet = realStart + replayMs / (speed - 1);
  const at = (real: number) => (real >= meet ? real : start + (real - realStart) * speed);
  return {
    now: () => at(Date.now()),
    setTimer(ms, fn) {
      const target = at(Date.now()) + Math.max(0, ms);
      // before the meeting point this clock's ms pass `speed` times faster; after it, in real time
      const realAt = target <= meet ? realStart + (target - start) / speed : target;
      const t = setTimeout(fn, Math.max(0, realAt - Date.now()));
      return () => clearTimeout(t);
    },
  };
}
