import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { AckFlows } from '../../drivers/mqtt/ackFlows.ts';
import { CONNACK_UNACCEPTABLE_PROTOCOL, ConnectLevelCheck } from '../../drivers/mqtt/connectLevel.ts';
import { connectWith } from '../helpers/rawMqtt.ts';

/** What mqtt-packet writes for `packets`, call by call (strings and buffers, as aedes' socket sees them). */
function writeCalls(packets: mqttPacket.Packet[]): Array<Buffer | string> {
  const calls: Array<Buffer | string> = [];
  const stream = {
    write: (chunk: Buffer | string) => {
      calls.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk));
      return true;
    },
    cork: () => undefined,
    uncork: () => undefined,
    destroy: (err: Error) => {
      throw err;
    },
  };
  for (const p of packets) mqttPacket.writeToStream(p, stream as never);
  return calls;
}

/** Splits buffers at the given cut points (strings stay whole, as mqtt-packet writes them). */
function rechunk(calls: Array<Buffer | string>, cuts: number[]): Array<Buffer | string> {
  const out: Array<Buffer | string> = [];
  for (const [i, c] of calls.entries()) {
    const cut = cuts[i % Math.max(1, cuts.length)] ?? 0;
    if (typeof c === 'string' || c.length < 2 || cut % c.length === 0) out.push(c);
    else out.push(c.subarray(0, cut % c.length), c.subarray(cut % c.length));
  }
  return out;
}

const outgoing = fc.oneof(
  fc.record({
    cmd: fc.constant('publish' as const),
    qos: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
    messageId: fc.integer({ min: 1, max: 65535 }),
    topic: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('ünïcode/€/🌡', 'a')),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 300 }),
    ),
    dup: fc.boolean(),
    retain: fc.boolean(),
  }),
  fc.record({ cmd: fc.constant('pubrel' as const), messageId: fc.integer({ min: 1, max: 65535 }) }),
  fc.record({ cmd: fc.constant('puback' as const), messageId: fc.integer({ min: 1, max: 65535 }) }),
  fc.record({ cmd: fc.constant('suback' as const), messageId: fc.integer({ min: 1, max: 65535 }), granted: fc.constant([1, 0x80]) }),
  fc.constant({ cmd: 'pingresp' as const }),
);

describe('acknowledgement flows learnt from the bytes the broker writes', () => {
  it('knows the QoS of every message in flight, however mqtt-packet and the socket cut the bytes (property)', () => {
    fc.assert(
      fc.property(fc.array(outgoing, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(500)), (packets, cuts) => {
        const flows = new AckFlows();
        for (const chunk of rechunk(writeCalls(packets as mqttPacket.Packet[]), cuts)) flows.sent(chunk);
        // the model: the last PUBLISH (QoS > 0) or PUBREL per identifier decides what it waits for
        const expected = new Map<number, 1 | 2 | 'released'>();
        for (const p of packets) {
          if (p.cmd === 'publish' && p.qos > 0) expected.set(p.messageId, p.qos as 1 | 2);
          if (p.cmd === 'pubrel') expected.set(p.messageId, 'released');
        }
        for (const [id, flow] of expected) {
          const probe = () => {
            const copy = new AckFlows();
            for (const chunk of writeCalls(packets as mqttPacket.Packet[])) copy.sent(chunk);
            return copy;
          };
          expect(probe().received('puback', id) === undefined).toBe(flow === 1);
          expect(probe().received('pubrec', id) === undefined).toBe(flow !== 1);
          expect(probe().received('pubcomp', id) === undefined).toBe(flow === 'released');
          // and the re-chunked walk agrees with the whole one
          expect(flows.received('pubrec', id) === undefined).toBe(flow !== 1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('follows a QoS 2 flow to its end and forgets it; identifiers never sent are left alone', () => {
    const flows = new AckFlows();
    for (const c of writeCalls([{ cmd: 'publish', qos: 2, messageId: 9, topic: 't', payload: Buffer.from('x'), dup: false, retain: false }])) flows.sent(c);
    expect(flows.received('pubrec', 9)).toBeUndefined();
    for (const c of writeCalls([{ cmd: 'pubrel', messageId: 9 }])) flows.sent(c);
    expect(flows.received('puback', 9)).toMatch(/PUBACK for packet 9, a QoS 2 message .*MQTT-4.8.0-1/);
    expect(flows.received('pubcomp', 9)).toBeUndefined();
    expect(flows.received('puback', 9)).toBeUndefined(); // done with: no longer known
    expect(flows.received('pubrec', 77)).toBeUndefined();
  });
});

describe('the first packet protocol level, read from raw bytes [MQTT-3.1.2-2]', () => {
  const judge = (bytes: Buffer, cut: number) => {
    const check = new ConnectLevelCheck();
    return check.check(bytes.subarray(0, cut)) ?? check.check(bytes.subarray(cut));
  };

  it('decides the same wherever the bytes are cut', () => {
    const cases: Array<[Buffer, RegExp | undefined]> = [
      [connectWith({ clientId: 'a', level: 4 }), undefined],
      [connectWith({ clientId: 'a', protocol: 'MQIsdp', level: 3 }), undefined],
      [connectWith({ clientId: 'a', level: 0x84 }), undefined], // a mosquitto bridge's level 4
      [connectWith({ clientId: 'a', level: 3 }), /"MQTT" level 3 is not supported \(expected 4\)/],
      [connectWith({ clientId: 'a', level: 5 }), /"MQTT" level 5/],
      [connectWith({ clientId: 'a', protocol: 'MQIsdp', level: 4 }), /"MQIsdp" level 4 .*expected 3/],
      [connectWith({ clientId: 'a', protocol: 'MQTX', level: 9 }), undefined], // another protocol: the parser closes
      [Buffer.from([0x30, 0x02, 0x00, 0x00]), undefined], // not a CONNECT: the parser closes
    ];
    for (const [bytes, verdict] of cases) {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const got = judge(bytes, cut);
        if (verdict) expect(got).toMatch(verdict);
        else expect(got).toBeUndefined();
      }
    }
  });

  it('judges only the first packet, once', () => {
    const check = new ConnectLevelCheck();
    expect(check.check(connectWith({ clientId: 'a' }))).toBeUndefined();
    expect(check.check(connectWith({ clientId: 'b', level: 9 }))).toBeUndefined();
    expect([...CONNACK_UNACCEPTABLE_PROTOCOL]).toEqual([0x20, 0x02, 0x00, 0x01]);
  });
});
