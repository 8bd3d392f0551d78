/**
 * BTHome v2 encoding for simulated sensors, written from the format page independently of the
 * gateway's decoder: objects in ascending id order, values little-endian, after the device-info byte
 * 0x40 (version 2, unencrypted; 0x44 for trigger-based devices such as buttons).
 */
export interface BthomeFields {
  packetId?: number;
  battery?: number;
  /** °C, 0.01 resolution */
  temperature?: number;
  /** %, 0.01 resolution */
  humidity?: number;
  /** lux, 0.01 resolution */
  illuminance?: number;
  door?: boolean;
  motion?: boolean;
  window?: boolean;
  /** 1 press, 2 double, 3 triple, 4 long, ... */
  button?: number;
}

function le(value: number, bytes: number): number[] {
  let v = value < 0 ? value + 2 ** (bytes * 8) : value;
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(v % 256);
    v = Math.floor(v / 256);
  }
  return out;
}

export function encodeBthome(f: BthomeFields, triggerBased = false): Buffer {
  const out: number[] = [triggerBased ? 0x44 : 0x40];
  if (f.packetId !== undefined) out.push(0x00, ...le(f.packetId & 0xff, 1));
  if (f.battery !== undefined) out.push(0x01, ...le(Math.round(f.battery), 1));
  if (f.temperature !== undefined) out.push(0x02, ...le(Math.round(f.temperature * 100), 2));
  if (f.humidity !== undefined) out.push(0x03, ...le(Math.round(f.humidity * 100), 2));
  if (f.illuminance !== undefined) out.push(0x05, ...le(Math.round(f.illuminance * 100), 3));
  if (f.door !== undefined) out.push(0x1a, f.door ? 1 : 0);
  if (f.motion !== undefined) out.push(0x21, f.motion ? 1 : 0);
  if (f.window !== undefined) out.push(0x2d, f.window ? 1 : 0);
  if (f.button !== undefined) out.push(0x3a, f.button);
  return Buffer.from(out);
}
