import { readFileSync } from 'node:fs';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from '../log.ts';
import { PRIORITIES, type Outbox } from '../store/outbox.ts';
import { topics, type StatusPayload } from '../../protocol/index.ts';

export interface CloudLinkOptions {
  readonly url: string;
  readonly gatewayId: string;
  readonly clientId: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** PEM files: the CA that signed the broker's certificate; a client certificate and key */
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** 5, 4 (3.1.1), or auto: MQTT 5, falling back to 3.1.1 when the broker refuses it */
  readonly protocol: 'auto' | 5 | 4;
  readonly keepaliveS: number;
  /** records published and not yet acknowledged, at most */
  readonly window: number;
  readonly backoff: { readonly minMs: number; readonly maxMs: number };
  readonly version: string;
  readonly now: () => number;
  /** for tests: a fixed random source for the backoff jitter */
  readonly random?: () => number;
}

export interface CloudLinkStatus {
  readonly connected: boolean;
  readonly protocol: 5 | 4 | undefined;
  readonly connects: number;
  readonly attempts: number;
  readonly published: number;
  readonly acked: number;
  /** records the broker refused (PUBACK reason >= 0x80): dropped, they would never be accepted */
  readonly refused: number;
  readonly inFlight: number;
  readonly lastError: string | undefined;
  readonly nextAttemptInMs: number | undefined;
}

type MessageHandler = (topic: string, payload: Buffer) => void;

let mqttConnect: typeof import('mqtt').connect | undefined;
async function loadMqtt(): Promise<void> {
  mqttConnect ??= (await import('mqtt')).connect;
}

/**
 * The connection to the provider's cloud broker and the outbox drainer. One MQTT client per
 * connection attempt (a fresh client never replays another connection's state); reconnects with
 * exponential backoff and full jitter. While connected it keeps up to `window` records in flight, in
 * priority order and in sequence within a priority, and deletes each from the outbox on its PUBACK.
 * After a reconnect it starts again from the oldest unacknowledged record, so an outage can cause
 * resends (same key) but never a gap or a reordering within a priority.
 */
export class CloudLink {
  readonly #o: CloudLinkOptions;
  readonly #outbox: Outbox;
  readonly #log: Logger;
  readonly #onMessage: MessageHandler;
  readonly #topics: ReturnType<typeof topics>;
  #client: MqttClient | undefined;
  #generation = 0;
  #connected = false;
  #protocol: 5 | 4;
  #protocolConfirmed = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryAt: number | undefined;
  #stopped = true;
  #cursors: number[] = PRIORITIES.map(() => 0);
  #inFlight = 0;
  #acks: number[] = [];
  #ackFlush: NodeJS.Immediate | undefined;
  #filling = false;
  #stats = { connects: 0, attempts: 0, published: 0, acked: 0, refused: 0 };
  #lastError: string | undefined;

  readonly #onConnect: (() => void) | undefined;

  constructor(options: CloudLinkOptions, outbox: Outbox, log: Logger, onMessage: MessageHandler, onConnect?: () => void) {
    this.#o = options;
    this.#outbox = outbox;
    this.#log = log;
    this.#onMessage = onMessage;
    this.#onConnect = onConnect;
    this.#topics = topics(options.gatewayId);
    this.#protocol = options.protocol === 4 ? 4 : 5;
    outbox.onEnqueue = () => this.#fill();
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  /**
   * Publishes a retained message (a provider's manifest) now, outside the outbox: the latest one is
   * what counts, and it is published again on every connect. False when not connected.
   */
  async publishRetained(topic: string, payload: string): Promise<boolean> {
    const client = this.#client;
    if (!client || !this.#connected) return false;
    try {
      await client.publishAsync(topic, payload, { qos: 1, retain: true });
      return true;
    } catch {
      return false;
    }
  }

  /** Waits briefly for records in flight, publishes the offline status (when connected), then closes. Unacknowledged records stay queued. */
  async stop(): Promise<void> {
    this.#stopped = true; // no new records go out
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    // Let the records in flight be acknowledged (briefly), so a clean stop leaves nothing to resend.
    for (const deadline = Date.now() + 2000; this.#connected && this.#inFlight > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    this.#flushAcks();
    const client = this.#client;
    this.#client = undefined;
    this.#generation++;
    if (!client) return;
    if (this.#connected) {
      this.#connected = false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        client.publish(this.#topics.status, this.#status('offline'), { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    this.#flushAcks();
  }

  /** Connection state and drain counters (health and the diagnostics page read them). */
  status(): CloudLinkStatus {
    return {
      connected: this.#connected,
      protocol: this.#connected ? this.#protocol : undefined,
      ...this.#stats,
      inFlight: this.#inFlight,
      lastError: this.#lastError,
      nextAttemptInMs: this.#retryAt === undefined ? undefined : Math.max(0, this.#retryAt - Date.now()),
    };
  }

  #status(state: 'online' | 'offline'): string {
    const payload: StatusPayload = {
      v: 1,
      gatewayId: this.#o.gatewayId,
      state,
      ...(state === 'online' ? { at: this.#o.now(), version: this.#o.version } : {}),
    };
    return JSON.stringify(payload);
  }

  #connect(): void {
    if (this.#stopped) return;
    if (!mqttConnect) {
      // MQTT.js is loaded with the first connection, not with the gateway: off the path to serving devices
      loadMqtt().then(
        () => this.#connect(),
        (err: Error) => this.#log.error({ err }, 'the MQTT client library could not be loaded'),
      );
      return;
    }
    this.#retryAt = undefined;
    const generation = ++this.#generation;
    const protocol = this.#protocol;
    this.#stats.attempts++;
    const o = this.#o;
    const options: IClientOptions = {
      protocolVersion: protocol,
      clientId: o.clientId,
      clean: true,
      keepalive: o.keepaliveS,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      rejectUnauthorized: true,
      queueQoSZero: false,
      will: { topic: this.#topics.status, payload: Buffer.from(this.#status('offline')), qos: 1, retain: true },
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.ca ? { ca: readFileSync(o.ca) } : {}),
      ...(o.cert ? { cert: readFileSync(o.cert) } : {}),
      ...(o.key ? { key: readFileSync(o.key) } : {}),
    };
    const client = mqttConnect(o.url, options);
    this.#client = client;
    let gotConnack = false;
    client.on('connect', () => {
      if (generation !== this.#generation) return;
      gotConnack = true;
      this.#protocolConfirmed = true;
      this.#connected = true;
      this.#attempt = 0;
      this.#stats.connects++;
      this.#lastError = undefined;
      this.#cursors = PRIORITIES.map(() => 0);
      this.#inFlight = 0;
      this.#log.info({ url: o.url, protocol: protocol === 5 ? 'MQTT 5' : 'MQTT 3.1.1' }, 'cloud broker connected');
      client.publish(this.#topics.status, this.#status('online'), { qos: 1, retain: true });
      client.subscribe(this.#topics.requests, { qos: 1 });
      this.#fill();
      this.#onConnect?.();
    });
    client.on('message', (topic, payload) => {
      if (generation === this.#generation) this.#onMessage(topic, payload);
    });
    client.on('error', (err) => {
      if (generation !== this.#generation) return;
      this.#lastError = err.message;
    });
    client.on('close', () => {
      if (generation !== this.#generation) return;
      const wasConnected = this.#connected;
      this.#connected = false;
      this.#inFlight = 0;
      this.#flushAcks();
      client.removeAllListeners('connect');
      client.end(true);
      if (wasConnected) this.#log.warn({ err: this.#lastError }, 'cloud broker connection lost');
      // A broker that speaks only 3.1.1 refuses an MQTT 5 CONNECT (or drops it): try the other version.
      if (!gotConnack && o.protocol === 'auto' && !this.#protocolConfirmed) {
        this.#protocol = this.#protocol === 5 ? 4 : 5;
        if (this.#protocol === 4) {
          setImmediate(() => generation === this.#generation && this.#connect());
          return;
        }
      }
      this.#scheduleRetry(generation);
    });
  }

  #scheduleRetry(generation: number): void {
    if (this.#stopped) return;
    const ceiling = Math.min(this.#o.backoff.maxMs, this.#o.backoff.minMs * 2 ** this.#attempt);
    const delay = Math.max(this.#o.backoff.minMs / 2, ceiling * (this.#o.random ?? Math.random)());
    this.#attempt++;
    this.#retryAt = Date.now() + delay;
    this.#retryTimer = setTimeout(() => {
      if (generation === this.#generation) this.#connect();
    }, delay);
  }

  /** Publishes queued records until the window is full or the outbox has nothing new. */
  #fill(): void {
    const client = this.#client;
    if (!client || !this.#connected || this.#filling || this.#stopped) return;
    this.#filling = true;
    try {
      const generation = this.#generation;
      while (this.#inFlight < this.#o.window) {
        const records = this.#outbox.next(this.#cursors, this.#o.window - this.#inFlight);
        if (records.length === 0) break;
        for (const r of records) {
          this.#cursors[r.priority] = r.seq;
          this.#inFlight++;
          this.#stats.published++;
          client.publish(r.topic, r.payload, { qos: 1 }, (err) => this.#onPuback(generation, r.seq, err));
        }
      }
    } finally {
      this.#filling = false;
    }
  }

  #onPuback(generation: number, seq: number, err: (Error & { code?: number }) | undefined): void {
    if (generation !== this.#generation) return; // a lost connection's callback: the record is resent
    if (err && !(typeof err.code === 'number' && err.code >= 0x80)) return;
    this.#inFlight--;
    if (err) {
      this.#stats.refused++;
      this.#log.warn({ seq, reason: err.message }, 'cloud broker refused a record; dropped');
    } else this.#stats.acked++;
    this.#acks.push(seq);
    this.#ackFlush ??= setImmediate(() => this.#flushAcks());
    // Refill in batches: one query per half window, not per acknowledgement.
    if (this.#inFlight <= this.#o.window / 2) this.#fill();
  }

  #flushAcks(): void {
    if (this.#ackFlush) clearImmediate(this.#ackFlush);
    this.#ackFlush = undefined;
    const acks = this.#acks;
    this.#acks = [];
    this.#outbox.ack(acks);
  }
}
