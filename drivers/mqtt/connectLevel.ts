import { SUPPORTED_PROTOCOLS } from './packetRules.ts';

/** CONNACK with return code 0x01, "unacceptable protocol version" [MQTT 3.2.2.3]. */
export const CONNACK_UNACCEPTABLE_PROTOCOL = Uint8Array.from([0x20, 0x02, 0x00, 0x01]);

/** fixed header (at most 5 bytes), name length (2), the longest name we speak ("MQIsdp", 6), level (1) */
const LONGEST_HEAD = 5 + 2 + 6 + 1;

/**
 * Reads the first packet's protocol name and level from the raw bytes, before mqtt-packet parses
 * them: mqtt-packet refuses a level it does not know with an error, after which aedes can only close,
 * while a server that does not support the level must answer CONNACK 0x01 and then close
 * [MQTT-3.1.2-2]. A first packet that is no CONNECT, or names another protocol, is left to the parser,
 * which closes the connection without an answer [MQTT-3.1.0-1, MQTT-3.1.2-1].
 */
export class ConnectLevelCheck {
  #head = new Uint8Array(0);
  #decided = false;

  /** Feeds bytes in wire order. Returns why the protocol level is refused, once; otherwise undefined. */
  check(chunk: Uint8Array): string | undefined {
    if (this.#decided) return undefined;
    const head = new Uint8Array(Math.min(LONGEST_HEAD, this.#head.length + chunk.length));
    head.set(this.#head.subarray(0, head.length));
    head.set(chunk.subarray(0, head.length - this.#head.length), this.#head.length);
    this.#head = head;
    const verdict = judge(head);
    if (verdict === 'wait') return undefined;
    this.#decided = true;
    this.#head = new Uint8Array(0);
    return verdict === 'fine' ? undefined : verdict;
  }
}

function judge(b: Uint8Array): 'wait' | 'fine' | string {
  if (b.length === 0) return 'wait';
  if (b[0] !== 0x10) return 'fine'; // not a CONNECT: the parser's business
  let i = 1;
  for (;;) {
    if (i >= b.length) return 'wait';
    const byte = b[i++] as number;
    if ((byte & 0x80) === 0) break;
    if (i > 4) return 'fine'; // malformed remaining length: the size guard closes it
  }
  if (i + 2 > b.length) return 'wait';
  const nameLength = ((b[i] as number) << 8) | (b[i + 1] as number);
  if (nameLength > 6) return 'fine'; // no protocol we speak: the parser closes [MQTT-3.1.2-1]
  const start = i + 2;
  if (start + nameLength + 1 > b.length) return 'wait';
  const name = String.fromCharCode(...b.subarray(start, start + nameLength));
  if (!Object.hasOwn(SUPPORTED_PROTOCOLS, name)) return 'fine';
  const expected = SUPPORTED_PROTOCOLS[name] as number;
  // mosquitto bridges set the top bit of the level ("bridge mode"); mqtt-packet strips it too
  const level = (b[start + nameLength] as number) & 0x7f;
  return level === expected ? 'fine' : `protocol "${name}" level ${level} is not supported (expected ${expected}) [MQTT-3.1.2-2]`;
}
