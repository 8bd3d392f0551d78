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
