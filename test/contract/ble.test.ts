import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../drivers/types.ts';
import { BTHOME_SERVICE_DATA_UUID } from '../../drivers/ble/profiles.ts';
import { encodeBthome, encryptBthome } from '../../firmware-sim/ble/bthomeEncoder.ts';
import { FakeBluez } from '../../firmware-sim/ble/fakeBluez.ts';
import { fridgeLogger, hundredths, LOGGER_TEMPERATURE_UUID } from '../../firmware-sim/ble/fridgeLogger.ts';
import { PrivateBus } from '../../firmware-sim/ble/privateBus.ts';
import { driverContract } from '../helpers/driverContract.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

const THERMO = 'A4:C1:38:00:00:01';
const DOOR = 'A4:C1:38:00:00:02';
const LOGGER = 'C0:FF:EE:00:00:01';
/** a Shelly BLU-style sensor that encrypts its adverts with a bind key */
const BLU = '7C:C6:B6:00:00:01';
const BIND_KEY = '231d39c1d7cc1ab1aee224cd096db932';
/** The BLE driver with unmodified node-ble against a simulated BlueZ on a private D-Bus. */
describe('BLE driver against a simulated BlueZ', () => {
  const dirs = new TempDirs();
  const bus = new PrivateBus(dirs.make());
  let bluez: FakeBluez;
  let gw: TestGateway;
  const events: DeviceEvent[] = [];
  let packet = 1;
  const advertise = (address: string, fields: Parameters<typeof encodeBthome>[0], trigger = false) =>
    bluez.advertise(address, { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: packet++, ...fields }, trigger) });
  const sealed = (fields: Parameters<typeof encodeBthome>[0], counter: number, key = BIND_KEY) =>
    encryptBthome(encodeBthome({ packetId: packet++, ...fields }), Buffer.from(key, 'hex'), BLU, counter);

  beforeAll(async () => {
    await bus.start();
    bluez = new FakeBluez(
      bus.address,
      [
        {
          address: THERMO,
          name: 'ATC_thermo',
          serviceData: { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: 0, temperature: 21.5, humidity: 40, battery: 90 }) },
        },
        { address: DOOR, name: 'door-button', serviceData: { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: 0, door: false }) } },
        fridgeLogger(LOGGER, 'fridge-logger', 4.25, 77),
        { address: BLU, name: 'SBHT-003C', serviceData: { [BTHOME_SERVICE_DATA_UUID]: sealed({ temperature: 20.5, humidity: 45 }, 100) } },
      ],
      { powered: false },
    );
    await bluez.start();
    gw = await startTestGateway({
      ble: {
        dbusAddress: bus.address,
        scanMs: 100,
        offlineAfterMs: 1500,
        devices: [
          { address: THERMO, id: 'ble-thermo', profile: 'bthome' },
          { address: DOOR, id: 'ble-door', profile: 'bthome' },
          { address: LOGGER, id: 'fridge-logger', profile: 'fridge-logger' },
          { address: BLU, id: 'blu-ht', profile: 'bthome', bindKey: BIND_KEY },
        ],
      },
    });
    gw.running.bus.on(events, 'event', (e) => events.push(e));
  });
  afterAll(async () => {
    await gw?.stop();
    bluez?.stop();
    await bus.stop();
    dirs.cleanup();
  });

  describe('GATT device', () =>
    driverContract({
      gateway: () => gw.running,
      deviceId: 'fridge-logger',
      protocol: 'ble',
      reported: 'temperature',
      writable: 'alarm_threshold',
      value: 5.5,
      readOnly: 'temperature',
    }));

  it('powers the adapter on when it is off, and scans LE only with duplicate adverts reported', () => {
    expect(bluez.adapter?.Powered).toBe(true);
    expect(bluez.adapter?.filter).toEqual({ Transport: 'le', DuplicateData: true });
  });

  it('decodes BTHome advertisements into typed readings, once per packet', async () => {
    await waitFor(() => gw.running.hub.state.get('ble-thermo', 'temperature') === 21.5, 5000, 'first advert');
    expect(gw.running.registry.get('ble-thermo')?.attributes.humidity).toMatchObject({ type: 'number', unit: '%' });
    expect(gw.running.hub.state.get('ble-thermo', 'battery')).toBe(90);
    advertise(THERMO, { temperature: 22.75, humidity: 41 });
    await waitFor(() => gw.running.hub.state.get('ble-thermo', 'temperature') === 22.75, 3000, 'new packet');
    await new Promise((r) => setTimeout(r, 400)); // several scans of the same packet
    expect(events.filter((e) => e.kind === 'reading' && e.deviceId === 'ble-thermo' && e.attribute === 'temperature' && e.value === 22.75)).toHaveLength(1);
  });

  it('turns BTHome button presses into button events, and door states into readings', async () => {
    advertise(DOOR, { door: true, button: 2 }, true);
    await waitFor(() => events.find((e) => e.kind === 'button' && e.deviceId === 'ble-door' && e.action === 'double_press'), 3000, 'button event');
    expect(gw.running.hub.state.get('ble-door', 'door')).toBe(true);
  });

  it('counts an undecodable advertisement and keeps reading the device', async () => {
    const before = gw.running.hub.rejectedFor('ble-thermo');
    bluez.advertise(THERMO, { [BTHOME_SERVICE_DATA_UUID]: Buffer.from([0x41, 0xde, 0xad, 0xbe, 0xef]) }); // encrypted
    await waitFor(() => gw.running.hub.rejectedFor('ble-thermo') > before, 3000, 'rejected');
    advertise(THERMO, { temperature: 19 });
    await waitFor(() => gw.running.hub.state.get('ble-thermo', 'temperature') === 19, 3000, 'readings go on');
  });

  it('decrypts an encrypted sensor with its bind key, and refuses a replay, a wrong key and an unencrypted packet, counting each', async () => {
    await waitFor(() => gw.running.hub.state.get('blu-ht', 'temperature') === 20.5, 5000, 'the first encrypted advert');
    bluez.advertise(BLU, { [BTHOME_SERVICE_DATA_UUID]: sealed({ temperature: 21.25, humidity: 44 }, 101) });
    await waitFor(() => gw.running.hub.state.get('blu-ht', 'temperature') === 21.25, 3000, 'the next counter');
    const refusedAfter = async (data: Buffer, what: string) => {
      const before = gw.running.hub.rejectedFor('blu-ht');
      bluez.advertise(BLU, { [BTHOME_SERVICE_DATA_UUID]: data });
      await waitFor(() => gw.running.hub.rejectedFor('blu-ht') > before, 3000, what);
    };
    await refusedAfter(sealed({ temperature: 40 }, 100), 'a replayed counter'); // an old counter, freshly sealed: a replay
    await refusedAfter(sealed({ temperature: 40 }, 200, '00'.repeat(16)), 'a wrong key');
    await refusedAfter(encodeBthome({ packetId: packet++, temperature: 40 }), 'an unencrypted packet');
    expect(gw.running.hub.state.get('blu-ht', 'temperature')).toBe(21.25);
    bluez.advertise(BLU, { [BTHOME_SERVICE_DATA_UUID]: sealed({ temperature: 22 }, 102) });
    await waitFor(() => gw.running.hub.state.get('blu-ht', 'temperature') === 22, 3000, 'good packets go on');
  });

  it('receives GATT notifications', async () => {
    await waitFor(() => gw.running.hub.state.isOnline('fridge-logger'), 5000, 'logger connected');
    bluez.push(LOGGER_TEMPERATURE_UUID, hundredths(6.5));
    await waitFor(() => gw.running.hub.state.get('fridge-logger', 'temperature') === 6.5, 3000, 'notified value');
  });

  it('reconnects a GATT device that dropped', async () => {
    await waitFor(() => gw.running.hub.state.isOnline('fridge-logger'), 5000, 'connected');
    bluez.drop(LOGGER);
    await waitFor(() => !gw.running.hub.state.isOnline('fridge-logger'), 3000, 'offline after the drop');
    // backoff doubles from 500 ms after a failed attempt; under a loaded CI run a D-Bus call can time out once
    await waitFor(() => gw.running.hub.state.isOnline('fridge-logger'), 10_000, 'reconnected');
  });

  it('recovers when BlueZ restarts: devices go offline, then come back', async () => {
    bluez.stop();
    await waitFor(() => !gw.running.hub.state.isOnline('fridge-logger') && !gw.running.hub.state.isOnline('ble-thermo'), 5000, 'everything offline');
    await bluez.start();
    advertise(THERMO, { temperature: 23.5 });
    await waitFor(() => gw.running.hub.state.get('ble-thermo', 'temperature') === 23.5 && gw.running.hub.state.isOnline('ble-thermo'), 10_000, 'adverts again');
    await waitFor(() => gw.running.hub.state.isOnline('fridge-logger'), 10_000, 'GATT device reconnected');
  });
});
