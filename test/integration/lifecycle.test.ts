import { readdirSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { configFromObject } from '../../gateway/config/load.ts';
import { Gateway } from '../../gateway/gateway.ts';
import { connectClient } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

const openFds = () => readdirSync('/proc/self/fd').length;

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('gateway lifecycle', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it('starts and stops 100 times in one process and leaks no socket, timer or file handle', async () => {
    const dir = dirs.make();
    const base = configFromObject({ dataDir: dir, mqtt: { host: '127.0.0.1' }, store: { synchronous: 'normal' } }).config;
    const config = { ...base, mqtt: { ...base.mqtt, port: 0 } };
    const logger = pino({ level: 'silent' });

    // One warm-up round loads modules and native bindings (argon2, sqlite) that stay loaded.
    const warm = new Gateway({ config, logger });
    const password = await (await warm.start()).credentials.create('dev-1');
    await warm.stop();
    await settle();
    const fdsBefore = openFds();
    const resourcesBefore = resources();

    for (let round = 0; round < 100; round++) {
      const gateway = new Gateway({ config, logger });
      const running = await gateway.start();
      await gateway.start(); // idempotent
      const client = await connectClient(`mqtt://127.0.0.1:${running.mqttAddress.port}`, { username: 'dev-1', password, clientId: 'dev-1' });
      await client.publishAsync('trellis/dev-1/state', JSON.stringify({ round }), { qos: 1 });
      expect(running.hub.state.get('dev-1', 'round')).toBe(round);
      await client.endAsync();
      await gateway.stop();
      await gateway.stop(); // idempotent
    }
    await settle();

    // A leak of one handle per round would show as +100; transient timers of the test runner may
    // come and go, so no kind of resource may have grown.
    expect(openFds()).toBeLessThanOrEqual(fdsBefore);
    const after = resources();
    for (const [kind, n] of Object.entries(after)) expect(n, kind).toBeLessThanOrEqual(resourcesBefore[kind] ?? 0);
  }, 120_000);

  it('keeps what it stored across restarts', async () => {
    const dir = dirs.make();
    const base = configFromObject({ dataDir: dir, mqtt: { host: '127.0.0.1' } }).config;
    const config = { ...base, mqtt: { ...base.mqtt, port: 0 } };
    const logger = pino({ level: 'silent' });
    const first = new Gateway({ config, logger });
    const running = await first.start();
    const password = await running.credentials.create('dev-2');
    const client = await connectClient(`mqtt://127.0.0.1:${running.mqttAddress.port}`, { username: 'dev-2', password });
    await client.publishAsync(
      'trellis/dev-2/config',
      JSON.stringify({ name: 'Boiler', attributes: { setpoint: { type: 'number', writable: true, min: 30, max: 80 } } }),
      { qos: 1, retain: true },
    );
    await client.publishAsync('trellis/dev-2/state', JSON.stringify({ setpoint: 55 }), { qos: 1 });
    await client.endAsync();
    await first.stop();

    const second = new Gateway({ config, logger });
    const again = await second.start();
    try {
      expect(again.registry.get('dev-2')).toMatchObject({ name: 'Boiler', attributes: { setpoint: { writable: true, max: 80 } } });
      expect(again.hub.state.get('dev-2', 'setpoint')).toBe(55);
      expect(again.hub.state.isOnline('dev-2')).toBe(false);
      // The driver remembers the retained config, so commands route without the device re-announcing.
      const device = await connectClient(`mqtt://127.0.0.1:${again.mqttAddress.port}`, { username: 'dev-2', password });
      const got = new Promise<string>((resolve) => device.on('message', (_t, p) => resolve(p.toString())));
      await device.subscribeAsync('trellis/dev-2/set', { qos: 1 });
      await again.hub.command({ deviceId: 'dev-2', attribute: 'setpoint', value: 60 });
      expect(JSON.parse(await got)).toEqual({ setpoint: 60 });
      await device.endAsync();
    } finally {
      await second.stop();
    }
  });
});
