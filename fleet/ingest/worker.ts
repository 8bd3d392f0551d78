import type { Duplex } from 'node:stream';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import type { FleetDb } from '../db/fleetDb.ts';
import { GroupCommit } from './groupCommit.ts';

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
  /** told of each message whose commit succeeded (stored, or refused as invalid) */
  readonly onCommitted?: () => void;
  /** at most this many messages per transaction (default 2,000) */
  readonly maxBatch?: number;
}

/** messages read and not yet committed, past which the next packet is not read (TCP pushes back on the broker) */
const HIGH_WATER = 5000;

/**
 * MQTT.js reads the next packet only once `handleMessage`'s callback is called, and sends the
 * PUBACK with it unless the callback gets an error (then it sends nothing and reads on). The
 * worker calls it with this at once, and writes each PUBACK itself after the message's batch has
 * committed (test/unit/libraryInternals.test.ts fails if an MQTT.js upgrade changes either).
 */
export const DEFERRED_ACK = Object.freeze(new Error('acknowledged after the commit'));

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
 * message is acknowledged only after its rows are committed, and many share one commit (group
 * commit, `GroupCommit`): the worker reads on while a batch commits, then sends that batch's PUBACKs
 * in the order the messages came [MQTT-4.6.0-2]. A commit that fails is not acknowledged: the worker drops
 * its connection and the broker resends the message to its persistent session (DUP), and the
 * idempotency keys make the second delivery harmless.
 */
export class IngestWorker {
  readonly #o: IngestOptions;
  readonly #counters: IngestCounters = { stored: 0, invalid: 0, failed: 0 };
  readonly #commit: GroupCommit;
  #client: MqttClient | undefined;
  /** messages received and not yet committed and acknowledged */
  #inFlight = 0;
  #lastArrival = 0;

  constructor(options: IngestOptions) {
    this.#o = options;
    this.#commit = new GroupCommit({ db: options.db, now: options.now, maxBatch: options.maxBatch });
  }

  /** transactions committed and the messages in them: their ratio is the mean batch */
  get commits(): { readonly commits: number; readonly messages: number } {
    return { commits: this.#commit.commits, messages: this.#commit.committed };
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
    client.handleMessage = (packet: IPublishPacket, callback: (err?: Error) => void) => {
      this.#inFlight++;
      this.#lastArrival = Date.now();
      const stream = client.stream;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      this.#commit.add({ topic: packet.topic, payload }).then(
        (outcome) => {
          this.#inFlight--;
          if (outcome.stored) this.#counters.stored++;
          else this.#counters.invalid++;
          o.onCommitted?.();
          if (packet.qos > 0 && packet.messageId !== undefined && client.stream === stream) ack(stream, packet.messageId, protocolVersion);
        },
        (err: Error) => {
          this.#inFlight--;
          this.#counters.failed++;
          o.onFailure?.(err, packet.topic);
          // no acknowledgement: drop the connection; the broker resends to this session on reconnect
          if (client.stream === stream) stream.destroy();
        },
      );
      void this.#commit.room(HIGH_WATER).then(() => callback(DEFERRED_ACK));
    };
    client.on('error', () => undefined); // reconnects; failures are counted above
    this.#client = client;
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(this.filters, { qos: 1 });
    // after a reconnect MQTT.js subscribes again only when the broker says the session is gone;
    // subscribing every time costs little and does not rest on the broker's persistence. (A restarted
    // mosquitto 2.0.11 still handed a burst's tail to no worker in test/fleet/workerKill.test.ts, even
    // with this: gap repair is what fills such a hole.)
    client.on('connect', () => {
      if (this.#client === client) client.subscribe(this.filters, { qos: 1 }, () => undefined);
    });
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
}

const guarded = new WeakSet<Duplex>();

/**
 * The PUBACK of a committed message, on the connection it came on; a message from a connection that
 * has since dropped is not acknowledged there (the broker sends it again on the new one, and its
 * idempotency key makes that harmless).
 */
function ack(stream: Duplex, messageId: number, protocolVersion: number): void {
  if (stream.destroyed || !stream.writable) return;
  // a connection the broker has just closed fails the write later (EPIPE), when MQTT.js may have let
  // go of it: that error must not end the process (the message is sent again on the next connection)
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on('error', () => undefined);
  }
  stream.write(generate({ cmd: 'puback', messageId, ...(protocolVersion === 5 ? { reasonCode: 0 } : {}) }, { protocolVersion }));
}
