import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../../firmware-sim/clock.ts';
import { Fleet } from '../../firmware-sim/fleet.ts';
import { PtyPair } from '../../firmware-sim/serial/ptyPair.ts';
import { RtuSlaveBus } from '../../firmware-sim/serial/rtuSlave.ts';
import { SIM_SLAVES } from '../../firmware-sim/serial/slaves.ts';
import { TextDeviceSim } from '../../firmware-sim/serial/textDevice.ts';
import { driverContract } from '../helpers/driverContract.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/** One contract, every driver: MQTT over TCP, Modbus RTU and a text protocol over pty pairs. */
describe('driver contract', () => {
  const dirs = new TempDirs();
  let gw: TestGateway;
  let fleet: Fleet;
  const modbus = { pty: undefined as PtyPair | undefined, bus: undefined as RtuSlaveBus | undefined };
  const text = { pty: undefined as PtyPair | undefined, sim: undefined as TextDeviceSim | undefined };

  beforeAll(async () => {
    const dir = dirs.make();
    modbus.pty = new PtyPair(dir, 'bus');
    text.pty = new PtyPair(dir, 'display');
    await modbus.pty.open();
    await text.pty.open();
    modbus.bus = new RtuSlaveBus({ path: modbus.pty.devicePath, baudRate: 19200 });
    modbus.bus.slaves.set(7, SIM_SLAVES['fridge-controller']().memory);
    await modbus.bus.open();
    text.sim = new TextDeviceSim(text.pty.devicePath);
    await text.sim.open();
    gw = await startTestGateway({
      serial: [
        { path: modbus.pty.gatewayPath, pollMs: 100, timeoutMs: 150, devices: [{ id: 'shop-fridge-ctl', unit: 7, definition: 'fridge-controller' }] },
        { path: text.pty.gatewayPath, baudRate: 9600, protocol: 'text', device: { id: 'cooler-display', format: 'kv', writable: ['setpoint'] } },
      ],
    });
    const password = await gw.running.credentials.create('thermo');
    fleet = new Fleet({
      url: gw.url,
      devices: [{ kind: 'thermostat', node: 'thermo', name: 'Thermostat', password }],
      clock: createClock(600),
      reportMs: 60_000,
    });
    await fleet.start();
  });
  afterAll(async () => {
    await fleet?.stop();
    await gw?.stop();
    await modbus.bus?.close();
    await text.sim?.close();
    await modbus.pty?.close();
    await text.pty?.close();
    dirs.cleanup();
  });

  describe('MQTT', () =>
    driverContract({
      gateway: () => gw.running,
      deviceId: 'thermo',
      protocol: 'mqtt',
      reported: 'temperature',
      writable: 'setpoint',
      value: 22.5,
      readOnly: 'temperature',
    }));
  describe('Modbus RTU', () =>
    driverContract({
      gateway: () => gw.running,
      deviceId: 'shop-fridge-ctl',
      protocol: 'serial',
      reported: 'cabinet_temperature',
      writable: 'setpoint',
      value: -1.5,
      readOnly: 'cabinet_temperature',
    }));
  describe('text line', () =>
    driverContract({
      gateway: () => gw.running,
      deviceId: 'cooler-display',
      protocol: 'serial',
      reported: 'temperature',
      writable: 'setpoint',
      value: 3,
      readOnly: 'temperature',
    }));

  it('text line: counts a garbage line against the device and keeps reading', async () => {
    const before = gw.running.hub.rejectedFor('cooler-display');
    text.sim?.garbage();
    await waitFor(() => gw.running.hub.rejectedFor('cooler-display') > before, 3000, 'garbage counted');
    if (text.sim) text.sim.temperature = 9.9;
    await waitFor(() => gw.running.hub.state.get('cooler-display', 'temperature') === 9.9, 3000, 'readings go on');
    expect(gw.running.hub.state.isOnline('cooler-display')).toBe(true);
  });
});
