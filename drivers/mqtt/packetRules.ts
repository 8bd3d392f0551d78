/**
 * MQTT 3.1.1 rules that aedes' parser (mqtt-packet) lets through, checked on each decoded packet
 * before aedes handles it. A packet that breaks one closes its connection, as the specification asks.
 */
export interface DecodedPacket {
  cmd: string;
  messageId?: number;
  qos?: number;
  topic?: string;
  length?: number;
  subscriptions?: Array<{ topic: string }>;
  unsubscriptions?: string[];
}

/**
 * mqtt-packet decodes strings as UTF-8 and turns invalid bytes into U+FFFD, so U+FFFD stands for
 * "was not valid UTF-8" here (a topic that really contains U+FFFD is refused too).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what MQTT forbids in strings [MQTT-1.5.3-2]
const BAD_STRING = /[\u0000\uFFFD]/;

export function malformation(p: DecodedPacket): string | undefined {
  switch (p.cmd) {
    case 'publish':
      if ((p.qos ?? 0) > 0 && p.messageId === 0) return 'PUBLISH with packet identifier 0 [MQTT-2.3.1-1]';
      if (p.topic !== undefined && BAD_STRING.test(p.topic)) return 'topic name is not valid UTF-8 or contains U+0000 [MQTT-1.5.3-1, MQTT-1.5.3-2]';
      return undefined;
    case 'subscribe':
      if (p.messageId === 0) return 'SUBSCRIBE with packet identifier 0 [MQTT-2.3.1-1]';
      if (p.subscriptions?.some((s) => BAD_STRING.test(s.topic))) return 'topic filter is not valid UTF-8 or contains U+0000 [MQTT-1.5.3-1]';
      return undefined;
    case 'unsubscribe':
      if (p.messageId === 0) return 'UNSUBSCRIBE with packet identifier 0 [MQTT-2.3.1-1]';
      if (p.unsubscriptions?.some((t) => BAD_STRING.test(t))) return 'topic filter is not valid UTF-8 or contains U+0000 [MQTT-1.5.3-1]';
      return undefined;
    case 'pingreq':
    case 'disconnect':
      if ((p.length ?? 0) !== 0) return `${p.cmd.toUpperCase()} with a body (its remaining length must be 0)`;
      return undefined;
    default:
      return undefined;
  }
}
