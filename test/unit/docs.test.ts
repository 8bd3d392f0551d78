import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../gateway/config/load.ts';
import { configSchema } from '../../gateway/config/schema.ts';
import { ErrorCodes } from '../../gateway/errors.ts';
import { GATEWAY_NODE_FLAGS } from '../../gateway/runtimeFlags.ts';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('documentation stays true to the code', () => {
  it('lists every error code in the README table, and no code that does not exist', () => {
    const documented = new Set([...readme.matchAll(/`(TRELLIS_E_[A-Z_]+)`/g)].map((m) => m[1]));
    expect([...documented].sort()).toEqual(Object.values(ErrorCodes).sort());
  });

  it('documents every config key in the README', () => {
    const keys: string[] = [];
    for (const [key, schema] of Object.entries(configSchema.shape)) {
      const inner = (schema as unknown as { def: { innerType?: { shape?: Record<string, unknown> } } }).def.innerType?.shape;
      if (inner) for (const sub of Object.keys(inner)) keys.push(`${key}.${sub}`);
      else keys.push(key);
    }
    for (const key of keys) expect(readme, key).toContain(`\`${key}\``);
  });

  it('runs the gateway with the same Node flags everywhere it is launched', () => {
    const flags = GATEWAY_NODE_FLAGS.join(' ');
    expect(readFileSync(join(root, 'bin', 'trellis.mjs'), 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
    expect(readFileSync(join(root, 'deploy', 'trellis.service'), 'utf8')).toContain(`ExecStart=/usr/bin/node ${flags} /opt/trellis/bin/trellis.mjs start`);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${flags} bin/trellis.mjs start`);
  });

  it('ships a Pi config that passes check-config', () => {
    const { config } = loadConfigFile(join(root, 'deploy', 'trellis.yaml'));
    expect(config.dataDir).toBe('/var/lib/trellis');
    expect(config.mqtt.allowAnonymous).toBe(false);
  });
});
