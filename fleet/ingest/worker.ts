import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { FleetDb } from '../db/fleetDb.ts';
import { storeMessage } from './records.ts';

export interface IngestOptions {
  readonly db: FleetDb;
  /** the provider's broker, e.g. mqtts://broker:8883 */
  readonly url: string;
  /** this provider's id: the `p/<provider>/` of the gateways' streams it reads */
  readonly provider: string;
  /** the shared-subscription group every ingest worker of this provider joins */
  readonly group: string;
  /** unique per worker; its persistent session keeps what arrives while it reconnects */
  readonly clientId: string;
  readonly mqtt?: Pick<IClientOptions, 'username' | 'password' | 'ca' | 'cert' | 'key' | 'protocolVersion' | 'reconnectPeriod' | 'rejectUnauthorized'>;
  readonly now?: () => number;
  /** told of a message that could not be committed (it is not acknowledged, so the broker resends it) */
  readonly onFailure?: (err: Error, topic: string) => void;
}

export interface IngestCounters {
  stored: number;
  invalid: number;
  /** commits that failed (the message was not acknowledged) */
  failed: number;
}

/**
 * A stateless ingest worker. It shares the provider's streams with the other workers of its group
 * (MQTT 5 shared subscription `$share/<group>/trellis/v1/+/p/<provider>/#`) and reads every gateway's
 * retained status itself (retained messages are not sent to shared subscriptions [MQTT-5 4.8.2]). A QoS 1
 * message is acknowledged only after its rows are committed: MQTT.js sends the PUBACK when
 * `handleMessage`'s callback is called. A commit that fails is not acknowledged: the worker drops
 * its connection and the broker resends the message to its persistent session (DUP), and the
 * idempotency keys make the second delivery harmless.
 */
export class IngestWorker {
  readonly #o: IngestOptions;
  readonly #counters: IngestCounters = { stored: 0, invalid: 0, failed: 0 };
  #client: MqttClient | undefined;
  /** messages received and not yet committed and acknowledged */
  #inFlight = 0;
  #lastArrival = 0;

  constructor(options: IngestOptions) {
    this.#o = options;
  }

  get counters(): Readonly<IngestCounters> {
    return { ...this.#counters };
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  get filters(): string[] {
    const { provider, group } = this.#o;
    return [`$share/${group}/trellis/v1/+/p/${provider}/#`, 'trellis/v1/+/status'];
  }

  async start(): Promise<void> {
    if (this.#client) return;
    const o = this.#o;
    const protocolVersion = o.mqtt?.protocolVersion ?? 5;
    const client = connect(o.url, {
      reconnectPeriod: 500,
      connectTimeout: 10_000,
      ...o.mqtt,
      protocolVersion,
      clientId: o.clientId,
      clean: false,
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 86_400 } } : {}),
    });
    client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
      this.#inFlight++;
      this.#lastArrival = Date.now();
      this.#ingest(packet).then(
        () => {
          this.#inFlight--;
          done();
        },
        (err: Error) => {
          this.#inFlight--;
          this.#counters.failed++;
          o.onFailure?.(err, packet.topic);
          // no acknowledgement: drop the connection; the broker resends to this session on reconnect
          client.stream?.destroy();
        },
      );
    };
    client.on('error', () => undefined); // reconnects; failures are counted above
    this.#client = client;
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(this.filters, { qos: 1 });
  }

  /** Publishes a request to a gateway at QoS 1; resolves when the broker has it. */
  async publish(topic: string, payload: string): Promise<void> {
    if (!this.#client?.connected) throw new Error('not connected to the broker');
    await this.#client.publishAsync(topic, payload, { qos: 1 });
  }

  /**
   * Leaves the shared group first, so the broker hands what comes next to the other workers instead
   * of queueing it for this session (which would hold it until this worker came back); then lets the
   * messages in hand commit and be acknowledged, and disconnects. A worker that is killed instead
   * keeps its share queued in its session: restart it with the same `clientId`.
   */
  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    if (client.connected) await client.unsubscribeAsync(this.filters).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while ((this.#inFlight > 0 || Date.now() - this.#lastArrival < 200) && client.connected && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await client.endAsync();
  }

  async #ingest(packet: IPublishPacket): Promise<void> {
    const now = (this.#o.now ?? Date.now)();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const outcome = await this.#o.db.transaction((tx) => storeMessage(tx, packet.topic, payload, now));
    if (outcome.stored) this.#counters.stored++;
    else this.#counters.invalid++;
  }
}
