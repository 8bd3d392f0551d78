import { isValidTopicFilter } from './topics.ts';

/**
 * MQTT 3.1.1 rules that aedes' parser (mqtt-packet) and aedes itself let through, checked on each
 * decoded packet before aedes handles it. A packet that breaks one closes its connection without an
 * answer, as the specification asks of a protocol violation [MQTT-4.8.0-1].
 */
export interface DecodedPacket {
  cmd: string;
  messageId?: number;
  qos?: number;
  dup?: boolean;
  topic?: string | null;
  length?: number;
  protocolId?: string;
  protocolVersion?: number;
  clientId?: string;
  username?: string;
  will?: { qos?: number; topic?: string };
  subscriptions?: Array<{ topic: string }>;
  unsubscriptions?: string[];
}

/**
 * mqtt-packet decodes strings as UTF-8 and turns invalid bytes (stray continuation bytes, overlong
 * forms, encoded surrogates) into U+FFFD, so U+FFFD stands for "was not valid UTF-8" here (a string
 * that really contains U+FFFD is refused too). U+0000 is forbidden outright [MQTT-1.5.3-2].
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what MQTT forbids in strings [MQTT-1.5.3-2]
const ILL_FORMED = /[\u0000\uFFFD]/;

/**
 * Control characters U+0001-U+001F and U+007F-U+009F: the specification says strings SHOULD NOT
 * contain them and a receiver MAY close the connection [MQTT 1.5.3]. Trellis does: no firmware it
 * knows puts them in a topic, client id or user name, and they would reach logs, the phone UI and rule
 * files. (Payloads, passwords and will messages are bytes, never checked.)
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the control characters MQTT 1.5.3 lets a receiver refuse
const CONTROL = /[\u0001-\u001f\u007f-\u009f]/;

/** What is wrong with an MQTT string named `what`, or undefined. */
function stringProblem(what: string, s: string | null | undefined): string | undefined {
  if (s === undefined || s === null) return undefined;
  if (ILL_FORMED.test(s)) return `${what} is not valid UTF-8 or contains U+0000 [MQTT-1.5.3-1, MQTT-1.5.3-2]`;
  if (CONTROL.test(s)) return `${what} contains a control character (U+0001-U+001F, U+007F-U+009F) [MQTT 1.5.3: refused by choice]`;
  return undefined;
}

/** The protocol name and level pairs this broker speaks: MQTT 3.1.1, and MQTT 3.1 for old firmware. */
export const SUPPORTED_PROTOCOLS: Readonly<Record<string, number>> = { MQTT: 4, MQIsdp: 3 };

const ACK_SECTION: Readonly<Record<string, string>> = { puback: '3.4.1', pubrec: '3.5.1', pubrel: '3.6.1', pubcomp: '3.7.1' };

function filtersProblem(cmd: string, filters: readonly string[]): string | undefined {
  for (const f of filters) {
    const bad = stringProblem('topic filter', f);
    if (bad) return bad;
    if (!isValidTopicFilter(f)) return `${cmd} topic filter "${f}": "+" must be a whole level and "#" the whole last level [MQTT-4.7.1-2, MQTT-4.7.1-3]`;
  }
  return undefined;
}

export function malformation(p: DecodedPacket): string | undefined {
  switch (p.cmd) {
    case 'connect':
      if (p.protocolId !== undefined && SUPPORTED_PROTOCOLS[p.protocolId] !== p.protocolVersion)
        return `protocol "${p.protocolId}" level ${p.protocolVersion} is not supported [MQTT-3.1.2-2]`;
      if (p.will && p.will.qos === 3) return 'will QoS 3 [MQTT-3.1.2-14]';
      return stringProblem('client id', p.clientId) ?? stringProblem('will topic', p.will?.topic) ?? stringProblem('user name', p.username);
    case 'publish':
      if ((p.qos ?? 0) > 0 && p.messageId === 0) return 'PUBLISH with packet identifier 0 [MQTT-2.3.1-1]';
      if ((p.qos ?? 0) === 0 && p.dup === true) return 'PUBLISH QoS 0 with the DUP flag set [MQTT-3.3.1-2]';
      return stringProblem('topic name', p.topic);
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      if (p.length !== 2) return `${p.cmd.toUpperCase()} with a remaining length of ${p.length} (it must be 2) [MQTT ${ACK_SECTION[p.cmd]}]`;
      if (p.messageId === 0) return `${p.cmd.toUpperCase()} for packet identifier 0, which no packet can have [MQTT-2.3.1-1]`;
      return undefined;
    case 'subscribe':
      if (p.messageId === 0) return 'SUBSCRIBE with packet identifier 0 [MQTT-2.3.1-1]';
      return filtersProblem(
        'SUBSCRIBE',
        (p.subscriptions ?? []).map((s) => s.topic),
      );
    case 'unsubscribe':
      if (p.messageId === 0) return 'UNSUBSCRIBE with packet identifier 0 [MQTT-2.3.1-1]';
      if ((p.unsubscriptions ?? []).length === 0) return 'UNSUBSCRIBE without any topic filter [MQTT-3.10.3-2]';
      return filtersProblem('UNSUBSCRIBE', p.unsubscriptions ?? []);
    case 'pingreq':
    case 'disconnect':
      if ((p.length ?? 0) !== 0) return `${p.cmd.toUpperCase()} with a body (its remaining length must be 0)`;
      return undefined;
    default:
      return undefined;
  }
}
