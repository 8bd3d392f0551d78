/**
 * The acknowledgement flows of the messages the broker sends one client [MQTT 4.3]: which packet
 * identifiers are in flight at QoS 1 (waiting for PUBACK), at QoS 2 (waiting for PUBREC) and released
 * (PUBREL sent, waiting for PUBCOMP). aedes acts on any acknowledgement whatever the message's QoS (a
 * PUBREC for a QoS 1 message gets a PUBREL), so a client answering with the wrong kind is a protocol
 * violation that must close its connection [MQTT-4.8.0-1], and this is how the broker knows.
 *
 * It learns what was sent from the bytes written to the socket (a walk over packet boundaries that
 * reads only the first byte, the remaining length, and a PUBLISH's topic length and identifier), so it
 * depends on the wire format, not on aedes' internals.
 */
type Flow = 1 | 2 | 'released';

/** At most this many identifiers are remembered per connection; the oldest are forgotten first. */
const MAX_TRACKED = 4096;

type Phase = 'type' | 'length' | 'topicLength' | 'topic' | 'id' | 'skip';

export class AckFlows {
  readonly #inFlight = new Map<number, Flow>();
  #phase: Phase = 'type';
  #type = 0;
  #qos = 0;
  #remaining = 0;
  #multiplier = 1;
  #field = 0;
  #fieldBytes = 0;
  #skip = 0;

  /** Feeds what the broker wrote to the socket, in order (mqtt-packet writes strings and buffers). */
  sent(chunk: Uint8Array | string): void {
    if (typeof chunk === 'string') {
      const n = Buffer.byteLength(chunk);
      if ((this.#phase === 'skip' || this.#phase === 'topic') && n <= this.#skip) return this.#skipBytes(n);
      chunk = Buffer.from(chunk);
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#phase === 'skip' || this.#phase === 'topic') {
        const take = Math.min(this.#skip, chunk.length - i);
        i += take;
        this.#skipBytes(take);
        continue;
      }
      this.#byte(chunk[i++] as number);
    }
  }

  /**
   * Checks an acknowledgement from the client against what was sent; returns the violation, if any.
   * Identifiers never sent (a late answer from before a reconnect) are left to aedes.
   */
  received(cmd: string, id: number): string | undefined {
    // PUBLISH and SUBSCRIBE carry the client's own identifiers, a namespace apart from these
    if (cmd !== 'puback' && cmd !== 'pubrec' && cmd !== 'pubcomp') return undefined;
    const flow = this.#inFlight.get(id);
    if (flow === undefined) return undefined;
    const wrong = (what: string) => `${cmd.toUpperCase()} for packet ${id}, ${what} [MQTT-4.3, MQTT-4.8.0-1]`;
    switch (cmd) {
      case 'puback':
        if (flow !== 1) return wrong('a QoS 2 message (it needs PUBREC, then PUBCOMP)');
        this.#inFlight.delete(id);
        return undefined;
      case 'pubrec':
        if (flow === 1) return wrong('a QoS 1 message (it needs PUBACK)');
        return undefined; // the PUBREL aedes writes moves it on; a repeated PUBREC gets it again
      case 'pubcomp':
        if (flow === 1) return wrong('a QoS 1 message (it needs PUBACK)');
        if (flow === 2) return wrong('a QoS 2 message whose PUBREC has not come (PUBCOMP answers PUBREL)');
        this.#inFlight.delete(id);
        return undefined;
    }
  }

  #track(id: number, flow: Flow): void {
    this.#inFlight.delete(id);
    this.#inFlight.set(id, flow);
    if (this.#inFlight.size > MAX_TRACKED) this.#inFlight.delete(this.#inFlight.keys().next().value as number);
  }

  #skipBytes(n: number): void {
    this.#skip -= n;
    this.#remaining -= n;
    if (this.#skip > 0) return;
    if (this.#phase === 'topic') this.#begin('id', 2);
    else this.#phase = this.#remaining > 0 ? 'skip' : 'type';
    if (this.#phase === 'skip') this.#skip = this.#remaining;
  }

  #begin(phase: 'topicLength' | 'id', bytes: number): void {
    this.#phase = this.#remaining >= bytes ? phase : 'skip';
    this.#skip = this.#remaining;
    this.#field = 0;
    this.#fieldBytes = 0;
    if (this.#phase === 'skip' && this.#remaining === 0) this.#phase = 'type';
  }

  #byte(byte: number): void {
    switch (this.#phase) {
      case 'type':
        this.#type = byte >> 4;
        this.#qos = (byte >> 1) & 3;
        this.#phase = 'length';
        this.#remaining = 0;
        this.#multiplier = 1;
        return;
      case 'length':
        this.#remaining += (byte & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        if (byte & 0x80) return;
        if (this.#type === 3 && this.#qos > 0) this.#begin('topicLength', 2);
        else if (this.#type === 6) this.#begin('id', 2);
        else this.#begin('id', Number.POSITIVE_INFINITY); // anything else: skip its body
        return;
      default: {
        this.#field = (this.#field << 8) | byte;
        this.#fieldBytes++;
        this.#remaining--;
        if (this.#fieldBytes < 2) return;
        if (this.#phase === 'topicLength') {
          this.#phase = 'topic';
          this.#skip = this.#field;
          if (this.#skip === 0) this.#begin('id', 2);
          return;
        }
        // the identifier of a PUBLISH at QoS 1 or 2 (type 3), or of a PUBREL (type 6)
        this.#track(this.#field, this.#type === 6 ? 'released' : (this.#qos as 1 | 2));
        this.#phase = this.#remaining > 0 ? 'skip' : 'type';
        this.#skip = this.#remaining;
      }
    }
  }
}
