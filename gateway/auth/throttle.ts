export interface ThrottleOptions {
  /** failures (of a source, or of a name) before attempts are slowed */
  readonly freeFailures: number;
  /** the first delay; it doubles with each further failure */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** failures of one source address after which its attempts are refused without checking */
  readonly refuseSourceAfter: number;
  /**
   * failures of one user name after which attempts for it are refused without checking, except from
   * an address it signed in from before (so an attacker cannot lock the real device or person out)
   */
  readonly refuseNameAfter: number;
  /** failures are forgotten this long after the last one */
  readonly windowMs: number;
  /** failures per minute from everyone together above which every attempt is slowed by maxDelayMs */
  readonly globalPerMinute: number;
  /** keys remembered at most (an attacker cycling through names or addresses cannot grow memory) */
  readonly maxKeys: number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  freeFailures: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  refuseSourceAfter: 30,
  refuseNameAfter: 100,
  windowMs: 15 * 60_000,
  globalPerMinute: 300,
  maxKeys: 10_000,
};

export type ThrottleVerdict = { readonly refuse: true; readonly retryAfterMs: number } | { readonly refuse: false; readonly delayMs: number };

interface Entry {
  failures: number;
  last: number;
}

/**
 * Failed sign-ins and MQTT CONNECTs, counted per source address and per user name: after a few
 * failures each attempt waits (doubling), after many it is refused without checking the password, for
 * a while after the last failure; above a global rate of failures everyone waits. Only failures count:
 * a fleet reconnecting at once from one address (a bridge, a NAT) is not held up, and a burst of wrong
 * passwords in parallel costs one check each (one at a time, through the argon2 gate) before the
 * source is refused. Refused attempts count nothing, so they do not prolong a refusal.
 */
export class AuthThrottle {
  readonly #o: ThrottleOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** `source \0 name` pairs that succeeded: the name's refusal does not apply to them */
  readonly #trusted = new Map<string, number>();
  readonly #recent: number[] = []; // failure times in the last minute, oldest first
  refused = 0;
  slowed = 0;

  constructor(options: Partial<ThrottleOptions> = {}, now: () => number = Date.now) {
    this.#o = { ...DEFAULT_THROTTLE, ...options };
    this.#now = now;
  }

  /** Call before checking credentials; if not refused, wait `delayMs`, check, then call `end`. */
  begin(source: string, name?: string): ThrottleVerdict {
    const now = this.#now();
    const bySource = this.#count(`ip:${source}`, now);
    const byName = name === undefined ? 0 : this.#count(`user:${name}`, now);
    const trusted = name !== undefined && this.#trusted.has(`${source}\0${name}`);
    if (bySource >= this.#o.refuseSourceAfter || (!trusted && byName >= this.#o.refuseNameAfter)) {
      this.refused++;
      return { refuse: true, retryAfterMs: this.#o.windowMs };
    }
    while (this.#recent.length > 0 && (this.#recent[0] as number) < now - 60_000) this.#recent.shift();
    const over = Math.max(bySource, trusted ? 0 : byName) - this.#o.freeFailures;
    let delayMs = over >= 0 ? Math.min(this.#o.baseDelayMs * 2 ** over, this.#o.maxDelayMs) : 0;
    if (this.#recent.length >= this.#o.globalPerMinute) delayMs = this.#o.maxDelayMs;
    if (delayMs > 0) this.slowed++;
    return { refuse: false, delayMs };
  }

  /**
   * One attempt under the throttle: refused outright, or (after its delay) `check`, whose defined
   * result counts as a success. Errors of `check` (a busy hasher) pass through, counted as failures.
   */
  async guard<T>(
    source: string,
    name: string | undefined,
    check: () => Promise<T | undefined>,
  ): Promise<{ refused: true; retryAfterMs: number } | { refused: false; result: T | undefined }> {
    const verdict = this.begin(source, name);
    if (verdict.refuse) return { refused: true, retryAfterMs: verdict.retryAfterMs };
    let result: T | undefined;
    try {
      await pause(verdict.delayMs);
      result = await check();
      return { refused: false, result };
    } finally {
      this.end(source, name, result !== undefined);
    }
  }

  end(source: string, name: string | undefined, ok: boolean): void {
    const now = this.#now();
    if (!ok) {
      for (const k of this.#keys(source, name)) this.#touch(k, now).failures++;
      this.#recent.push(now);
      if (this.#recent.length > this.#o.globalPerMinute * 2) this.#recent.shift();
      return;
    }
    if (name === undefined) return;
    this.#entries.delete(`user:${name}`); // the right password ends the name's count; the source's stays
    this.#trusted.delete(`${source}\0${name}`);
    this.#trusted.set(`${source}\0${name}`, now);
    if (this.#trusted.size > this.#o.maxKeys) this.#trusted.delete(this.#trusted.keys().next().value as string);
  }

  #keys(source: string, name: string | undefined): string[] {
    return name === undefined ? [`ip:${source}`] : [`ip:${source}`, `user:${name}`];
  }

  #count(k: string, now: number): number {
    return this.#entry(k, now)?.failures ?? 0;
  }

  #entry(k: string, now: number): Entry | undefined {
    const e = this.#entries.get(k);
    if (e && now - e.last > this.#o.windowMs) {
      this.#entries.delete(k);
      return undefined;
    }
    return e;
  }

  #touch(k: string, now: number): Entry {
    let e = this.#entry(k, now);
    if (!e) {
      if (this.#entries.size >= this.#o.maxKeys) this.#entries.delete(this.#entries.keys().next().value as string); // the oldest key
      e = { failures: 0, last: now };
      this.#entries.set(k, e);
    }
    e.last = now;
    return e;
  }
}

/** Waits `ms` (0: not at all). */
export const pause = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
