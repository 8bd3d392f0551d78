import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Rejection } from '../../gateway/core/events.ts';
import { connectPacket, rawExchange } from '../helpers/rawMqtt.ts';
import { connectClient, startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/** CONNACK return code a refused connection got [MQTT 3.2.2.3]. */
async function refusal(url: string, options: Parameters<typeof connectClient>[1]): Promise<number | undefined> {
  try {
    const c = await connectClient(url, options);
    c.end(true);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

/** The return codes of a SUBACK [MQTT 3.9.3], including refusals (0x80), which MQTT.js turns into errors. */
async function subackCodes(client: MqttClient, topics: string[], qos: 0 | 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(topics, { qos })).map((g) => g.qos);
  } catch (err) {
    const packet = (err as { packet?: { granted?: Array<number | { qos: number }> } }).packet;
    if (!packet?.granted) throw err;
    return packet.granted.map((g) => (typeof g === 'number' ? g : g.qos));
  }
}

describe('embedded broker: authentication', () => {
  let gw: TestGateway;
  let password: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    password = await gw.running.credentials.create('plug-1');
  });
  afterAll(() => gw.stop());

  it('accepts a device with its own credential', async () => {
    expect(await refusal(gw.url, { username: 'plug-1', password, clientId: 'p1' })).toBe(0);
  });

  it('refuses a wrong password with CONNACK 0x04 and an unknown user likewise', async () => {
    expect(await refusal(gw.url, { username: 'plug-1', password: 'guess', clientId: 'p1' })).toBe(4);
    expect(await refusal(gw.url, { username: 'nobody', password, clientId: 'p1' })).toBe(4);
    expect(gw.running.mqtt.counters().authFailures).toBeGreaterThanOrEqual(2);
  });

  it('refuses anonymous devices with CONNACK 0x05 unless allowAnonymous is on', async () => {
    expect(await refusal(gw.url, { clientId: 'anon' })).toBe(5);
  });

  it('answers an empty client id with clean session 0 with CONNACK 0x02 [MQTT-3.1.3-8]', async () => {
    const { port } = gw.running.mqttAddress;
    const { received, closed } = await rawExchange(port, [connectPacket('', 0x00)]);
    expect([...received]).toEqual([0x20, 0x02, 0x00, 0x02]);
    expect(closed).toBe(true);
  });

  it('does not let another credential take over a connected client id', async () => {
    const other = await gw.running.credentials.create('door-1');
    const victim = await connectClient(gw.url, { username: 'plug-1', password, clientId: 'shared-id' });
    try {
      expect(await refusal(gw.url, { username: 'door-1', password: other, clientId: 'shared-id' })).toBe(2);
      expect(victim.connected).toBe(true);
    } finally {
      victim.end(true);
    }
  });
});

describe('embedded broker: topic ACL and hostile input', () => {
  const rejections: Rejection[] = [];
  let gw: TestGateway;
  const clients: MqttClient[] = [];
  let pw: Record<string, string>;
  beforeAll(async () => {
    gw = await startTestGateway({ mqtt: { maxPacketBytes: 4096 } });
    gw.running.bus.on(rejections, 'rejected', (r) => rejections.push(r));
    pw = { a: await gw.running.credentials.create('dev-a'), b: await gw.running.credentials.create('dev-b') };
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.end(true);
  });
  afterAll(() => gw.stop());

  const device = async (name: 'a' | 'b') => {
    const c = await connectClient(gw.url, { username: `dev-${name}`, password: pw[name], clientId: `dev-${name}-${clients.length}` });
    clients.push(c);
    return c;
  };

  it('refuses subscriptions outside the device topics with 0x80, and allows its own', async () => {
    const a = await device('a');
    expect(await subackCodes(a, ['dev-a/cmd/#', 'dev-b/#', '#', 'homeassistant/status', '$SYS/#'], 1)).toEqual([1, 128, 128, 1, 128]);
  });

  it('acknowledges but drops publishes outside the device topics, and counts them', async () => {
    const a = await device('a');
    const b = await device('b');
    const got: string[] = [];
    b.on('message', (t) => got.push(t));
    await b.subscribeAsync('dev-b/#', { qos: 1 });
    const before = gw.running.mqtt.counters().aclRefusals;
    await a.publishAsync('dev-b/cmd/spoof', 'x', { qos: 1 }); // PUBACK arrives [MQTT-3.3.5-2]
    await b.publishAsync('dev-b/own', 'y', { qos: 1 });
    await waitFor(() => got.includes('dev-b/own'), 2000, 'own message');
    expect(got).not.toContain('dev-b/cmd/spoof');
    expect(gw.running.mqtt.counters().aclRefusals).toBe(before + 1);
    expect(a.connected).toBe(true);
  });

  it('refuses a discovery config that points at topics the device does not own', async () => {
    const a = await device('a');
    const config = { name: 'T', state_topic: 'dev-b/temperature', device: { identifiers: ['evil'], name: 'evil' } };
    await a.publishAsync('homeassistant/sensor/evil/t/config', JSON.stringify(config), { qos: 1, retain: true });
    await a.publishAsync('homeassistant/sensor/good/t/config', JSON.stringify({ ...config, state_topic: 'dev-a/t', device: { identifiers: ['good-a'] } }), {
      qos: 1,
    });
    await waitFor(() => gw.running.registry.get('good-a'), 2000, 'good device');
    expect(gw.running.registry.get('evil')).toBeUndefined();
    expect(gw.running.hub.rejectedFor('evil')).toBe(1);
    // reported as a refused discovery config, naming the topic
    expect(rejections.filter((r) => r.source === 'homeassistant/sensor/evil/t/config').map((r) => r.code)).toEqual(['TRELLIS_E_DISCOVERY']);
  });

  it('rejects bad payloads per device without stopping its good readings', async () => {
    const a = await device('a');
    await a.publishAsync('trellis/dev-a/state', JSON.stringify({ temperature: 20 }), { qos: 1 });
    await waitFor(() => gw.running.hub.state.get('dev-a', 'temperature') === 20, 2000, 'first reading');
    await a.publishAsync('trellis/dev-a/state', 'not json', { qos: 1 });
    await a.publishAsync('trellis/dev-a/state', JSON.stringify({ temperature: 'warm' }), { qos: 1 });
    await a.publishAsync('trellis/dev-a/state', JSON.stringify({ temperature: { deep: 1 } }), { qos: 1 });
    await a.publishAsync('trellis/dev-a/state', 'x'.repeat(3000), { qos: 1 });
    await a.publishAsync('trellis/dev-a/state', JSON.stringify({ temperature: 21 }), { qos: 1 });
    await waitFor(() => gw.running.hub.state.get('dev-a', 'temperature') === 21, 2000, 'reading after the bad ones');
    expect(gw.running.hub.rejectedFor('dev-a')).toBe(4);
    expect(rejections.filter((r) => r.deviceId === 'dev-a').map((r) => r.code)).toEqual(Array(4).fill('TRELLIS_E_PAYLOAD'));
    expect(a.connected).toBe(true);
  });

  it('closes only the connection that sends a malformed packet', async () => {
    const a = await device('a');
    const { port } = gw.running.mqttAddress;
    // CONNECT, then a PUBLISH whose topic length points past the end of the packet
    const { closed } = await rawExchange(port, [connectPacket('raw-1'), Buffer.from([0x30, 0x03, 0x00, 0x09, 0x61])]);
    expect(closed).toBe(true);
    await a.publishAsync('dev-a/still-here', '1', { qos: 1 });
    expect(a.connected).toBe(true);
  });

  it('closes a connection whose packet exceeds maxPacketBytes, before buffering it', async () => {
    const a = await device('a');
    const before = gw.running.mqtt.counters().oversize;
    // A PUBLISH announcing 10 MB: the header alone must close the connection.
    const { closed } = await rawExchange(gw.running.mqttAddress.port, [connectPacket('raw-2'), Buffer.from([0x30, 0x80, 0xad, 0xe2, 0x04])]);
    expect(closed).toBe(true);
    expect(gw.running.mqtt.counters().oversize).toBe(before + 1);
    expect(a.connected).toBe(true);
  });

  it('refuses topics deeper than maxTopicLevels by closing that connection only', async () => {
    const a = await device('a');
    const b = await device('b');
    const closed = new Promise<void>((resolve) => a.once('close', () => resolve()));
    a.publish(`dev-a/${Array.from({ length: 20 }, () => 'x').join('/')}`, '1');
    await closed;
    await b.publishAsync('dev-b/fine', '1', { qos: 1 });
    expect(b.connected).toBe(true);
  });
});

describe('embedded broker: anonymous mode', () => {
  it('lets anonymous devices in when allowed, owning topics under their client id', async () => {
    const gw = await startTestGateway({ mqtt: { allowAnonymous: true } });
    try {
      const c = await connectClient(gw.url, { clientId: 'sensor-9' });
      expect(await subackCodes(c, ['sensor-9/#', 'other/#'], 0)).toEqual([0, 128]);
      await c.publishAsync('trellis/sensor-9/state', JSON.stringify({ lux: 120 }), { qos: 1 });
      expect(gw.running.hub.state.get('sensor-9', 'lux')).toBe(120);
      c.end(true);
    } finally {
      await gw.stop();
    }
  });
});
