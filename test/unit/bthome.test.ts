import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBthome } from '../../drivers/ble/bthome.ts';
import { encodeBthome, type BthomeFields } from '../../firmware-sim/ble/bthomeEncoder.ts';

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
