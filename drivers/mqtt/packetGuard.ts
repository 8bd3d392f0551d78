import { ConnectLevelCheck, CONNACK_UNACCEPTABLE_PROTOCOL } from './connectLevel.ts';

/**
 * Enforces a maximum MQTT packet size before the packet parser buffers it. MQTT 3.1.1 has no size
 * negotiation, so a broker must protect itself: a fixed header announces the remaining length
 * [MQTT 2.2.3] and we close the connection as soon as a header announces more than the limit, or the
 * remaining-length field is malformed (more than four bytes) [MQTT-2.2.3].
 *
 * The guard only walks packet boundaries (it never copies or parses payloads), so it costs a few
 * operations per packet.
 */
export class PacketSizeGuard {
  readonly #max: number;
  #phase: 'header' | 'length' | 'body' = 'header';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  constructor(maxPacketBytes: number) {
    this.#max = maxPacketBytes;
  }

  /** Feeds bytes in wire order. Returns an error message when the stream must be closed. */
  check(buf: Uint8Array): string | undefined {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      if (this.#phase === 'body') {
        const take = Math.min(this.#remaining, n - i);
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#phase = 'header';
        continue;
      }
      if (this.#phase === 'header') {
        i++; // the control-packet type and flags byte
        this.#phase = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
        continue;
      }
      const byte = buf[i++] as number;
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      this.#lengthBytes++;
      if (byte & 0x80) {
        if (this.#lengthBytes >= 4) return 'malformed remaining length (more than 4 bytes)';
        continue;
      }
      const total = 1 + this.#lengthBytes + this.#length;
      if (total > this.#max) return `packet of ${total} bytes exceeds the limit of ${this.#max}`;
      this.#remaining = this.#length;
      this.#phase = this.#remaining === 0 ? 'header' : 'body';
    }
    return undefined;
  }
}

interface GuardedSocket {
  read(size?: number): unknown;
  destroy(error?: Error): unknown;
  end(data: Uint8Array, callback: () => void): unknown;
}

export interface SocketGuards {
  readonly maxPacketBytes: number;
  /** a packet over the limit, or malformed framing: the socket is destroyed */
  onOversize(reason: string): void;
  /** an unsupported protocol level: CONNACK 0x01 is written, then the socket is closed [MQTT-3.1.2-2] */
  onUnsupportedProtocol(reason: string): void;
}

/**
 * Puts the raw-byte checks in front of a socket whose consumer pulls data with `read()` (aedes does,
 * in its 'readable' handler), before mqtt-packet sees a byte: the packet-size limit, and the first
 * packet's protocol level. A violation ends that socket only; nothing it sent afterwards is read.
 */
export function guardSocket(socket: GuardedSocket, guards: SocketGuards): void {
  const size = new PacketSizeGuard(guards.maxPacketBytes);
  const level = new ConnectLevelCheck();
  let refused = false;
  const read = socket.read.bind(socket);
  socket.read = (n?: number) => {
    const chunk = read(n);
    if (refused) return null;
    if (!(chunk instanceof Uint8Array)) return chunk;
    const unsupported = level.check(chunk);
    if (unsupported) {
      refused = true;
      guards.onUnsupportedProtocol(unsupported);
      socket.end(CONNACK_UNACCEPTABLE_PROTOCOL, () => socket.destroy());
      return null;
    }
    const problem = size.check(chunk);
    if (problem) {
      refused = true;
      guards.onOversize(problem);
      socket.destroy(new Error(problem));
      return null;
    }
    return chunk;
  };
}
