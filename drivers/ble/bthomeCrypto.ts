import { createDecipheriv } from 'node:crypto';
import { BTHOME_UUID } from './bthome.ts';

/** Encrypted service data: device info, ciphertext, a 4-byte counter, a 4-byte MIC. */
const TRAILER = 8;
/** The associated data BTHome v2's reference implementation authenticates (one byte, 0x11). */
const AAD = Buffer.from([0x11]);

export type Decrypted = { ok: true; plain: Uint8Array; counter: number } | { ok: false; error: string };

/** `A4:C1:38:12:34:56` -> its six bytes, most significant first (as the nonce takes them). */
export function macBytes(address: string): Buffer {
  return Buffer.from(address.replace(/:/g, ''), 'hex');
}

/**
 * Decrypts BTHome v2 encrypted service data [https://bthome.io/encryption]: AES-128-CCM with the
 * device's bind key, a 4-byte MIC, and the nonce MAC address + UUID 0xFCD2 (little-endian) + device
 * info + counter. Returns the plaintext as unencrypted service data (the device-info byte with the
 * encryption bit cleared, then the objects) and the counter, for replay checks. A wrong key or a
 * forged or altered packet fails the MIC.
 */
export function decryptBthome(data: Uint8Array, key: Buffer, address: string): Decrypted {
  if (data.length < 1 + TRAILER + 1) return { ok: false, error: `encrypted BTHome payload of ${data.length} bytes is too short` };
  const info = data[0] as number;
  const bytes = Buffer.from(data);
  const cipher = bytes.subarray(1, bytes.length - TRAILER);
  const counterBytes = bytes.subarray(bytes.length - TRAILER, bytes.length - 4);
  const mic = bytes.subarray(bytes.length - 4);
  const uuid = Buffer.from([BTHOME_UUID & 0xff, BTHOME_UUID >> 8]);
  const nonce = Buffer.concat([macBytes(address), uuid, Buffer.from([info]), counterBytes]);
  try {
    const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 });
    d.setAuthTag(mic);
    d.setAAD(AAD, { plaintextLength: cipher.length });
    const objects = Buffer.concat([d.update(cipher), d.final()]);
    return { ok: true, plain: Buffer.concat([Buffer.from([info & ~0x01]), objects]), counter: counterBytes.readUInt32LE(0) };
  } catch {
    return { ok: false, error: 'BTHome decryption failed: a wrong bindKey, or a forged or altered packet' };
  }
}
