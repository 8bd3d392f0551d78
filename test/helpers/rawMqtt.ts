import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/** Raw bytes over TCP: resolves with what the broker sent back once it closes (or after `waitMs`). */
export function rawExchange(port: number, bytes: Buffer[], waitMs = 2000): Promise<{ received: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = netConnect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closed: false });
    }, waitMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), closed: true });
    });
    socket.on('connect', () => {
      for (const b of bytes) socket.write(b);
    });
  });
}

export const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);

/** A length-prefixed MQTT string or binary field [MQTT 1.5.3]; a Buffer is taken as its raw bytes. */
export const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** A fixed header plus body, with the remaining length encoded [MQTT-2.2.3]. */
export function packet(firstByte: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    len.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([firstByte, ...len]), body]);
}

/** An MQTT 3.1.1 CONNECT for client id `id` [MQTT 3.1]; `flags` are the connect flags (default: clean session). */
export function connectPacket(id: string, flags = 0x02, protocol = 'MQTT', level = 4): Buffer {
  return packet(0x10, Buffer.concat([str(protocol), Buffer.from([level, flags, 0x00, 0x3c]), str(id)]));
}

export function publishPacket(topic: string | Buffer, payload: string, qos: 0 | 1 = 0, packetId = 1, firstByte?: number): Buffer {
  const id = qos > 0 ? Buffer.from([packetId >> 8, packetId & 0xff]) : Buffer.alloc(0);
  return packet(firstByte ?? 0x30 | (qos << 1), Buffer.concat([str(topic), id, Buffer.from(payload)]));
}

export function subscribePacket(filters: string[], packetId = 1, firstByte = 0x82, qos = 1): Buffer {
  return packet(firstByte, Buffer.concat([u16(packetId), ...filters.map((f) => Buffer.concat([str(f), Buffer.from([qos])]))]));
}

export function unsubscribePacket(filters: string[], packetId = 1): Buffer {
  return packet(0xa2, Buffer.concat([u16(packetId), ...filters.map((f) => str(f))]));
}

/** PUBACK (4), PUBREC (5), PUBREL (6, flags 0010) or PUBCOMP (7) for `id` [MQTT 3.4-3.7]. */
export function ackPacket(type: 4 | 5 | 6 | 7, id: number): Buffer {
  return packet((type << 4) | (type === 6 ? 0x02 : 0), u16(id));
}

export interface ConnectFields {
  readonly clientId: string | Buffer;
  readonly protocol?: string;
  readonly level?: number;
  readonly clean?: boolean;
  readonly will?: { readonly topic: string | Buffer; readonly message: string | Buffer; readonly qos: number; readonly retain?: boolean };
  readonly username?: string | Buffer;
  readonly password?: string | Buffer;
}

/** A CONNECT with every field the specification defines [MQTT 3.1]; strings given as Buffers go on the wire as they are. */
export function connectWith(f: ConnectFields): Buffer {
  const flags =
    (f.clean === false ? 0 : 0x02) |
    (f.will ? 0x04 | (f.will.qos << 3) | (f.will.retain ? 0x20 : 0) : 0) |
    (f.username !== undefined ? 0x80 : 0) |
    (f.password !== undefined ? 0x40 : 0);
  const fields = [str(f.clientId)];
  if (f.will) fields.push(str(f.will.topic), str(f.will.message));
  if (f.username !== undefined) fields.push(str(f.username));
  if (f.password !== undefined) fields.push(str(f.password));
  return packet(0x10, Buffer.concat([str(f.protocol ?? 'MQTT'), Buffer.from([f.level ?? 4, flags, 0x00, 0x3c]), ...fields]));
}

/**
 * An interactive raw connection: sends bytes written from the specification and reads what the broker
 * sends back, decoded with mqtt-packet as a device's firmware would read it.
 */
export class RawSession {
  readonly received: Packet[] = [];
  readonly #socket: Socket;
  readonly #parser = mqttPacket.parser({ protocolVersion: 4 });
  readonly #waiters = new Set<() => void>();
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#parser.on('packet', (p) => {
      this.received.push(p);
      this.#wake();
    });
    socket.on('data', (d) => this.#parser.parse(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  static open(port: number): Promise<RawSession> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawSession(socket));
      });
    });
  }

  /** Opens a session and connects as `clientId` (anonymous unless `fields` say otherwise); resolves after CONNACK 0. */
  static async connected(port: number, clientId: string, fields: Partial<ConnectFields> = {}): Promise<RawSession> {
    const s = await RawSession.open(port);
    s.send(connectWith({ clientId, ...fields }));
    const ack = await s.next('connack');
    if (ack.cmd !== 'connack' || ack.returnCode !== 0) throw new Error(`CONNACK ${JSON.stringify(ack)}`);
    return s;
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(...bytes: Buffer[]): void {
    for (const b of bytes) this.#socket.write(b);
  }

  /** The next packet of kind `cmd` received from now on (or already received and not yet taken). */
  async next<C extends Packet['cmd']>(cmd: C, ms = 3000): Promise<Extract<Packet, { cmd: C }>> {
    const found = await this.#until(
      () => this.received.findIndex((p) => p.cmd === cmd),
      (i) => i >= 0,
      ms,
      `a ${cmd.toUpperCase()}`,
    );
    const [p] = this.received.splice(found, 1);
    return p as Extract<Packet, { cmd: C }>;
  }

  /** Resolves true once the broker closed the connection, false after `ms`. */
  async waitClosed(ms = 3000): Promise<boolean> {
    try {
      await this.#until(
        () => this.#closed,
        (c) => c,
        ms,
        'the close',
      );
      return true;
    } catch {
      return false;
    }
  }

  end(): void {
    this.#socket.destroy();
  }

  #until<T>(probe: () => T, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (!ok(v)) {
          if (this.#closed && what !== 'the close') finish(new Error(`connection closed while waiting for ${what}`));
          return;
        }
        finish(undefined, v);
      };
      const timer = setTimeout(() => finish(new Error(`no ${what} within ${ms} ms`)), ms);
      const finish = (err?: Error, v?: T) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve(v as T);
      };
      this.#waiters.add(check);
      check();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}
