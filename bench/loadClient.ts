import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

/**
 * A lean MQTT 3.1.1 load client: a raw socket writing pre-encoded packets, so one generator process
 * can drive 1,000+ connections without becoming the bottleneck it measures. Parses what comes back
 * (CONNACK, PUBACK, PUBLISH) with mqtt-packet.
 */
export interface LoadClientOptions {
  readonly port: number;
  readonly clientId: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

export class LoadClient {
  readonly #socket: Socket;
  readonly #parser = mqttPacket.parser({ protocolVersion: 4 });
  readonly #sentAt = new Map<number, number>();
  #nextId = 1;
  /** Received PUBLISH count (for subscribers). */
  received = 0;
  /** publish -> PUBACK latencies in ms, when recording. */
  readonly latencies: number[] = [];
  recordLatency = false;
  /** Called for every PUBLISH received. */
  onPublish: ((topic: string, payload: Buffer) => void) | undefined;
  #onAck: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d) => this.#parser.parse(d));
    this.#parser.on('packet', (p) => {
      if (p.cmd === 'publish') {
        this.received++;
        this.onPublish?.(p.topic, p.payload as Buffer);
        // a subscriber must acknowledge QoS 1 deliveries, or the broker stops at its inflight window
        if (p.qos === 1) this.#socket.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId as number }));
      } else if (p.cmd === 'puback') {
        const id = p.messageId as number;
        const t = this.#sentAt.get(id);
        if (t !== undefined) {
          this.#sentAt.delete(id);
          if (this.recordLatency) this.latencies.push(performance.now() - t);
        }
        this.#onAck?.();
      }
    });
  }

  static connect(o: LoadClientOptions): Promise<LoadClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(o.port, '127.0.0.1');
      const client = new LoadClient(socket);
      const timer = setTimeout(() => reject(new Error(`${o.clientId}: no CONNACK`)), 30_000);
      socket.once('error', reject);
      client.#parser.once('packet', (p) => {
        clearTimeout(timer);
        socket.off('error', reject);
        socket.on('error', () => {});
        if (p.cmd === 'connack' && p.returnCode === 0) resolve(client);
        else reject(new Error(`${o.clientId}: CONNACK ${String((p as { returnCode?: number }).returnCode)}`));
      });
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: o.clientId,
          keepalive: 0,
          ...(o.username ? { username: o.username, password: Buffer.from(o.password ?? '') } : {}),
        }),
      );
    });
  }

  subscribe(topic: string, qos: 0 | 1): void {
    this.#socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos }] }));
  }

  /** Writes one PUBLISH; returns false when the socket buffer is full (wait for drain). */
  publish(topic: string, payload: string, qos: 0 | 1): boolean {
    if (qos === 0) return this.#socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }));
    const messageId = this.#nextId;
    this.#nextId = this.#nextId === 65535 ? 1 : this.#nextId + 1;
    this.#sentAt.set(messageId, performance.now());
    return this.#socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false }));
  }

  /** Writes a pre-encoded packet up to `times` times while the socket takes it (QoS 0 saturation). */
  writeRaw(packet: Buffer, times: number): void {
    for (let k = 0; k < times && !this.#socket.writableNeedDrain; k++) this.#socket.write(packet);
  }

  onAck(fn: (() => void) | undefined): void {
    this.#onAck = fn;
  }

  close(): void {
    this.#socket.destroy();
  }
}
