import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import type { DeviceEvent } from '../../drivers/types.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * The MQTT driver against simulated device firmware, over TCP to the embedded broker: each device
 * announces itself with Home Assistant discovery in its own firmware's style, reports, and obeys
 * commands sent through the hub.
 */
describe('MQTT driver with simulated firmware', () => {
  let gw: TestGateway;
  let fleet: Fleet;
  const events: DeviceEvent[] = [];
  const members = [
    { kind: 'thermostat', node: 'thermo', name: 'Thermostat' },
    { kind: 'plug', node: 'plug', name: 'Plug' },
    { kind: 'door', node: 'door', name: 'Door' },
    { kind: 'light', node: 'lamp', name: 'Lamp' },
    { kind: 'coffee', node: 'coffee', name: 'Coffee' },
    { kind: 'fridge', node: 'fridge', name: 'Fridge' },
  ];

  beforeAll(async () => {
    gw = await startTestGateway();
    gw.running.bus.on(events, 'event', (e) => events.push(e));
    // 600x: one simulated minute every 100 ms
    fleet = await startSimFleet(gw, members, { speed: 600, seed: 7 });
  });

  afterAll(async () => {
    await fleet?.stop();
    await gw?.stop();
  });

  const state = (device: string, attr: string) => gw.running.hub.state.get(device, attr);

  it('registers every device from its discovery configs, with typed attributes', async () => {
    const { registry } = gw.running;
    const expected: Record<string, string[]> = {
      thermo: ['heating', 'setpoint', 'temperature'],
      plug: ['energy_power', 'energy_total', 'rl_1'],
      zigbee2mqtt_door: ['battery', 'contact'],
      zigbee2mqtt_lamp: ['light', 'light_brightness'],
      coffee: ['cups_brewed', 'descale', 'descale_needed', 'power', 'water_level'],
      fridge: ['compressor', 'door', 'setpoint', 'temperature'],
    };
    for (const [id, attrs] of Object.entries(expected)) {
      await waitFor(() => registry.get(id) && Object.keys(registry.get(id)?.attributes ?? {}).length === attrs.length, 5000, `device ${id}`);
      expect(Object.keys(registry.get(id)?.attributes ?? {}).sort()).toEqual(attrs);
    }
    expect(registry.get('thermo')?.attributes.temperature).toMatchObject({ type: 'number', unit: '°C', deviceClass: 'temperature', writable: false });
    expect(registry.get('thermo')?.attributes.setpoint).toMatchObject({ type: 'number', writable: true, min: 5, max: 30 });
    expect(registry.get('plug')?.attributes.energy_total).toMatchObject({ unit: 'kWh', stateClass: 'total_increasing' });
    expect(registry.get('plug')?.owner).toBe('plug');
  });

  it('turns reports into readings with the right types, and marks devices online', async () => {
    await waitFor(() => typeof state('thermo', 'temperature') === 'number', 5000, 'temperature');
    await waitFor(() => typeof state('zigbee2mqtt_door', 'contact') === 'boolean', 5000, 'door contact');
    await waitFor(() => typeof state('fridge', 'compressor') === 'boolean', 5000, 'compressor');
    await waitFor(() => typeof state('plug', 'energy_total') === 'number', 5000, 'plug energy');
    await waitFor(() => typeof state('coffee', 'cups_brewed') === 'number', 5000, 'cups brewed');
    await waitFor(() => typeof state('zigbee2mqtt_lamp', 'light') === 'boolean', 5000, 'lamp state');
    expect(gw.running.hub.state.isOnline('thermo')).toBe(true);
    const sim = fleet.get('zigbee2mqtt_door'.replace('zigbee2mqtt_', ''))?.state as { contact: boolean };
    // contact:true on the wire means closed; the door attribute (payload_on false) is "open"
    await waitFor(() => state('zigbee2mqtt_door', 'contact') === !sim.contact, 5000, 'door state to follow the device');
  });

  it('commits readings to SQLite', async () => {
    await waitFor(
      () => {
        const row = gw.running.db.prepare("SELECT count(*) AS n FROM readings r JOIN series s ON s.id = r.series_id WHERE s.device_id = 'thermo'").get() as {
          n: number;
        };
        return row.n >= 3;
      },
      5000,
      'thermostat readings in the database',
    );
  });

  it('sends commands the devices obey, and reads the new state back', async () => {
    const hub = gw.running.hub;
    await hub.command({ deviceId: 'thermo', attribute: 'setpoint', value: 22.5 });
    await waitFor(() => state('thermo', 'setpoint') === 22.5, 5000, 'setpoint 22.5');
    expect((fleet.get('thermo')?.state as { setpoint: number }).setpoint).toBe(22.5);

    await hub.command({ deviceId: 'plug', attribute: 'rl_1', value: false });
    await waitFor(() => state('plug', 'rl_1') === false && state('plug', 'energy_power') === 0, 5000, 'plug off');

    await hub.command({ deviceId: 'zigbee2mqtt_lamp', attribute: 'light_brightness', value: 50 });
    await waitFor(() => state('zigbee2mqtt_lamp', 'light_brightness') === 50 && state('zigbee2mqtt_lamp', 'light') === true, 5000, 'lamp at 50 %');
    expect((fleet.get('lamp')?.state as { brightness: number }).brightness).toBe(127);

    await hub.command({ deviceId: 'fridge', attribute: 'setpoint', value: 2 });
    await waitFor(() => state('fridge', 'setpoint') === 2, 5000, 'fridge setpoint');
  });

  it('refuses commands the device cannot take, naming why', async () => {
    const hub = gw.running.hub;
    await expect(hub.command({ deviceId: 'thermo', attribute: 'temperature', value: 3 })).rejects.toThrow('thermo.temperature is read-only');
    await expect(hub.command({ deviceId: 'thermo', attribute: 'setpoint', value: 99 })).rejects.toThrow('99 is outside 5..30');
    await expect(hub.command({ deviceId: 'thermo', attribute: 'setpoint', value: 'hot' })).rejects.toThrow('expected a number');
    await expect(hub.command({ deviceId: 'nope', attribute: 'x', value: 1 })).rejects.toThrow('unknown device "nope"');
  });

  it('raises and clears a fault from a problem sensor (descale needed)', async () => {
    const coffee = fleet.get('coffee');
    const s = coffee?.state as { cupsSinceDescale: number; descaling: number };
    s.cupsSinceDescale = 10_000;
    coffee?.report();
    await waitFor(() => events.find((e) => e.kind === 'fault' && e.deviceId === 'coffee' && e.active), 5000, 'fault raised');
    await gw.running.hub.command({ deviceId: 'coffee', attribute: 'descale', value: true });
    await waitFor(() => state('coffee', 'descale') === true, 5000, 'descale running');
    s.descaling = 1;
    await waitFor(() => events.find((e) => e.kind === 'fault' && e.deviceId === 'coffee' && !e.active), 5000, 'fault cleared');
    expect(state('coffee', 'descale_needed')).toBe(false);
  });

  it('marks a device offline when it goes away, and online when it returns', async () => {
    const lamp = fleet.get('lamp');
    await lamp?.stop();
    await waitFor(() => !gw.running.hub.state.isOnline('zigbee2mqtt_lamp'), 5000, 'lamp offline');
    const stored = () => (gw.running.db.prepare("SELECT online FROM devices WHERE id = 'zigbee2mqtt_lamp'").get() as { online: number }).online;
    await waitFor(() => stored() === 0, 2000, 'offline stored');
    await lamp?.start();
    await waitFor(() => gw.running.hub.state.isOnline('zigbee2mqtt_lamp'), 5000, 'lamp online again');
  });
});
