import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The root logger. Components get children carrying `{component}` (and `{deviceId}`) as fields.
 * JSON lines, except `pretty` (or `auto` on a terminal): readable lines through pino-pretty, loaded
 * only then (in-process, no worker thread).
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, format: 'auto' | 'json' | 'pretty' = 'json'): Logger {
  const out = destination ?? process.stdout;
  const pretty = format === 'pretty' || (format === 'auto' && (out as NodeJS.WriteStream).isTTY === true);
  if (!pretty) return pino({ level, base: { app: 'trellis' } }, out);
  const prettyStream = createRequire(import.meta.url)('pino-pretty') as (o: Record<string, unknown>) => NodeJS.WritableStream;
  return pino(
    { level, base: { app: 'trellis' } },
    prettyStream({
      destination: out,
      colorize: (out as NodeJS.WriteStream).isTTY === true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,app',
      sync: true,
    }),
  );
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
