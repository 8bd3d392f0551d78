import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromObject, loadConfigFile, parseConfigText } from '../../gateway/config/load.ts';
import { resolveConfig } from '../../gateway/cli/resolveConfig.ts';
import { isTrellisError } from '../../gateway/errors.ts';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isTrellisError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('config', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('fills every key with a Pi-friendly default', () => {
    const { config } = parseConfigText('', '/etc/trellis/trellis.yaml');
    expect(config).toMatchObject({
      gatewayId: 'trellis',
      dataDir: '/etc/trellis/data',
      mqtt: { host: '0.0.0.0', port: 1883, allowAnonymous: false },
      lan: { host: '0.0.0.0', port: 8080 },
      history: { retentionDays: 30, flushMs: 1000, ackMinBatch: 50, ackMaxWaitMs: 25, lastValuesEveryS: 300 },
      store: { synchronous: 'full' },
      demo: false,
    });
    expect(Object.isFrozen(config.mqtt)).toBe(true);
  });

  it('names the file, line and key path of a wrong value, with what it got', () => {
    const text = ['gatewayId: shop-1', 'mqtt:', '  host: 127.0.0.1', '  port: abc', ''].join('\n');
    expect(errorOf(() => parseConfigText(text, '/x/trellis.yaml'))).toBe('trellis.yaml:4: mqtt.port: expected a number from 1 to 65535, got "abc"');
  });

  it('reports out-of-range numbers the same way', () => {
    const text = ['mqtt:', '  port: 70000'].join('\n');
    expect(errorOf(() => parseConfigText(text, 'trellis.yaml'))).toBe('trellis.yaml:2: mqtt.port: expected a number from 1 to 65535, got 70000');
  });

  it('rejects unknown keys at the line of the key', () => {
    const text = ['gatewayId: home', 'history:', '  retentionDays: 7', '  retentionDayz: 9'].join('\n');
    const message = errorOf(() => parseConfigText(text, 'trellis.yaml'));
    expect(message).toMatch(/^trellis\.yaml:4: history\.retentionDayz: unknown key/);
  });

  it('lists every problem, not just the first', () => {
    const text = ['demo: yes please', 'mqtt:', '  allowAnonymous: 1', 'gatewayId: Not Valid'].join('\n');
    const lines = errorOf(() => parseConfigText(text, 'trellis.yaml')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines).toContain('trellis.yaml:1: demo: expected true or false, got "yes please"');
    expect(lines).toContain('trellis.yaml:3: mqtt.allowAnonymous: expected true or false, got 1');
    expect(lines.some((l) => l.startsWith('trellis.yaml:4: gatewayId: expected lower-case letters'))).toBe(true);
  });

  it('reports YAML syntax errors with their line', () => {
    const message = errorOf(() => parseConfigText('mqtt:\n  port: [1883\n', 'trellis.yaml'));
    expect(message).toMatch(/^trellis\.yaml:\d+: not valid YAML/);
  });

  it('reports a file that cannot be read', () => {
    expect(errorOf(() => loadConfigFile('/nonexistent/trellis.yaml'))).toMatch(/^\/nonexistent\/trellis\.yaml: the config file cannot be read \(ENOENT\)/);
  });

  it('validates in-memory configs too', () => {
    expect(errorOf(() => configFromObject({ mqtt: { port: 0 } }))).toBe('<config>: mqtt.port: expected a number from 1 to 65535, got 0');
  });

  it('finds the config from --config, then TRELLIS_CONFIG, then ./trellis.yaml, else the demo preset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-cfg-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.yaml'), 'gatewayId: from-flag\n');
    writeFileSync(join(dir, 'b.yaml'), 'gatewayId: from-env\n');
    expect(resolveConfig('a.yaml', { TRELLIS_CONFIG: 'b.yaml' }, dir).config.gatewayId).toBe('from-flag');
    expect(resolveConfig(undefined, { TRELLIS_CONFIG: 'b.yaml' }, dir).config.gatewayId).toBe('from-env');
    const demo = resolveConfig(undefined, {}, dir);
    expect(demo.preset).toBe(true);
    expect(demo.config.demo).toBe(true);
    expect(demo.config.mqtt.host).toBe('127.0.0.1');
    writeFileSync(join(dir, 'trellis.yaml'), 'gatewayId: local\n');
    expect(resolveConfig(undefined, {}, dir)).toMatchObject({ preset: false, config: { gatewayId: 'local' } });
  });
});
