import { connect, type MqttClient } from 'mqtt';
import { topics } from '../../protocol/index.ts';
import { manifestEntry, type SimulatedDevice } from './population.ts';
import { GatewayRecords, type Wire } from './records.ts';

export interface SimGatewayOptions {
  readonly url: string;
  readonly ca?: Buffer | undefined;
  readonly username: string;
  readonly password: string;
  readonly gatewayId: string;
  readonly provider: string;
  readonly devices: readonly SimulatedDevice[];
  /** records in flight at once (the real gateway's outbox window) */
  readonly window?: number;
  /** 5 (the default, with a day's session expiry) or 4 (MQTT 3.1.1: the fleet's embedded broker) */
  readonly protocolVersion?: 4 | 5;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

/**
 * A Trellis gateway as its provider sees it, at the protocol level: it connects with its last will,
 * publishes its retained birth and manifest, closes each device's hour into a usage bucket and its
 * maintenance signals (from the device models), sends health, answers commands and resend requests
 * (from the buckets it holds, under their own keys), and keeps everything in an outbox while it is
 * offline, sending the backlog in order when it is back. The clock is the caller's: `closeHour(t)`
 * can be called as fast as a test wants, and `tick(now)` (what `runFleet` calls on a clock that may
 * run faster than real time) sends health each minute and closes each hour as `now` passes them.
 */
export class SimGateway {
  readonly records: GatewayRecords;
  /** every usage bucket this gateway closed, by device and hour start: what the fleet must end up with */
  readonly held = new Map<string, Map<number, Wire>>();
  readonly #o: SimGatewayOptions;
  readonly #outbox: Wire[] = [];
  #client: MqttClient | undefined;
  #flushing = false;
  /** sent and not yet acknowledged */
  readonly #pending = new Set<Wire>();
  /** ends the current flush's waits (the connection is gone) */
  #cut: (() => void) | undefined;
  /** the last minute `tick` reached */
  #minute: number | undefined;

  constructor(options: SimGatewayOptions) {
    this.#o = options;
    this.records = new GatewayRecords(options.gatewayId, options.provider);
  }

  async online(at: number): Promise<void> {
    if (this.#client) return;
    const o = this.#o;
    const will = this.records.status('offline');
    const client = connect(o.url, {
      protocolVersion: o.protocolVersion ?? 5,
      clientId: o.gatewayId,
      username: o.username,
      password: o.password,
      ca: o.ca,
      clean: false,
      ...((o.protocolVersion ?? 5) === 5 ? { properties: { sessionExpiryInterval: 86_400 } } : {}),
      reconnectPeriod: 200,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: 1, retain: true },
    });
    this.#client = client;
    client.on('error', () => undefined);
    client.on('message', (topic, payload) => this.#request(topic, payload.toString()));
    client.on('connect', () => {
      const birth = this.records.status('online', at);
      const manifest = this.records.manifest(at, o.devices.map(manifestEntry));
      for (const w of [birth, manifest]) client.publish(w.topic, w.payload, { qos: 1, retain: true });
      client.subscribe([`trellis/v1/${o.gatewayId}/p/${o.provider}/cmd/+`, `trellis/v1/${o.gatewayId}/p/${o.provider}/resend/+`], { qos: 1 });
      void this.#flush();
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  }

  /** The connection is cut (its last will goes out); what it closes meanwhile waits in the outbox. */
  async offline(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    // what was in flight may never be acknowledged now: back to the front of the outbox, sent again
    // under the same keys when online (the fleet stores each key once), and the flush stops waiting
    this.#outbox.unshift(...this.#pending);
    this.#pending.clear();
    this.#cut?.();
    client.stream?.destroy();
    await client.endAsync(true);
  }

  /** Every device's hour starting at `start`, closed and queued (sent now, or when back online). */
  closeHour(start: number): void {
    for (const d of this.#o.devices) {
      const wire = this.records.hour(d.deviceRef, d.model.hour(start), start + HOUR);
      let byHour = this.held.get(d.deviceRef);
      if (!byHour) this.held.set(d.deviceRef, (byHour = new Map()));
      byHour.set(start, wire[0] as Wire);
      this.#outbox.push(...wire);
    }
    this.#outbox.push(this.records.health(start + HOUR, this.#outbox.length, this.#o.devices.length));
    void this.#flush();
  }

  /**
   * The simulated clock has reached `now`: health for each minute passed since the last tick (the
   * hour's last minute's comes with the hour), and every hour passed closed. The first tick starts the count.
   */
  tick(now: number): void {
    const minute = Math.floor(now / MINUTE) * MINUTE;
    if (this.#minute === undefined) {
      this.#minute = minute;
      return;
    }
    for (let m = this.#minute + MINUTE; m <= minute; m += MINUTE) {
      if (m % HOUR === 0) this.closeHour(m - HOUR);
      else this.#outbox.push(this.records.health(m, this.#outbox.length, this.#o.devices.length));
    }
    this.#minute = Math.max(this.#minute, minute);
    void this.#flush();
  }

  /** What waits to be sent (offline, or not yet acknowledged). */
  get outboxDepth(): number {
    return this.#outbox.length;
  }

  async #flush(): Promise<void> {
    const client = this.#client;
    if (this.#flushing || !client) return;
    this.#flushing = true;
    const cut = new Promise<void>((resolve) => (this.#cut = resolve));
    try {
      const window = this.#o.window ?? 100;
      while (this.#outbox.length > 0 && this.#client === client && client.connected) {
        const w = this.#outbox.shift() as Wire;
        this.#pending.add(w);
        const sent = client.publishAsync(w.topic, w.payload, { qos: 1 }).then(
          () => void this.#pending.delete(w),
          () => {
            // not acknowledged: sent again, under the same key (unless offline() took it back already)
            if (this.#pending.delete(w)) this.#outbox.unshift(w);
          },
        );
        if (this.#pending.size >= window) await Promise.race([sent, cut]);
      }
      while (this.#pending.size > 0 && this.#client === client) await Promise.race([new Promise((r) => setTimeout(r, 20)), cut]);
    } finally {
      this.#flushing = false;
    }
    if (this.#outbox.length > 0 && this.#client?.connected) setTimeout(() => void this.#flush(), 50);
  }

  #request(topic: string, text: string): void {
    const t = topics(this.#o.gatewayId);
    const [kind, requestId] = topic.split('/').slice(-2) as [string, string];
    let body: { deviceId?: string; from?: number; to?: number } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return;
    }
    const at = Date.now();
    if (kind === 'cmd') {
      this.#outbox.push(
        this.records.record(t.commandResult(this.#o.provider, requestId), 'cmd-result', at, { requestId, provider: this.#o.provider, status: 'done', at }),
      );
    } else if (kind === 'resend' && body.deviceId !== undefined) {
      const byHour = this.held.get(body.deviceId) ?? new Map<number, Wire>();
      const wanted = [...byHour.entries()].filter(([start]) => start >= (body.from ?? 0) && start < (body.to ?? 0));
      this.#outbox.push(...wanted.map(([, w]) => w));
      const hours = Math.ceil(((body.to ?? 0) - (body.from ?? 0)) / HOUR);
      this.#outbox.push(
        this.records.record(t.resendResult(this.#o.provider, requestId), 'resend-result', at, {
          requestId,
          deviceId: body.deviceId,
          status: 'done',
          resent: wanted.length,
          missing: Math.max(0, hours - wanted.length),
          at,
        }),
      );
    }
    void this.#flush();
  }
}
