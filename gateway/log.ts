import { pino, type Logger } from 'pino';

export type { Logger };

/** The root logger. Components get children carrying `{component}` (and `{deviceId}`) as fields. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { app: 'trellis' } }, destination ?? process.stdout);
}

/**
 * Logs at most one line per key per interval, and says how many were suppressed, so a misbehaving
 * device cannot flood the log (or the SD card).
 */
export class RateLimitedLog {
  readonly #intervalMs: number;
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(intervalMs = 10_000) {
    this.#intervalMs = intervalMs;
  }

  /** Calls `write(suppressedSinceLast)` if the key has not written within the interval. */
  maybe(key: string, now: number, write: (suppressed: number) => void): void {
    const entry = this.#last.get(key);
    if (entry && now - entry.at < this.#intervalMs) {
      entry.suppressed++;
      return;
    }
    if (this.#last.size > 10_000) this.#last.clear();
    this.#last.set(key, { at: now, suppressed: 0 });
    write(entry?.suppressed ?? 0);
  }
}
