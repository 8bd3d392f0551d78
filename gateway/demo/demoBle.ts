import { mkdirSync } from 'node:fs';
import { BTHOME_SERVICE_DATA_UUID } from '../../drivers/ble/profiles.ts';
import { encodeBthome } from '../../firmware-sim/ble/bthomeEncoder.ts';
import { FakeBluez, type SimBleDevice } from '../../firmware-sim/ble/fakeBluez.ts';
import { fridgeLogger, hundredths, LOGGER_TEMPERATURE_UUID } from '../../firmware-sim/ble/fridgeLogger.ts';
import { PrivateBus } from '../../firmware-sim/ble/privateBus.ts';
import type { Config } from '../config/schema.ts';

/**
 * The demo home's Bluetooth: a private dbus-daemon at the configured path with a simulated BlueZ,
 * a BTHome thermometer, a BTHome door sensor with a button, a GATT fridge logger, and (when the
 * config scans) a garden thermometer set up nowhere, for the owner to adopt from the app. Without
 * dbus-daemon the BLE part of the demo is skipped.
 */
export const DEMO_ADOPTABLE = 'A4:C1:38:5A:10:04';

export async function startDemoBle(config: Readonly<Config>): Promise<() => Promise<void>> {
  const socket = /^unix:path=(.+)\/system_bus_socket$/.exec(config.ble.dbusAddress ?? '')?.[1];
  if (!socket || config.ble.devices.length === 0) return async () => {};
  mkdirSync(socket, { recursive: true });
  const bus = new PrivateBus(socket);
  await bus.start();
  const [climate, hall, logger] = config.ble.devices;
  const specs: SimBleDevice[] = [];
  if (climate) specs.push({ address: climate.address, name: 'ATC_5A1001' });
  if (hall) specs.push({ address: hall.address, name: 'BTHome door' });
  if (logger) specs.push(fridgeLogger(logger.address, 'fridge-logger', 4.1, 88));
  const adoptable = config.ble.scan; // it is there whether adopted or not
  if (adoptable) specs.push({ address: DEMO_ADOPTABLE, name: 'ATC_5A1004', rssi: -77 });
  const bluez = new FakeBluez(bus.address, specs);
  await bluez.start();
  let packet = 0;
  let temp = 19.5;
  let door = false;
  const tick = () => {
    packet = (packet + 1) & 0xff;
    temp += (Math.random() - 0.5) * 0.2;
    if (climate)
      bluez.advertise(climate.address, {
        [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: packet, temperature: temp, humidity: 45 + Math.random() * 5, battery: 87 }),
      });
    if (hall && Math.random() < 0.2) {
      door = !door;
      bluez.advertise(hall.address, { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: packet, door, button: door ? 1 : undefined }, true) });
    }
    if (adoptable)
      bluez.advertise(DEMO_ADOPTABLE, { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: packet, temperature: temp - 6, humidity: 70, battery: 64 }) });
    bluez.push(LOGGER_TEMPERATURE_UUID, hundredths(4 + Math.random() * 0.5));
  };
  tick();
  const timer = setInterval(tick, 5000);
  return async () => {
    clearInterval(timer);
    bluez.stop();
    await bus.stop();
  };
}
