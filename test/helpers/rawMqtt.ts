import { connect as netConnect, type Socket } from 'node:net';

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

const str = (s: string | Buffer) => {
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

export function subscribePacket(filters: string[], packetId = 1, firstByte = 0x82): Buffer {
  return packet(firstByte, Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff]), ...filters.map((f) => Buffer.concat([str(f), Buffer.from([0x01])]))]));
}
