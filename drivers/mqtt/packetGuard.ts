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

interface ReadableSocket {
  read(size?: number): unknown;
  destroy(error?: Error): unknown;
}

/**
 * Puts a guard in front of a socket whose consumer pulls data with `read()` (aedes does, in its
 * 'readable' handler). Oversized or malformed framing destroys that socket only.
 */
export function guardSocket(socket: ReadableSocket, maxPacketBytes: number, onViolation: (reason: string) => void): void {
  const guard = new PacketSizeGuard(maxPacketBytes);
  const read = socket.read.bind(socket);
  socket.read = (size?: number) => {
    const chunk = read(size);
    if (chunk instanceof Uint8Array) {
      const problem = guard.check(chunk);
      if (problem) {
        onViolation(problem);
        socket.destroy(new Error(problem));
        return null;
      }
    }
    return chunk;
  };
}
