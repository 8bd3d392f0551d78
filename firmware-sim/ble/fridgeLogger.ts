import type { SimBleDevice } from './fakeBluez.ts';

/** Simulated GATT fridge logger firmware: the layout the `fridge-logger` profile reads. */
const u16 = (short: number) => `0000${short.toString(16).padStart(4, '0')}-0000-1000-8000-00805f9b34fb`;
const VENDOR = '6e400001-b5a3-f393-e0a9-e50e24dcca9e';
export const LOGGER_TEMPERATURE_UUID = u16(0x2a6e);

/** Temperature as the Temperature characteristic (0x2A6E) carries it: sint16, 0.01 °C, little-endian. */
export function hundredths(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16LE(Math.round(v * 100), 0);
  return b;
}

export function fridgeLogger(address: string, name: string, temperature: number, battery: number): SimBleDevice {
  return {
    address,
    name,
    services: [
      { uuid: u16(0x181a), characteristics: [{ uuid: LOGGER_TEMPERATURE_UUID, flags: ['read', 'notify'], value: hundredths(temperature) }] },
      { uuid: u16(0x180f), characteristics: [{ uuid: u16(0x2a19), flags: ['read'], value: Buffer.from([battery]) }] },
      {
        uuid: VENDOR,
        characteristics: [
          { uuid: '6e400002-b5a3-f393-e0a9-e50e24dcca9e', flags: ['read', 'write'], value: hundredths(8) },
          { uuid: '6e400003-b5a3-f393-e0a9-e50e24dcca9e', flags: ['read', 'write'], value: Buffer.from([1]) },
        ],
      },
    ],
  };
}
