import { Argon2Gate } from './auth/passwordHasher.ts';
import { realClock, type Clock } from './clock.ts';
import { compose, logService } from './compose.ts';
import type { Config } from './config/schema.ts';
import { gatewayBus } from './core/events.ts';
import { Lifecycle } from './core/lifecycle.ts';
import type { Advertiser } from './lan/service.ts';
import { createLogger, type Logger } from './log.ts';
import type { RunningGateway } from './runningGateway.ts';
import { Store } from './store/store.ts';

export type { RunningGateway } from './runningGateway.ts';

export interface GatewayDeps {
  readonly config: Readonly<Config>;
  readonly logger?: Logger;
  /** Time for rules, drivers and event stamps; tests and demos may run it faster. */
  readonly clock?: Clock;
  /** mDNS advertiser (when `lan.mdns` is on); tests inject a fake. */
  readonly advertiser?: () => Promise<Advertiser>;
  /** the config file the config came from (backups carry a copy) */
  readonly configFile?: string | undefined;
}

/**
 * A gateway's lifecycle: `start()` opens the store, composes the parts (compose.ts) and starts its
 * services in their declared order; `stop()` stops them in the reverse order. The constructor only
 * assigns. Both are idempotent; a start that fails releases exactly what it had started.
 */
export class Gateway {
  readonly #config: Readonly<Config>;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #advertiser: (() => Promise<Advertiser>) | undefined;
  readonly #configFile: string | undefined;
  #running: RunningGateway | undefined;
  #lifecycle: Lifecycle | undefined;
  #starting: Promise<RunningGateway> | undefined;
  #stopping: Promise<void> | undefined;

  constructor(deps: GatewayDeps) {
    this.#config = deps.config;
    this.#log = deps.logger ?? createLogger(deps.config.log.level);
    this.#clock = deps.clock ?? realClock;
    this.#advertiser = deps.advertiser;
    this.#configFile = deps.configFile;
  }

  get running(): RunningGateway | undefined {
    return this.#running;
  }

  start(): Promise<RunningGateway> {
    if (this.#running) return Promise.resolve(this.#running);
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<RunningGateway> {
    await this.#stopping;
    const config = this.#config;
    const log = this.#log;
    const lifecycle = new Lifecycle(log);
    const bus = gatewayBus(({ owner, event, err }) => log.error({ err, owner, event }, `a listener of "${event}" failed`));
    // One argon2 computation at a time for devices and people together (see Argon2Gate).
    const argon2 = new Argon2Gate();
    const store = new Store({ config, bus, clock: this.#clock, log, argon2 });
    try {
      await lifecycle.start([logService(bus, log), store]);
      const composition = compose({ config, log, clock: this.#clock, bus, store, argon2, advertiser: this.#advertiser, configFile: this.#configFile });
      await lifecycle.start(composition.services);
      this.#lifecycle = lifecycle;
      this.#running = composition.running();
      return this.#running;
    } catch (err) {
      await lifecycle.stop();
      throw err;
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    const lifecycle = this.#lifecycle;
    this.#running = undefined;
    this.#lifecycle = undefined;
    await lifecycle?.stop();
  }
}
