import { createCipheriv } from 'node:crypto';
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

/**
 * A sensor's encrypted advertisement (BTHome v2 encryption, as Shelly BLU devices send it): the
 * objects of `plain` (unencrypted service data) sealed with AES-128-CCM under the bind key, nonce
 * MAC + 0xFCD2 + device info + counter, then the counter and the 4-byte MIC.
 */
export function encryptBthome(plain: Buffer, key: Buffer, address: string, counter: number): Buffer {
  const info = (plain[0] as number) | 0x01;
  const counterBytes = Buffer.alloc(4);
  counterBytes.writeUInt32LE(counter >>> 0);
  const nonce = Buffer.concat([Buffer.from(address.replace(/:/g, ''), 'hex'), Buffer.from([0xd2, 0xfc, info]), counterBytes]);
  const objects = plain.subarray(1);
  const c = createCipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 });
  c.setAAD(Buffer.from([0x11]), { plaintextLength: objects.length });
  const sealed = Buffer.concat([c.update(objects), c.final()]);
  return Buffer.concat([Buffer.from([info]), sealed, counterBytes, c.getAuthTag()]);
}
