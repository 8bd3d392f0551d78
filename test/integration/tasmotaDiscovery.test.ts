import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * A Tasmota device with its own discovery (SetOption19 0, Tasmota's default) through the real broker:
 * it joins with its relay's friendly name and its sensors, reports, obeys a command, and comes back
 * from the gateway's store after a restart; another credential cannot take its MAC over, nor point a
 * config at topics that are not its own.
 */
const dirs = new TempDirs();
let gw: TestGateway;
let tasmota: MqttClient;
const MAC = '8CAAB535EBF6';
const config = (t: string) =>
  JSON.stringify({
    dn: 'Coffee corner',
    fn: ['Coffee grinder'],
    mac: MAC,
    md: 'Sonoff Pow R2',
    ofln: 'Offline',
    onln: 'Online',
    state: ['OFF', 'ON', 'TOGGLE', 'HOLD'],
    sw: '13.4.0',
    t,
    ft: '%prefix%/%topic%/',
    tp: ['cmnd', 'stat', 'tele'],
    rl: [1, 0, 0, 0, 0, 0, 0, 0],
    ver: 1,
  });
const SENSORS = JSON.stringify({ sn: { Time: '2026-12-01T10:00:00', ENERGY: { Total: 12.345, Power: 86, Voltage: 229 }, TempUnit: 'C' }, ver: 1 });

async function client(username: string, password: string, url = gw.url): Promise<MqttClient> {
  const c = connect(url, { username, password, clientId: username, reconnectPeriod: 0 });
  await new Promise((resolve, reject) => {
    c.once('connect', resolve);
    c.once('error', reject);
  });
  return c;
}

beforeAll(async () => {
  gw = await startTestGateway({}, dirs);
  const password = await gw.running.credentials.create('tasmota_35EBF6', ['+/tasmota_35EBF6/#']);
  tasmota = await client('tasmota_35EBF6', password);
  await tasmota.subscribeAsync('cmnd/tasmota_35EBF6/#');
  await tasmota.publishAsync('tele/tasmota_35EBF6/LWT', 'Online', { retain: true, qos: 1 });
  await tasmota.publishAsync(`tasmota/discovery/${MAC}/config`, config('tasmota_35EBF6'), { retain: true, qos: 1 });
  await tasmota.publishAsync(`tasmota/discovery/${MAC}/sensors`, SENSORS, { retain: true, qos: 1 });
}, 30_000);

afterAll(async () => {
  await tasmota?.endAsync();
  await gw?.stop();
  dirs.cleanup();
});

describe('Tasmota discovery through the broker', () => {
  it('joins with its friendly name and sensors, reports, and obeys a command', async () => {
    const device = await waitFor(
      () => gw.running.registry.get('8caab535ebf6')?.attributes.energy_power && gw.running.registry.get('8caab535ebf6'),
      5000,
      'the device',
    );
    expect(device.name).toBe('Coffee corner');
    expect(device.attributes.power).toMatchObject({ type: 'boolean', writable: true, name: 'Coffee grinder' });
    await tasmota.publishAsync('tele/tasmota_35EBF6/SENSOR', JSON.stringify({ Time: 'x', ENERGY: { Total: 12.4, Power: 1450, Voltage: 230 } }), { qos: 1 });
    await waitFor(() => gw.running.hub.state.get('8caab535ebf6', 'energy_power') === 1450, 5000, 'a reading');
    const got = new Promise<[string, string]>((resolve) => tasmota.once('message', (t, p) => resolve([t, p.toString()])));
    await gw.running.hub.command({ deviceId: '8caab535ebf6', attribute: 'power', value: true });
    expect(await got).toEqual(['cmnd/tasmota_35EBF6/POWER', 'ON']);
    await tasmota.publishAsync('stat/tasmota_35EBF6/POWER', 'ON', { qos: 1 });
    await waitFor(() => gw.running.hub.state.get('8caab535ebf6', 'power') === true, 5000, 'the relay on');
  });

  it("refuses another credential's config for the same MAC, and a config naming topics that are not the publisher's", async () => {
    const mallory = await client('mallory', await gw.running.credentials.create('mallory'));
    try {
      const before = gw.running.hub.counters().rejected;
      await mallory.publishAsync(`tasmota/discovery/${MAC}/config`, config('mallory'), { retain: true, qos: 1 });
      await mallory.publishAsync('tasmota/discovery/AABBCCDDEEFF/config', config('tasmota_35EBF6').replace(MAC, 'AABBCCDDEEFF'), { retain: true, qos: 1 });
      await waitFor(() => gw.running.hub.counters().rejected >= before + 2, 5000, 'both refused');
      expect(gw.running.registry.get('aabbccddeeff')).toBeUndefined();
      expect(gw.running.registry.get('8caab535ebf6')?.owner).toBe('tasmota_35EBF6');
    } finally {
      await mallory.endAsync();
    }
  });

  it('comes back from the store after a restart, before the device re-announces', async () => {
    await gw.gateway.stop();
    const again = await gw.gateway.start();
    expect(again.registry.get('8caab535ebf6')?.attributes.power?.name).toBe('Coffee grinder');
    const fresh = await client(
      'tasmota_35EBF6',
      await again.credentials.rotate('tasmota_35EBF6', ['+/tasmota_35EBF6/#']),
      `mqtt://127.0.0.1:${again.mqttAddress.port}`,
    );
    try {
      await fresh.publishAsync('tele/tasmota_35EBF6/SENSOR', JSON.stringify({ ENERGY: { Power: 12 } }), { qos: 1 });
      await waitFor(() => again.hub.state.get('8caab535ebf6', 'energy_power') === 12, 5000, 'readings after the restart');
    } finally {
      await fresh.endAsync();
    }
  });
});
