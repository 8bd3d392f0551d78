import { connect, type MqttClient } from 'mqtt';
import type { SimClock } from './clock.ts';

/**
 * The firmware side of a simulated device: its own MQTT client (MQTT.js), announcing itself with Home
 * Assistant discovery (encoded here from the convention, never with the gateway's code), publishing its
 * state and obeying commands. A kind supplies the behaviour as data plus a few functions.
 */

export interface Announcement {
  /** `homeassistant/<component>/<node>/<object>/config` */
  readonly topic: string;
  readonly config: Record<string, unknown>;
}

export interface Outgoing {
  readonly topic: string;
  readonly payload: string;
}

/** A device kind: how it looks on the wire and how it behaves. `S` is its internal state. */
export interface SimKind<S> {
  readonly kind: string;
  readonly model: string;
  /** Initial state for a device; `rand` is seeded per device. */
  init(rand: () => number): S;
  /** Discovery configs, given the node id (= the device's MQTT user name and topic prefix). */
  announce(node: string, name: string): Announcement[];
  /** Topic the device publishes its availability on (its last will says offline there). */
  availability(node: string): { topic: string; online: string; offline: string };
  /** Advances physics by `dtMs` of simulated time. */
  step(state: S, dtMs: number, rand: () => number): void;
  /** What the device publishes to report its state. */
  report(node: string, state: S): Outgoing[];
  /** Topic filters to subscribe for commands. */
  commandTopics(node: string): string[];
  /** Applies a command; returns true when the state changed (the device then reports at once). */
  command(node: string, state: S, topic: string, payload: string): boolean;
  /** A person acts on the device (presses a remote's button): what it sends, or undefined if it has no such action. */
  act?(node: string, state: S, action: string): Outgoing[] | undefined;
}

export interface SimDeviceOptions {
  readonly url: string;
  readonly node: string;
  readonly name: string;
  readonly password?: string | undefined;
  readonly clock: SimClock;
  /** Simulated ms between reports. */
  readonly reportMs: number;
  readonly seed: number;
  readonly qos?: 0 | 1;
}

export class SimDevice<S = unknown> {
  readonly node: string;
  readonly kind: SimKind<S>;
  readonly state: S;
  readonly #options: SimDeviceOptions;
  readonly #rand: () => number;
  #client: MqttClient | undefined;
  #cancelTick: (() => void) | undefined;
  #lastStep = 0;
  /** Commands this device obeyed (tests read it). */
  readonly received: Array<{ topic: string; payload: string }> = [];

  constructor(kind: SimKind<S>, options: SimDeviceOptions, rand: () => number) {
    this.kind = kind;
    this.node = options.node;
    this.#options = options;
    this.#rand = rand;
    this.state = kind.init(rand);
  }

  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  async start(): Promise<void> {
    if (this.#client) return;
    const o = this.#options;
    const avail = this.kind.availability(o.node);
    const client = connect(o.url, {
      clientId: `${o.node}-sim`,
      username: o.password === undefined ? undefined : o.node,
      password: o.password,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will: { topic: avail.topic, payload: Buffer.from(avail.offline), qos: 1, retain: true },
    });
    this.#client = client;
    client.on('connect', () => void this.#online());
    client.on('message', (topic, payload) => this.#onMessage(topic, payload.toString('utf8')));
    client.on('error', () => {}); // reconnects by itself; connection refusals surface via `connected`
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        client.off('connect', onConnect);
        reject(err);
      };
      const onConnect = () => {
        client.off('error', onError);
        resolve();
      };
      client.once('connect', onConnect);
      client.once('error', onError);
    });
    this.#lastStep = o.clock.now();
    this.#cancelTick = o.clock.every(o.reportMs, () => this.tick());
  }

  /** Advances physics to now and reports. */
  tick(): void {
    this.#advance();
    this.report();
  }

  #advance(): void {
    const now = this.#options.clock.now();
    this.kind.step(this.state, now - this.#lastStep, this.#rand);
    this.#lastStep = now;
  }

  report(): void {
    const client = this.#client;
    if (!client?.connected) return;
    for (const m of this.kind.report(this.node, this.state)) client.publish(m.topic, m.payload, { qos: this.#options.qos ?? 0 });
  }

  /** A person acts on the device (a remote's `double` press); sent at QoS 1. Throws for an action the kind does not have. */
  async act(action: string): Promise<void> {
    const out = this.kind.act?.(this.node, this.state, action);
    if (!out) throw new Error(`a ${this.kind.kind} has no action "${action}"`);
    const client = this.#client;
    if (!client?.connected) throw new Error(`${this.node} is not connected`);
    for (const m of out) await client.publishAsync(m.topic, m.payload, { qos: 1 });
  }

  async stop(): Promise<void> {
    this.#cancelTick?.();
    this.#cancelTick = undefined;
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.endAsync(true);
  }

  async #online(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    const avail = this.kind.availability(this.node);
    const subscriptions = [...this.kind.commandTopics(this.node), 'homeassistant/status'];
    await client.subscribeAsync(subscriptions, { qos: 1 }).catch(() => undefined);
    await this.#announce();
    await client.publishAsync(avail.topic, avail.online, { qos: 1, retain: true }).catch(() => undefined);
    this.report();
  }

  async #announce(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    for (const a of this.kind.announce(this.node, this.#options.name)) {
      await client.publishAsync(a.topic, JSON.stringify(a.config), { qos: 1, retain: true }).catch(() => undefined);
    }
  }

  #onMessage(topic: string, payload: string): void {
    if (topic === 'homeassistant/status') {
      if (payload === 'online') void this.#announce(); // HA birth: re-announce, as ESPHome/Tasmota/Z2M do
      return;
    }
    this.received.push({ topic, payload });
    // physics up to the moment the command arrives: a blind told to stop 0.1 s after "open" has moved
    // 0.1 s, not the whole time since the last report
    this.#advance();
    if (this.kind.command(this.node, this.state, topic, payload)) this.report();
  }
}
