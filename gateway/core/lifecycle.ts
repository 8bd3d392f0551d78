import type { Logger } from '../log.ts';

/** A long-lived part of the gateway: started once in dependency order, stopped in the reverse order. */
export interface Service {
  /** What the log and errors call it. */
  readonly name: string;
  start(): unknown;
  stop(): unknown;
}

/** A service from two functions, for a part whose own class has no start/stop of that shape. */
export function service(name: string, start: () => unknown, stop: () => unknown = () => undefined): Service {
  return { name, start, stop };
}

/**
 * Starts services in the order they are declared and stops them in the reverse order. A start that
 * fails stops that service (to release what it had opened) and then those that had started, newest
 * first, and rethrows; a stop that fails is
 * logged with the service's name and the others still stop. The order is declared once: the stop
 * order is derived from it.
 */
export class Lifecycle {
  readonly #log: Logger;
  readonly #started: Service[] = [];

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Starts each service in turn; `undefined` entries (parts switched off in the config) are skipped. */
  async start(services: ReadonlyArray<Service | undefined>): Promise<void> {
    for (const s of services) {
      if (!s) continue;
      try {
        await s.start();
      } catch (err) {
        // the failed service releases what it had opened (stops are idempotent), then the others
        await this.#stopOne(s);
        await this.stop();
        throw err;
      }
      this.#started.push(s);
    }
  }

  /** Stops what started, newest first. */
  async stop(): Promise<void> {
    for (let s = this.#started.pop(); s; s = this.#started.pop()) await this.#stopOne(s);
  }

  async #stopOne(s: Service): Promise<void> {
    try {
      await s.stop();
    } catch (err) {
      this.#log.error({ err, service: s.name }, 'stopping a service failed');
    }
  }

  /** The names of the services running, in start order. */
  get running(): string[] {
    return this.#started.map((s) => s.name);
  }
}
