import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../../../protocol/index.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'docs', 'schemas');

describe('cloud payload JSON Schemas (docs/schemas)', () => {
  it('are exactly what the zod types generate (run `npm run schemas` after changing them)', () => {
    const generated = jsonSchemas();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(generated).sort());
    for (const [name, text] of Object.entries(generated)) expect(readFileSync(join(dir, name), 'utf8'), name).toBe(text);
  });

  it('are valid JSON Schema 2020-12 that reject a payload with a wrong field', () => {
    const ajv = new Ajv2020({ strict: false });
    const usage = ajv.compile(JSON.parse(readFileSync(join(dir, 'usage.json'), 'utf8')) as object);
    const good = {
      v: 1,
      key: 'gw:1',
      seq: 1,
      gatewayId: 'gw',
      type: 'usage',
      at: 1,
      data: {
        deviceId: 'd',
        start: 0,
        end: 3_600_000,
        localStart: '1970-01-01T00:00+00:00',
        metrics: { e: { role: 'energy', unit: 'Wh', delta: 1, resets: 0, rollovers: 0, samples: 2 } },
        gaps: [],
        offlineSeconds: 0,
        bucketSeq: 1,
      },
    };
    expect(usage(good)).toBe(true);
    expect(usage({ ...good, data: { ...good.data, metrics: { e: { role: 'energy', unit: 'kWh', delta: 1, resets: 0, rollovers: 0, samples: 2 } } } })).toBe(
      false,
    );
    expect(usage({ ...good, seq: 0 })).toBe(false);
  });
});
