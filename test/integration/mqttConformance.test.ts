import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ackPacket,
  connectPacket,
  connectWith,
  packet,
  publishPacket,
  RawSession,
  rawExchange,
  subscribePacket,
  u16,
  unsubscribePacket,
} from '../helpers/rawMqtt.ts';
import { connectClient, startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * MQTT 3.1.1 conformance of the embedded broker where aedes falls short, written from the
 * specification's normative statements with raw packets: each violation closes that connection without
 * an answer (or, for an unsupported protocol level, after CONNACK 0x01), the QoS delivered is the
 * minimum of the publish's and the matching filters', and a good device keeps publishing throughout.
 */
const CONNACK_OK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const CONNACK_UNACCEPTABLE_PROTOCOL = Buffer.from([0x20, 0x02, 0x00, 0x01]);
const bytes = (...b: number[]) => Buffer.from(b);

let gw: TestGateway;
let port: number;
let good: MqttClient;
let acked = 0;
const goodErrors: unknown[] = [];
let publishing: NodeJS.Timeout;
let seq = 0;
const nextId = (what: string) => `${what}-${++seq}`;

beforeAll(async () => {
  gw = await startTestGateway({ mqtt: { allowAnonymous: true } });
  port = gw.running.mqttAddress.port;
  good = await connectClient(gw.url, { clientId: 'steady-device' });
  // another device publishing QoS 1 all along, every 20 ms
  publishing = setInterval(() => {
    good.publishAsync('steady-device/t', String(Date.now()), { qos: 1 }).then(
      () => acked++,
      (err) => goodErrors.push(err),
    );
  }, 20);
});
afterAll(async () => {
  clearInterval(publishing);
  good?.end(true);
  await gw?.stop();
});

/** The steady device's publishes are still acknowledged after a case: at least three more, none failed. */
async function steadyDeviceCarriesOn(since: number): Promise<void> {
  await waitFor(() => acked >= since + 3, 3000, 'the steady device publishing');
  expect(goodErrors).toEqual([]);
  expect(good.connected).toBe(true);
}

/** Sends `sequence` after CONNECT, expects the connection closed with nothing but the CONNACK sent. */
async function closedWithoutAnswer(sequence: Buffer[], clientId = nextId('bad')): Promise<void> {
  const before = acked;
  const malformed = gw.running.mqtt.counters().malformed;
  const { received, closed } = await rawExchange(port, [connectPacket(clientId), ...sequence], 3000);
  expect(closed).toBe(true);
  expect(received).toEqual(CONNACK_OK);
  expect(gw.running.mqtt.counters().malformed).toBe(malformed + 1);
  await steadyDeviceCarriesOn(before);
}

describe('CONNECT [MQTT-1.5.3-1/2, MQTT-3.1.2-14]: closed before any CONNACK', () => {
  const cases: Array<[string, Buffer]> = [
    ['client id with U+0000', connectWith({ clientId: bytes(0x61, 0x00, 0x62) })],
    ['client id that is not UTF-8 (0xFF)', connectWith({ clientId: bytes(0x61, 0xff) })],
    ['client id with an encoded surrogate (U+D800)', connectWith({ clientId: bytes(0x61, 0xed, 0xa0, 0x80) })],
    ['client id with an overlong "/" (C0 AF)', connectWith({ clientId: bytes(0x61, 0xc0, 0xaf) })],
    ['will topic with U+0000', connectWith({ clientId: 'w1', will: { topic: bytes(0x77, 0x00), message: 'x', qos: 0 } })],
    ['will topic with an overlong form', connectWith({ clientId: 'w2', will: { topic: bytes(0x77, 0xe0, 0x80, 0xaf), message: 'x', qos: 0 } })],
    ['user name that is not UTF-8', connectWith({ clientId: 'u1', username: bytes(0x75, 0xfe), password: 'p' })],
    ['will QoS 3', connectWith({ clientId: 'q3', will: { topic: 'q3/lwt', message: 'gone', qos: 3 } })],
    // the choice for what MQTT 1.5.3 lets a receiver refuse: control characters
    ['client id with U+0001', connectWith({ clientId: bytes(0x61, 0x01) })],
    ['client id with U+001F', connectWith({ clientId: bytes(0x61, 0x1f) })],
    ['client id with U+007F', connectWith({ clientId: bytes(0x61, 0x7f) })],
    ['client id with U+0085', connectWith({ clientId: bytes(0x61, 0xc2, 0x85) })],
    ['will topic with U+009F', connectWith({ clientId: 'w3', will: { topic: bytes(0x77, 0xc2, 0x9f), message: 'x', qos: 0 } })],
  ];
  for (const [what, connect] of cases) {
    it(`${what}: closed, nothing sent`, async () => {
      const before = acked;
      const { received, closed } = await rawExchange(port, [connect], 3000);
      expect(closed).toBe(true);
      expect(received).toEqual(Buffer.alloc(0));
      await steadyDeviceCarriesOn(before);
    });
  }

  it('accepts what the choice leaves alone: non-ASCII letters, U+00A0, and a will message of any bytes (it is binary data [MQTT 3.1.3.3])', async () => {
    for (const connect of [
      connectWith({ clientId: 'café-ü' }),
      connectWith({ clientId: bytes(0x61, 0xc2, 0xa0) }),
      connectWith({ clientId: 'w-ok', will: { topic: 'w-ok/lwt', message: bytes(0x00, 0xff, 0x01), qos: 1 } }),
    ]) {
      const { received } = await rawExchange(port, [connect], 300);
      expect(received).toEqual(CONNACK_OK);
    }
  });
});

describe('protocol level [MQTT-3.1.2-2]: CONNACK 0x01, then closed', () => {
  const levels: Array<[string, number]> = [
    ['MQTT', 3],
    ['MQTT', 5],
    ['MQTT', 0],
    ['MQTT', 9],
    ['MQTT', 255],
    ['MQIsdp', 4],
  ];
  for (const [protocol, level] of levels) {
    it(`"${protocol}" level ${level}`, async () => {
      const before = acked;
      const { received, closed } = await rawExchange(port, [connectWith({ clientId: nextId('lvl'), protocol, level })], 3000);
      expect(received).toEqual(CONNACK_UNACCEPTABLE_PROTOCOL);
      expect(closed).toBe(true);
      await steadyDeviceCarriesOn(before);
    });
  }

  it('a CONNECT arriving a byte at a time is judged the same', async () => {
    const s = await RawSession.open(port);
    for (const b of connectWith({ clientId: 'slow', level: 9 })) {
      s.send(Buffer.from([b]));
      await new Promise((r) => setTimeout(r, 5));
    }
    const ack = await s.next('connack');
    expect(ack.returnCode).toBe(1);
    expect(await s.waitClosed()).toBe(true);
  });

  it('MQTT 3.1 ("MQIsdp" level 3) is still accepted, for old firmware', async () => {
    const { received } = await rawExchange(port, [connectWith({ clientId: 'legacy-31', protocol: 'MQIsdp', level: 3 })], 300);
    expect(received).toEqual(CONNACK_OK);
  });
});

describe('acknowledgement flows [MQTT-4.3, MQTT-4.8.0-1]', () => {
  /** A session subscribed to its own topics at QoS 2 that has just been sent `qos` message `id`. */
  async function delivered(qos: 1 | 2): Promise<{ s: RawSession; id: number; name: string }> {
    const name = nextId('flow');
    const s = await RawSession.connected(port, name);
    s.send(subscribePacket([`${name}/#`], 1, 0x82, 2));
    expect((await s.next('suback')).granted).toEqual([2]);
    s.send(publishPacket(`${name}/t`, 'x', 1, 10, qos === 2 ? 0x34 : 0x32));
    if (qos === 2) {
      await s.next('pubrec');
      s.send(ackPacket(6, 10));
      await s.next('pubcomp');
    } else await s.next('puback');
    const p = await s.next('publish');
    expect(p.qos).toBe(qos);
    return { s, id: p.messageId as number, name };
  }

  async function closedSilently(s: RawSession, reply: Buffer): Promise<void> {
    const before = acked;
    s.received.length = 0;
    s.send(reply);
    expect(await s.waitClosed()).toBe(true);
    expect(s.received).toEqual([]);
    await steadyDeviceCarriesOn(before);
  }

  it('a QoS 1 message answered with PUBREC: closed (aedes sent PUBREL and carried on)', async () => {
    const { s, id } = await delivered(1);
    await closedSilently(s, ackPacket(5, id));
  });

  it('a QoS 1 message answered with PUBCOMP: closed', async () => {
    const { s, id } = await delivered(1);
    await closedSilently(s, ackPacket(7, id));
  });

  it('a QoS 2 message answered with PUBACK: closed', async () => {
    const { s, id } = await delivered(2);
    await closedSilently(s, ackPacket(4, id));
  });

  it('a QoS 2 message answered with PUBCOMP before PUBREC: closed', async () => {
    const { s, id } = await delivered(2);
    await closedSilently(s, ackPacket(7, id));
  });

  it('the right answers keep the connection: PUBACK for QoS 1; PUBREC, PUBREL from the broker, PUBCOMP for QoS 2', async () => {
    const one = await delivered(1);
    one.s.send(ackPacket(4, one.id));
    const two = await delivered(2);
    two.s.send(ackPacket(5, two.id));
    expect((await two.s.next('pubrel')).messageId).toBe(two.id);
    two.s.send(ackPacket(7, two.id));
    two.s.send(ackPacket(5, two.id)); // a repeated PUBREC is answered with PUBREL again [MQTT 4.3.3]
    expect((await two.s.next('pubrel')).messageId).toBe(two.id);
    for (const { s, name } of [one, two]) {
      s.send(publishPacket(`${name}/again`, 'y', 1, 11));
      await s.next('puback');
      expect(s.closed).toBe(false);
      s.end();
    }
  });

  const malformedAcks: Array<[string, Buffer]> = [];
  for (const [type, name] of [
    [4, 'PUBACK'],
    [5, 'PUBREC'],
    [6, 'PUBREL'],
    [7, 'PUBCOMP'],
  ] as const) {
    const first = (type << 4) | (type === 6 ? 0x02 : 0);
    malformedAcks.push(
      [`${name} with remaining length 3`, packet(first, bytes(0x00, 0x01, 0x00))],
      [`${name} with remaining length 1`, packet(first, bytes(0x01))],
      [`${name} with remaining length 0`, packet(first, Buffer.alloc(0))],
      [`${name} for packet identifier 0`, ackPacket(type, 0)],
    );
  }
  for (const [what, ack] of malformedAcks) {
    it(`${what}: closed, nothing sent after CONNACK`, () => closedWithoutAnswer([ack]));
  }
});

describe('SUBSCRIBE and UNSUBSCRIBE [MQTT-4.7.1-2/3, MQTT-3.10.3-2]', () => {
  for (const filter of ['ab/+e', 'a+', '+a/b', 'a/#/b', 'a#', '#a', 'a/b#', 'a/+#']) {
    it(`SUBSCRIBE to "<own>/${filter}": closed, no SUBACK`, async () => {
      const id = nextId('sub');
      await closedWithoutAnswer([subscribePacket([`${id}/ok`, `${id}/${filter}`], 2)], id);
    });
  }

  it('valid filters are granted: "+" and "#" as whole levels, empty levels', async () => {
    const id = nextId('sub');
    const s = await RawSession.connected(port, id);
    s.send(subscribePacket([`${id}/+`, `${id}/+/b`, `${id}/#`, `${id}//+`, `${id}/a b/c`], 3, 0x82, 1));
    expect((await s.next('suback')).granted).toEqual([1, 1, 1, 1, 1]);
    s.end();
  });

  it('UNSUBSCRIBE without any topic filter: closed, no UNSUBACK', () => closedWithoutAnswer([packet(0xa2, u16(4))]));

  it('UNSUBSCRIBE from an invalid filter: closed, no UNSUBACK', async () => {
    const id = nextId('unsub');
    await closedWithoutAnswer([unsubscribePacket([`${id}/a+`], 5)], id);
  });

  it('a topic filter with a control character: closed (the MQTT 1.5.3 choice)', async () => {
    const id = nextId('sub');
    await closedWithoutAnswer([subscribePacket([`${id}/a\u0007`], 6)], id);
  });
});

describe('PUBLISH [MQTT-3.3.1-2]', () => {
  it('QoS 0 with DUP set: closed', () => closedWithoutAnswer([publishPacket('x/y', 'hi', 0, 1, 0x38)]));

  it('a topic name with a control character: closed (the MQTT 1.5.3 choice)', () => closedWithoutAnswer([publishPacket('x/\u001b[2J', 'hi')]));

  it('QoS 1 with DUP set is a retransmission: acknowledged', async () => {
    const id = nextId('dup');
    const s = await RawSession.connected(port, id);
    s.send(publishPacket(`${id}/t`, 'x', 1, 7, 0x3a));
    expect((await s.next('puback')).messageId).toBe(7);
    s.end();
  });
});

describe('QoS downgrade to the matching filter [MQTT-3.8.4-6, MQTT-3.3.5-1]', () => {
  /** Publishes from `s` on `topic` at `qos` (completing QoS 2's handshake as a device would). */
  async function publishFrom(s: RawSession, topic: string, qos: 0 | 1 | 2, id: number, retain = false): Promise<void> {
    s.send(publishPacket(topic, 'v', qos === 2 ? 1 : (qos as 0 | 1), id, 0x30 | (qos << 1) | (retain ? 1 : 0)));
    if (qos === 1) await s.next('puback');
    if (qos === 2) {
      await s.next('pubrec');
      s.send(ackPacket(6, id));
      await s.next('pubcomp');
    }
  }

  async function session(filters: Array<[string, number]>): Promise<{ s: RawSession; name: string }> {
    const name = nextId('qos');
    const s = await RawSession.connected(port, name);
    for (const [i, [f, qos]] of filters.entries()) {
      s.send(subscribePacket([`${name}/${f}`], 20 + i, 0x82, qos));
      expect((await s.next('suback')).granted).toEqual([qos]);
    }
    return { s, name };
  }

  it('QoS 2 publish through "a/+" granted QoS 1 arrives at QoS 1', async () => {
    const before = acked;
    const { s, name } = await session([['+', 1]]);
    await publishFrom(s, `${name}/x`, 2, 30);
    const p = await s.next('publish');
    expect(p.topic).toBe(`${name}/x`);
    expect(p.qos).toBe(1);
    s.end();
    await steadyDeviceCarriesOn(before);
  });

  it('QoS 1 publish through "a/#" granted QoS 0 arrives at QoS 0', async () => {
    const { s, name } = await session([['#', 0]]);
    await publishFrom(s, `${name}/x/y`, 1, 31);
    expect((await s.next('publish')).qos).toBe(0);
    s.end();
  });

  it('a filter granted QoS 2 delivers QoS 2 unchanged, and never more than published', async () => {
    const { s, name } = await session([['+', 2]]);
    await publishFrom(s, `${name}/x`, 2, 32);
    expect((await s.next('publish')).qos).toBe(2);
    await publishFrom(s, `${name}/y`, 1, 33);
    expect((await s.next('publish')).qos).toBe(1);
    s.end();
  });

  for (const order of [
    [
      ['+', 0],
      ['#', 1],
    ],
    [
      ['#', 1],
      ['+', 0],
    ],
  ] as Array<Array<[string, number]>>) {
    it(`overlapping filters ${order.map(([f, q]) => `${f}@${q}`).join(', ')}: one copy at the highest granted QoS`, async () => {
      const { s, name } = await session(order);
      await publishFrom(s, `${name}/x`, 2, 34);
      const p = await s.next('publish');
      expect(p.qos).toBe(1);
      await new Promise((r) => setTimeout(r, 200));
      expect(s.received.filter((x) => x.cmd === 'publish')).toEqual([]);
      s.end();
    });
  }

  it('retained messages too: a retained QoS 2 message arrives at the QoS of the new wildcard subscription', async () => {
    const before = acked;
    const name = nextId('ret');
    const s = await RawSession.connected(port, name);
    await publishFrom(s, `${name}/r`, 2, 40, true);
    for (const qos of [1, 0, 2]) {
      s.send(subscribePacket([`${name}/+`], 41 + qos, 0x82, qos));
      await s.next('suback');
      const p = await s.next('publish');
      expect({ topic: p.topic, retain: p.retain, qos: p.qos }).toEqual({ topic: `${name}/r`, retain: true, qos });
      if (qos === 1) s.send(ackPacket(4, p.messageId as number));
      if (qos === 2) s.send(ackPacket(5, p.messageId as number));
    }
    s.end();
    await steadyDeviceCarriesOn(before);
  });
});
