import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBthome } from '../../drivers/ble/bthome.ts';
import { decryptBthome } from '../../drivers/ble/bthomeCrypto.ts';
import { encodeBthome, encryptBthome, type BthomeFields } from '../../firmware-sim/ble/bthomeEncoder.ts';

interface Case {
  name: string;
  hex: string;
  fields?: BthomeFields;
  trigger?: boolean;
  decoded: Record<string, unknown>;
}
const cases = (JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'bthome.json'), 'utf8')) as { cases: Case[] }).cases;
const bytes = (hex: string) => Buffer.from(hex.replace(/ /g, ''), 'hex');
/** JSON has no undefined: the fixture writes packetId null. */
const normalise = (r: object) => JSON.parse(JSON.stringify(r, (_k, v: unknown) => (v === undefined ? null : v))) as unknown;

describe('BTHome v2 golden vectors (both sides)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(normalise(decodeBthome(bytes(c.hex)))).toEqual(c.decoded);
    if (c.fields) expect(encodeBthome(c.fields, c.trigger ?? false)).toEqual(bytes(c.hex));
  });
});

describe('BTHome properties', () => {
  it('decodes whatever the simulated firmware encodes (round trip)', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            packetId: fc.integer({ min: 0, max: 255 }),
            battery: fc.integer({ min: 0, max: 100 }),
            temperature: fc.integer({ min: -32768, max: 32767 }).map((x) => x / 100),
            humidity: fc.integer({ min: 0, max: 10000 }).map((x) => x / 100),
            door: fc.boolean(),
            motion: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
        (fields) => {
          const r = decodeBthome(encodeBthome(fields));
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(r.packetId).toBe(fields.packetId);
          const values = Object.fromEntries(r.readings.map((x) => [x.attribute, x.value]));
          for (const k of ['battery', 'temperature', 'humidity', 'door', 'motion'] as const) expect(values[k]).toBe(fields[k]);
        },
      ),
    );
  });

  it('never throws on arbitrary bytes, and never reads past the end', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (data) => {
        const r = decodeBthome(data);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 5000 },
    );
  });
});

describe('encrypted BTHome v2', () => {
  // the format's encryption example (bthome.io/encryption, and the bthome-ble library's test of it)
  const key = Buffer.from('231d39c1d7cc1ab1aee224cd096db932', 'hex');
  const mac = '54:48:E6:8F:80:A5';
  const sealed = bytes('41 a4 72 66 c9 5f 73 00 11 22 33 b7 ce d8 e5');

  it('decrypts the golden vector: temperature 25.06 °C, humidity 50.55 %, counter 0x33221100', () => {
    const r = decryptBthome(sealed, key, mac);
    expect(r).toMatchObject({ ok: true, counter: 0x33221100 });
    if (!r.ok) return;
    expect(Buffer.from(r.plain).toString('hex')).toBe('4002ca0903bf13');
    const d = decodeBthome(r.plain);
    expect(d.ok && Object.fromEntries(d.readings.map((x) => [x.attribute, x.value]))).toEqual({ temperature: 25.06, humidity: 50.55 });
  });

  it("the simulator's encoder produces the golden vector", () => {
    expect(encryptBthome(bytes('40 02 ca 09 03 bf 13'), key, mac, 0x33221100)).toEqual(sealed);
  });

  it('refuses a wrong key, another MAC, a flipped bit and a short packet, naming why', () => {
    const wrong = Buffer.from('00'.repeat(16), 'hex');
    expect(decryptBthome(sealed, wrong, mac)).toEqual({ ok: false, error: 'BTHome decryption failed: a wrong bindKey, or a forged or altered packet' });
    expect(decryptBthome(sealed, key, '54:48:E6:8F:80:A6').ok).toBe(false);
    const flipped = Buffer.from(sealed);
    flipped[3] = (flipped[3] as number) ^ 0x01;
    expect(decryptBthome(flipped, key, mac).ok).toBe(false);
    expect(decryptBthome(bytes('41 a4 72'), key, mac)).toMatchObject({ ok: false, error: expect.stringMatching(/too short/) });
  });

  it('round-trips whatever the simulator seals', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: -2000, max: 4000 }),
        (k, counter, t) => {
          const plain = encodeBthome({ temperature: t / 100 });
          const r = decryptBthome(encryptBthome(plain, Buffer.from(k), mac, counter), Buffer.from(k), mac);
          expect(r.ok && Buffer.from(r.plain).equals(plain) && r.counter === counter).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the nearby list', () => {
  it('keeps a device listed when one read of it fails, and drops it when BlueZ no longer lists it', async () => {
    const { NearbyList } = await import('../../drivers/ble/nearby.ts');
    const { BTHOME_SERVICE_DATA_UUID } = await import('../../drivers/ble/profiles.ts');
    const list = new NearbyList(5000);
    const heard = {
      address: 'A4:C1:38:00:00:09',
      name: 'ATC',
      rssi: -50,
      serviceData: { [BTHOME_SERVICE_DATA_UUID]: Buffer.from([0x40, 0x02, 0xc4, 0x09]) },
      uuids: [],
    };
    expect(list.due([heard.address], () => false, 0)).toEqual([heard.address]);
    list.heard(heard.address, heard, 0);
    expect(list.due([heard.address], () => false, 1000)).toEqual([]); // not read again within 5 s
    list.heard(heard.address, undefined, 6000); // a read that timed out
    expect(list.get(heard.address)?.name).toBe('ATC');
    list.heard(heard.address, { ...heard, serviceData: {}, uuids: ['0000180a-0000-1000-8000-00805f9b34fb'] }, 12_000); // no longer a sensor we know
    expect(list.get(heard.address)).toBeUndefined();
    list.heard(heard.address, heard, 18_000);
    list.due([], () => false, 19_000); // BlueZ forgot it
    expect(list.list()).toEqual([]);
  });
});
