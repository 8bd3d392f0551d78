import type { AttributeSpec, AttributeValue } from '../types.ts';

/** GATT devices as data: which characteristic is which attribute, and how its bytes read. */
export type GattCodec = 'sint16le_0.01' | 'uint16le' | 'uint8' | 'bool';

export interface GattPoint {
  readonly attribute: string;
  readonly service: string;
  readonly characteristic: string;
  readonly codec: GattCodec;
  readonly writable?: boolean;
  readonly notify?: boolean;
  readonly unit?: string;
  readonly deviceClass?: string;
  readonly min?: number;
  readonly max?: number;
}

export interface GattProfile {
  readonly model: string;
  readonly manufacturer: string;
  /** the service UUIDs its adverts list: a scan that hears all of them offers the device for adoption with this profile */
  readonly advertises: readonly string[];
  readonly points: readonly GattPoint[];
}

const uuid16 = (short: number) => `0000${short.toString(16).padStart(4, '0')}-0000-1000-8000-00805f9b34fb`;
export const BTHOME_SERVICE_DATA_UUID = uuid16(0xfcd2);

/** Shipped profiles. */
export const GATT_PROFILES: Readonly<Record<string, GattProfile>> = {
  /** A fridge temperature logger: Environmental Sensing temperature (notify) plus a vendor alarm threshold and logging switch. */
  'fridge-logger': {
    model: 'fridge temperature logger',
    manufacturer: 'generic',
    advertises: [uuid16(0x181a), '6e400001-b5a3-f393-e0a9-e50e24dcca9e'],
    points: [
      {
        attribute: 'temperature',
        service: uuid16(0x181a),
        characteristic: uuid16(0x2a6e),
        codec: 'sint16le_0.01',
        notify: true,
        unit: '°C',
        deviceClass: 'temperature',
      },
      { attribute: 'battery', service: uuid16(0x180f), characteristic: uuid16(0x2a19), codec: 'uint8', unit: '%', deviceClass: 'battery' },
      {
        attribute: 'alarm_threshold',
        service: '6e400001-b5a3-f393-e0a9-e50e24dcca9e',
        characteristic: '6e400002-b5a3-f393-e0a9-e50e24dcca9e',
        codec: 'sint16le_0.01',
        writable: true,
        unit: '°C',
        min: -30,
        max: 30,
      },
      {
        attribute: 'logging',
        service: '6e400001-b5a3-f393-e0a9-e50e24dcca9e',
        characteristic: '6e400003-b5a3-f393-e0a9-e50e24dcca9e',
        codec: 'bool',
        writable: true,
      },
    ],
  },
};

export function profileSpecs(p: GattProfile): Record<string, AttributeSpec> {
  return Object.fromEntries(
    p.points.map((x) => [
      x.attribute,
      {
        type: x.codec === 'bool' ? 'boolean' : 'number',
        unit: x.unit,
        deviceClass: x.deviceClass,
        writable: x.writable ?? false,
        min: x.min,
        max: x.max,
      } satisfies AttributeSpec,
    ]),
  );
}

export function decodeGatt(codec: GattCodec, b: Buffer): AttributeValue | undefined {
  if (codec === 'bool' || codec === 'uint8') {
    if (b.length < 1) return undefined;
    return codec === 'bool' ? b[0] !== 0 : (b[0] as number);
  }
  if (b.length < 2) return undefined;
  return codec === 'uint16le' ? b.readUInt16LE(0) : b.readInt16LE(0) / 100;
}

export function encodeGatt(codec: GattCodec, v: AttributeValue): Buffer | undefined {
  if (codec === 'bool') return typeof v === 'boolean' ? Buffer.from([v ? 1 : 0]) : undefined;
  if (typeof v !== 'number') return undefined;
  const b = Buffer.alloc(codec === 'uint8' ? 1 : 2);
  if (codec === 'uint8') b.writeUInt8(Math.round(v), 0);
  else if (codec === 'uint16le') b.writeUInt16LE(Math.round(v), 0);
  else b.writeInt16LE(Math.round(v * 100), 0);
  return b;
}
