import { createClock, seededRandom, type SimClock } from './clock.ts';
import { kinds } from './kinds/index.ts';
import { SimDevice } from './simDevice.ts';

export interface FleetMember {
  readonly kind: string;
  /** Node id: the MQTT user name and topic prefix. */
  readonly node: string;
  readonly name: string;
  readonly password?: string | undefined;
}

export interface FleetOptions {
  readonly url: string;
  readonly devices: readonly FleetMember[];
  readonly clock?: SimClock;
  /** Simulated ms between reports of each device (default 10 s). */
  readonly reportMs?: number;
  readonly seed?: number;
  readonly qos?: 0 | 1;
  /** Devices connecting at once (default 50), so a large fleet does not stampede the broker. */
  readonly connectConcurrency?: number;
}

/** Starts N simulated devices against a broker; `stop()` disconnects them all. */
export class Fleet {
  readonly devices: SimDevice[] = [];
  readonly #options: FleetOptions;

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const o = this.#options;
    const clock = o.clock ?? createClock(1);
    const seed = o.seed ?? 1;
    for (const [i, m] of o.devices.entries()) {
      const kind = kinds[m.kind];
      if (!kind) throw new Error(`unknown simulated device kind "${m.kind}" (known: ${Object.keys(kinds).join(', ')})`);
      const rand = seededRandom(seed * 100_003 + i);
      this.devices.push(
        new SimDevice(kind, { url: o.url, node: m.node, name: m.name, password: m.password, clock, reportMs: o.reportMs ?? 10_000, seed, qos: o.qos }, rand),
      );
    }
    const queue = [...this.devices];
    const workers = Array.from({ length: Math.min(o.connectConcurrency ?? 50, queue.length) }, async () => {
      for (let d = queue.shift(); d; d = queue.shift()) await d.start();
    });
    await Promise.all(workers);
  }

  get(node: string): SimDevice | undefined {
    return this.devices.find((d) => d.node === node);
  }

  async stop(): Promise<void> {
    await Promise.all(this.devices.map((d) => d.stop()));
  }
}
