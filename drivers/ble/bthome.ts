/**
 * BTHome v2 advertisement decoding [https://bthome.io/format]: service data for UUID 0xFCD2 is one
 * device-information byte (bit 0 encryption, bit 2 trigger-based device, bits 5-7 version = 2) followed
 * by objects: an object id and a little-endian value of a length fixed by the id. An unknown id ends
 * parsing (its length is unknowable), and is reported, never thrown.
 */
export const BTHOME_UUID = 0xfcd2;

type Kind = 'numeric' | 'binary' | 'button' | 'dimmer';
interface ObjectType {
  readonly name: string;
  readonly bytes: number;
  readonly kind: Kind;
  readonly signed?: boolean;
  readonly decimals?: number;
  readonly unit?: string;
}

const n = (name: string, bytes: number, decimals = 0, unit?: string, signed = false): ObjectType => ({ name, bytes, kind: 'numeric', decimals, unit, signed });
const b = (name: string): ObjectType => ({ name, bytes: 1, kind: 'binary' });

/** The object table (BTHome v2 format page), as data. */
export const OBJECTS: ReadonlyMap<number, ObjectType> = new Map<number, ObjectType>([
  [0x00, n('packet_id', 1)],
  [0x01, n('battery', 1, 0, '%')],
  [0x02, n('temperature', 2, 2, '°C', true)],
  [0x03, n('humidity', 2, 2, '%')],
  [0x04, n('pressure', 3, 2, 'hPa')],
  [0x05, n('illuminance', 3, 2, 'lx')],
  [0x06, n('mass', 2, 2, 'kg')],
  [0x08, n('dewpoint', 2, 2, '°C', true)],
  [0x09, n('count', 1)],
  [0x0a, n('energy', 3, 3, 'kWh')],
  [0x0b, n('power', 3, 2, 'W')],
  [0x0c, n('voltage', 2, 3, 'V')],
  [0x0d, n('pm2_5', 2, 0, 'µg/m³')],
  [0x0e, n('pm10', 2, 0, 'µg/m³')],
  [0x0f, b('generic_boolean')],
  [0x10, b('power_on')],
  [0x11, b('opening')],
  [0x12, n('co2', 2, 0, 'ppm')],
  [0x13, n('tvoc', 2, 0, 'µg/m³')],
  [0x14, n('moisture', 2, 2, '%')],
  [0x15, b('battery_low')],
  [0x16, b('battery_charging')],
  [0x17, b('carbon_monoxide')],
  [0x18, b('cold')],
  [0x19, b('connectivity')],
  [0x1a, b('door')],
  [0x1b, b('garage_door')],
  [0x1c, b('gas_detected')],
  [0x1d, b('heat')],
  [0x1e, b('light')],
  [0x1f, b('lock')],
  [0x20, b('moisture_detected')],
  [0x21, b('motion')],
  [0x22, b('moving')],
  [0x23, b('occupancy')],
  [0x24, b('plug')],
  [0x25, b('presence')],
  [0x26, b('problem')],
  [0x27, b('running')],
  [0x28, b('safety')],
  [0x29, b('smoke')],
  [0x2a, b('sound')],
  [0x2b, b('tamper')],
  [0x2c, b('vibration')],
  [0x2d, b('window')],
  [0x2e, n('humidity', 1, 0, '%')],
  [0x2f, n('moisture', 1, 0, '%')],
  [0x3a, { name: 'button', bytes: 1, kind: 'button' }],
  [0x3c, { name: 'dimmer', bytes: 2, kind: 'dimmer' }],
  [0x3d, n('count', 2)],
  [0x3e, n('count', 4)],
  [0x3f, n('rotation', 2, 1, '°', true)],
  [0x40, n('distance', 2, 0, 'mm')],
  [0x41, n('distance', 2, 1, 'm')],
  [0x42, n('duration', 3, 3, 's')],
  [0x43, n('current', 2, 3, 'A')],
  [0x44, n('speed', 2, 2, 'm/s')],
  [0x45, n('temperature', 2, 1, '°C', true)],
  [0x46, n('uv_index', 1, 1)],
  [0x47, n('volume', 2, 1, 'L')],
  [0x48, n('volume', 2, 0, 'mL')],
  [0x49, n('volume_flow_rate', 2, 3, 'm³/h')],
  [0x4a, n('voltage', 2, 1, 'V')],
  [0x4b, n('gas', 3, 3, 'm³')],
  [0x4c, n('gas', 4, 3, 'm³')],
  [0x4d, n('energy', 4, 3, 'kWh')],
  [0x4e, n('volume', 4, 3, 'L')],
  [0x4f, n('water', 4, 3, 'L')],
  [0x50, n('timestamp', 4)],
  [0x51, n('acceleration', 2, 3, 'm/s²')],
  [0x52, n('gyroscope', 2, 3, '°/s')],
  [0xf0, n('device_type', 2)],
  [0xf1, n('firmware_version', 4)],
  [0xf2, n('firmware_version', 3)],
]);

const BUTTON_EVENTS: Readonly<Record<number, string>> = {
  1: 'press',
  2: 'double_press',
  3: 'triple_press',
  4: 'long_press',
  5: 'long_double_press',
  6: 'long_triple_press',
  0x80: 'hold_press',
};

export interface BthomeReading {
  readonly attribute: string;
  readonly value: number | boolean;
  readonly unit?: string | undefined;
}

export interface BthomeEvent {
  readonly button: string;
  readonly action: string;
}

export type BthomeResult =
  | { ok: true; packetId: number | undefined; trigger: boolean; readings: BthomeReading[]; events: BthomeEvent[]; unknownObject?: number; truncated?: boolean }
  | { ok: false; error: string };

export function decodeBthome(data: Uint8Array): BthomeResult {
  if (data.length < 1) return { ok: false, error: 'empty service data' };
  const info = data[0] as number;
  const version = info >> 5;
  if (version !== 2) return { ok: false, error: `BTHome version ${version} (only v2 is read)` };
  if (info & 0x01) return { ok: false, error: 'encrypted BTHome payload, and no bindKey is configured for the device' };
  const readings: BthomeReading[] = [];
  const events: BthomeEvent[] = [];
  const seen = new Map<string, number>();
  const named = (base: string) => {
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base}_${count}`; // a second button, a second temperature...
  };
  let packetId: number | undefined;
  let i = 1;
  while (i < data.length) {
    const id = data[i] as number;
    const type = OBJECTS.get(id);
    if (!type) return { ok: true, packetId, trigger: (info & 0x04) !== 0, readings, events, unknownObject: id };
    if (i + 1 + type.bytes > data.length) return { ok: true, packetId, trigger: (info & 0x04) !== 0, readings, events, truncated: true };
    const raw = readUint(data, i + 1, type.bytes);
    i += 1 + type.bytes;
    if (type.kind === 'button') {
      const name = named('button');
      const action = BUTTON_EVENTS[raw];
      if (action) events.push({ button: name, action });
    } else if (type.kind === 'dimmer') {
      const name = named('dimmer');
      const kind = raw & 0xff;
      if (kind === 1 || kind === 2) events.push({ button: name, action: `${kind === 1 ? 'rotate_left' : 'rotate_right'}_${raw >> 8}` });
    } else if (type.kind === 'binary') {
      readings.push({ attribute: named(type.name), value: raw !== 0 });
    } else if (id === 0x00) {
      packetId = raw;
    } else {
      const signed = type.signed && raw >= 2 ** (type.bytes * 8 - 1) ? raw - 2 ** (type.bytes * 8) : raw;
      const value = type.decimals ? Number((signed / 10 ** type.decimals).toFixed(type.decimals)) : signed;
      readings.push({ attribute: named(type.name), value, unit: type.unit });
    }
  }
  return { ok: true, packetId, trigger: (info & 0x04) !== 0, readings, events };
}

function readUint(data: Uint8Array, at: number, bytes: number): number {
  let v = 0;
  for (let k = bytes - 1; k >= 0; k--) v = v * 256 + (data[at + k] as number);
  return v;
}
