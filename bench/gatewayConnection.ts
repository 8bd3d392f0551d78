// The simulated gateways' side of bench:fleet: an MQTT 5 connection over TLS that sends PUBLISH
// packets encoded (mqtt-packet) before a timed window. A gateway is its own machine; here it shares
// the 2 cores with what is measured, so its per-message work (MQTT.js' options, store and callbacks:
// ~18 us a message) is taken out of the window and the socket, TLS and the PUBACKs stay in it.
import { connect } from 'node:tls';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { CloudBroker } from '../firmware-sim/cloud/cloudBroker.ts';
import type { Wire } from '../firmware-sim/fleetSim/records.ts';
import { wireKey } from './commits.ts';

const MAX_IN_FLIGHT = 65_535;

export class GatewayConnection {
  readonly #socket: ReturnType<typeof connect>;
  #nextId = 1;
  #encoded = 0;
  #acked = 0;
  #closed = false;

  private constructor(socket: ReturnType<typeof connect>) {
    this.#socket = socket;
  }

  /** Connects as `clientId` with a username and password; resolves after CONNACK 0, throws on any other. */
  static open(broker: CloudBroker, ca: Buffer, username: string, password: string, clientId: string): Promise<GatewayConnection> {
    const url = new URL(broker.passwordUrl);
    const socket = connect({ host: url.hostname, port: Number(url.port), ca });
    socket.setNoDelay(true);
    const conn = new GatewayConnection(socket);
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    return new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.once('close', () => {
        conn.#closed = true;
        reject(new Error(`${clientId}: the broker closed the connection`));
      });
      parser.on('error', reject);
      parser.on('packet', (p: Packet) => {
        if (p.cmd === 'puback') conn.#acked++;
        else if (p.cmd === 'connack') {
          if ((p.reasonCode ?? p.returnCode) !== 0) reject(new Error(`${clientId}: CONNACK ${p.reasonCode ?? p.returnCode}`));
          else resolve(conn);
        }
      });
      socket.on('data', (d: Buffer) => parser.parse(d));
      socket.once('secureConnect', () => {
        // keepalive 0: the bench sits idle between its parts, and sends no PINGREQ
        const hello: Packet = {
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 5,
          clean: true,
          clientId,
          keepalive: 0,
          username,
          password: Buffer.from(password),
        };
        socket.write(mqttPacket.generate(hello, { protocolVersion: 5 }));
      });
    });
  }

  /** A QoS 1 PUBLISH with this connection's next packet id, to `send` later. */
  encode(topic: string, payload: string | Buffer): Buffer {
    if (this.#encoded - this.#acked >= MAX_IN_FLIGHT) throw new Error(`more than ${MAX_IN_FLIGHT} publishes would be in flight on one connection`);
    const messageId = this.#nextId;
    this.#nextId = (messageId % MAX_IN_FLIGHT) + 1;
    this.#encoded++;
    return mqttPacket.generate({ cmd: 'publish', qos: 1, dup: false, retain: false, topic, payload, messageId }, { protocolVersion: 5 });
  }

  /** Writes encoded packets, in order. */
  send(packets: readonly Buffer[]): void {
    if (this.#closed) throw new Error('the connection is closed');
    this.#socket.write(packets.length === 1 ? (packets[0] as Buffer) : Buffer.concat(packets));
  }

  /** PUBACKs received so far */
  get acked(): number {
    return this.#acked;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.end(mqttPacket.generate({ cmd: 'disconnect' }, { protocolVersion: 5 }));
    });
  }
}

/** A record encoded for the connection it goes through (each site on one of them, in order), with its `wireKey`. */
export interface Routed {
  readonly via: GatewayConnection;
  readonly packet: Buffer;
  readonly id: string;
}

/** Encodes each record for its site's connection before a timed window, so the window holds the sending only. */
export function route(connections: readonly GatewayConnection[], wire: readonly Wire[]): Routed[] {
  return wire.map((w) => {
    const via = connections[Number(/site-(\d+)/.exec(w.topic)?.[1] ?? 0) % connections.length] as GatewayConnection;
    return { via, packet: via.encode(w.topic, w.payload), id: wireKey(w) };
  });
}

/** Sends `routed[from..to)`, one write per connection; returns when they were sent, by `wireKey`, into `sentAt`. */
export function sendRouted(routed: readonly Routed[], from: number, to: number, sentAt: Map<string, number>): void {
  const byConnection = new Map<GatewayConnection, Buffer[]>();
  const now = Date.now();
  for (let i = from; i < to; i++) {
    const r = routed[i] as Routed;
    sentAt.set(r.id, now);
    const packets = byConnection.get(r.via);
    if (packets) packets.push(r.packet);
    else byConnection.set(r.via, [r.packet]);
  }
  for (const [c, packets] of byConnection) c.send(packets);
}
