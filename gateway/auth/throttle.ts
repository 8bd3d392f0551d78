export interface ThrottleOptions {
  /** failures of one key before its attempts are slowed */
  readonly freeFailures: number;
  /** the first delay; it doubles with each further failure */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** failures of one key after which its attempts are refused without checking */
  readonly refuseAfter: number;
  /** a key's failures are forgotten this long after its last one */
  readonly windowMs: number;
  /** failures per minute from everyone together above which every attempt is slowed by maxDelayMs */
  readonly globalPerMinute: number;
  /** keys remembered at most (an attacker cycling through names cannot grow memory) */
  readonly maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  freeFailures: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  refuseAfter: 30,
  windowMs: 15 * 60_000,
  globalPerMinute: 300,
  maxKeys: 10_000,
};

export type ThrottleVerdict = { readonly refuse: true; readonly retryAfterMs: number } | { readonly refuse: false; readonly delayMs: number };

interface Entry {
  failures: number;
  pending: number;
  last: number;
}

/**
 * Failed sign-ins and MQTT CONNECTs, counted per key (a source address, a user name): after a few
 * failures each attempt waits (doubling), after many it is refused without checking the password, for
 * a while after the last failure; above a global rate of failures everyone waits. Attempts still in
 * flight count as failures, so opening many connections at once gains nothing.
 */
export class AuthThrottle {
  readonly #o: ThrottleOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #recent: number[] = []; // times of failures in the last minute, oldest first
  refused = 0;
  slowed = 0;

  constructor(options: Partial<ThrottleOptions> = {}, now: () => number = Date.now) {
    this.#o = { ...DEFAULT_THROTTLE, ...options };
    this.#now = now;
  }

  /** Call before checking credentials; if not refused, wait `delayMs`, check, then call `end`. */
  begin(keys: readonly string[]): ThrottleVerdict {
    const now = this.#now();
    let worst = 0;
    for (const k of keys) {
      const e = this.#entry(k, now);
      worst = Math.max(worst, e ? e.failures + e.pending : 0);
    }
    if (worst >= this.#o.refuseAfter) {
      this.refused++;
      return { refuse: true, retryAfterMs: this.#o.windowMs };
    }
    for (const k of keys) this.#touch(k, now).pending++;
    while (this.#recent.length > 0 && (this.#recent[0] as number) < now - 60_000) this.#recent.shift();
    const over = worst - this.#o.freeFailures;
    let delayMs = over >= 0 ? Math.min(this.#o.baseDelayMs * 2 ** over, this.#o.maxDelayMs) : 0;
    if (this.#recent.length >= this.#o.globalPerMinute) delayMs = this.#o.maxDelayMs;
    if (delayMs > 0) this.slowed++;
    return { refuse: false, delayMs };
  }

  end(keys: readonly string[], ok: boolean, resetOnSuccess: readonly string[] = []): void {
    const now = this.#now();
    for (const k of keys) {
      const e = this.#touch(k, now);
      e.pending = Math.max(0, e.pending - 1);
      if (!ok) e.failures++;
    }
    if (!ok) {
      this.#recent.push(now);
      if (this.#recent.length > this.#o.globalPerMinute * 2) this.#recent.shift();
    } else for (const k of resetOnSuccess) this.#entries.delete(k);
  }

  #entry(k: string, now: number): Entry | undefined {
    const e = this.#entries.get(k);
    if (e && e.pending === 0 && now - e.last > this.#o.windowMs) {
      this.#entries.delete(k);
      return undefined;
    }
    return e;
  }

  #touch(k: string, now: number): Entry {
    let e = this.#entry(k, now);
    if (!e) {
      if (this.#entries.size >= this.#o.maxKeys) {
        const oldest = this.#entries.keys().next().value as string; // insertion order: least recently added
        this.#entries.delete(oldest);
      }
      e = { failures: 0, pending: 0, last: now };
      this.#entries.set(k, e);
    }
    e.last = now;
    return e;
  }
}

/** Waits `ms` (0: not at all). */
export const pause = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
