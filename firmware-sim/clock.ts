/**
 * Simulated time for device firmware. At `speed` 60 a device that reports every simulated minute
 * reports every real second, and its physics (a fridge warming with the door open, cups brewed) advance
 * by simulated time, so a day of behaviour can be replayed in minutes.
 */
export interface SimClock {
  readonly speed: number;
  /** Simulated milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` every `simMs` of simulated time; returns a cancel function. */
  every(simMs: number, fn: () => void): () => void;
}

export function createClock(speed = 1, start = Date.now()): SimClock {
  if (!(speed > 0)) throw new Error(`clock speed must be positive, got ${speed}`);
  const realStart = Date.now();
  return {
    speed,
    now: () => start + (Date.now() - realStart) * speed,
    every(simMs, fn) {
      const timer = setInterval(fn, Math.max(1, simMs / speed));
      return () => clearInterval(timer);
    },
  };
}

/** A small seeded PRNG (mulberry32), so simulated devices are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
