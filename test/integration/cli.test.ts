import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, freePort, spawnGateway } from '../helpers/gatewayProcess.ts';
import { connectClient, waitFor } from '../helpers/testGateway.ts';
import { TempDirs } from '../helpers/tempDir.ts';

function trellis(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TRELLIS_CONFIG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('trellis CLI', () => {
  const dirs = new TempDirs();
  afterAll(() => dirs.cleanup());

  it('check-config accepts a valid file and prints the effective settings', () => {
    const dir = dirs.make();
    writeFileSync(join(dir, 'ok.yaml'), 'gatewayId: shop-7\nmqtt:\n  port: 1884\n');
    const r = trellis(['check-config', join(dir, 'ok.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(': OK');
    expect(r.stdout).toContain('"gatewayId": "shop-7"');
  });

  it('check-config names file, line and key of each error and exits 2', () => {
    const dir = dirs.make();
    writeFileSync(join(dir, 'trellis.yaml'), 'gatewayId: shop-7\nmqtt:\n  port: abc\n  colour: blue\n');
    const r = trellis(['check-config', join(dir, 'trellis.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('trellis.yaml:3: mqtt.port: expected a number from 1 to 65535, got "abc"');
    expect(r.stderr).toContain('trellis.yaml:4: mqtt.colour: unknown key');
    expect(r.stderr).not.toContain('    at '); // no stack trace for a user error
  });

  it('adds a device credential while the gateway runs; the device logs in and device list shows it', async () => {
    const dir = dirs.make();
    const port = await freePort();
    const config = join(dir, 'trellis.yaml');
    writeFileSync(config, `dataDir: ./data\nmqtt:\n  host: 127.0.0.1\n  port: ${port}\nlan: {host: 127.0.0.1, port: ${await freePort()}}\n`);
    const gateway = await spawnGateway(config);
    try {
      const added = trellis(['device', 'add', 'boiler', '--config', config]);
      expect(added.code).toBe(0);
      const password = /password:\s+(\S+)/.exec(added.stdout)?.[1];
      expect(password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(trellis(['device', 'list', '--json', '--config', config]).stdout).toContain('"unusedCredentials": [\n    "boiler"');

      const again = trellis(['device', 'add', 'boiler', '--config', config]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already has a credential');

      const client = await connectClient(`mqtt://127.0.0.1:${port}`, { username: 'boiler', password });
      await client.publishAsync('trellis/boiler/state', JSON.stringify({ flow_temperature: 54.5, burner: true }), { qos: 1 });
      const list = await waitFor(
        () => {
          const out = JSON.parse(trellis(['device', 'list', '--json', '--config', config]).stdout) as { devices: Array<Record<string, unknown>> };
          return out.devices.find((d) => d.id === 'boiler' && d.online === true);
        },
        5000,
        'boiler online in device list',
      );
      expect(list).toMatchObject({
        owner: 'boiler',
        attributes: { flow_temperature: { type: 'number', value: 54.5 }, burner: { type: 'boolean', value: true } },
      });
      expect((list.attributes as { burner: { ts: number } }).burner.ts).toBeGreaterThan(Date.now() - 60_000);

      const human = trellis(['device', 'list', '--config', config]).stdout;
      expect(human).toMatch(/boiler {2}"boiler" {2}online/);
      expect(human).toMatch(/flow_temperature +54\.5/);
      await client.endAsync();
    } finally {
      expect(await gateway.stop('SIGTERM')).toBe(0);
    }
  }, 60_000);

  it("check-rules checks a rule file against the gateway's devices, with file:line:column", async () => {
    const dir = dirs.make();
    const port = await freePort();
    const config = join(dir, 'trellis.yaml');
    writeFileSync(
      config,
      `dataDir: ./data\nmqtt:\n  host: 127.0.0.1\n  port: ${port}\nlan: {host: 127.0.0.1, port: ${await freePort()}}\ntimezone: Europe/Berlin\ntariffs:\n  peak: {from: "17:00", to: "21:00"}\n`,
    );
    const gateway = await spawnGateway(config);
    try {
      const password = /password:\s+(\S+)/.exec(trellis(['device', 'add', 'boiler', '--config', config]).stdout)?.[1];
      const client = await connectClient(`mqtt://127.0.0.1:${port}`, { username: 'boiler', password });
      await client.publishAsync(
        'trellis/boiler/config',
        JSON.stringify({ attributes: { relay: { type: 'boolean', writable: true }, temp: { type: 'number' } } }),
        { qos: 1, retain: true },
      );
      await client.endAsync();
    } finally {
      await gateway.stop();
    }
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'rules:\n  - id: peak-off\n    triggers: [{device: boiler, attribute: temp}]\n    conditions: [{tariff: peak}]\n    actions: [{set: {device: boiler, attribute: relay, value: false}}]\n',
    );
    const ok = trellis(['check-rules', good, '--config', config]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('good.yaml: OK, 1 rule');

    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'rules:\n  - id: r\n    triggers: [{device: boiler, attribute: temp, above: hot}]\n    actions: [{set: {device: boiler, attribute: temp, value: 1}}]\n',
    );
    const r1 = trellis(['check-rules', bad, '--config', config]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/^bad\.yaml:3:\d+: rules\.0\.triggers\.0/m);
    writeFileSync(
      bad,
      'rules:\n  - id: r\n    triggers: [{device: boiler, attribute: temp, above: 80}]\n    actions: [{set: {device: boiler, attribute: temp, value: 1}}]\n',
    );
    const r2 = trellis(['check-rules', bad, '--config', config]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^bad\.yaml:4:\d+: boiler\.temp is read-only$/m);
  }, 60_000);

  it("serial list lists the system's serial ports as JSON", () => {
    const r = trellis(['serial', 'list', '--json']);
    expect(r.code).toBe(0);
    const ports = JSON.parse(r.stdout) as Array<{ path: string }>;
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) expect(p.path).toMatch(/^\/dev\//);
  });

  it('device list explains what to do when there is no database yet', () => {
    const dir = dirs.make();
    writeFileSync(join(dir, 'trellis.yaml'), 'dataDir: ./nothing-here\n');
    const r = trellis(['device', 'list', '--config', join(dir, 'trellis.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('start the gateway once');
  });

  it('with no config starts the demo home and shop and says where things are', async () => {
    const dir = dirs.make();
    const child = spawn(process.execPath, [BIN, 'start'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRELLIS_CONFIG: '' } });
    let err = '';
    let out = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor(() => err.includes('Ctrl-C stops the gateway'), 20_000, 'demo banner');
      expect(err).toMatch(/MQTT broker: {2}mqtt:\/\/127\.0\.0\.1:\d+/);
      expect(err).toContain('Demo: a home');
      expect(err).toMatch(/phone UI: {5}http:\/\/127\.0\.0\.1:\d+/);
      await waitFor(() => /open http:\/\/127\.0\.0\.1:\d+\/#\/pair\?code=[0-9A-Z]{4}-[0-9A-Z]{4}/.test(err), 5000, 'the pairing link');
      expect(err).toContain('npx trellis device list');
      const listed = await waitFor(
        () => {
          const r = trellis(['device', 'list', '--json'], dir);
          if (r.code !== 0) return undefined;
          const out = JSON.parse(r.stdout) as { devices: Array<{ id: string; online: boolean }> };
          const online = new Set(out.devices.filter((d) => d.online).map((d) => d.id));
          const expected = ['shop-fridge-controller', 'shop-energy-meter', 'home-climate', 'home-fridge-logger'];
          return online.size >= 15 && expected.every((id) => online.has(id)) ? out.devices : undefined;
        },
        20_000,
        'the demo devices online, serial and BLE ones included',
      );
      expect(listed.map((d) => d.id)).toEqual(
        expect.arrayContaining(['home-thermostat', 'shop-coffee-1', 'shop-fridge-dairy', 'zigbee2mqtt_home-lamp', 'shop-buzzer']),
      );
      // the sample rules are written once the devices are known, and activated by the file watcher
      const active = await waitFor(() => out.split('\n').find((l) => l.includes('"msg":"rules active"')), 10_000, 'sample rules active');
      expect(JSON.parse(active)).toMatchObject({ rules: 6 });
      expect(trellis(['check-rules', join(dir, 'trellis-demo-data', 'rules.yaml')], dir).code).toBe(0);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
