import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';

/**
 * `trellis-fleet demo` as a newcomer runs it: the gateway's demo home and shop (a `trellis start`
 * child) syncing into a fleet on loopback; within a minute the provider's console answers and its API
 * shows the shop's site online with its granted devices under pseudonyms; the replayed first hours
 * bring usage buckets and maintenance signals within minutes; Ctrl-C stops both processes.
 */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'trellis-fleet.mjs');
const dirs = new TempDirs();
let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  dirs.cleanup();
});

describe('trellis-fleet demo', () => {
  it('starts both ends, shows the demo shop in the provider API with its devices, and stops both on SIGINT', async () => {
    const dir = dirs.make('trellis-fleet-demo-');
    const apiPort = await freePort();
    const args = ['demo', '--dir', join(dir, 'data'), '--api-port', String(apiPort), '--broker-port', String(await freePort()), '--speed', '120'];
    child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /dispatcher "dee" password (\S+)/.test(out) && out.includes('is running'), 60_000, 'both ends started');
    expect(out).toContain(`Provider console: http://127.0.0.1:${apiPort}/`);
    expect(out).toMatch(/replays the last 6 hours 120 times faster/);
    const page = await fetch(`http://127.0.0.1:${apiPort}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<title>Trellis Fleet</title>');
    const password = /dispatcher "dee" password (\S+)/.exec(out)?.[1];
    const api = `http://127.0.0.1:${apiPort}`;
    const login = await fetch(`${api}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dee', password }),
    });
    const { token } = (await login.json()) as { token: string };
    const site = await waitFor(
      async () => {
        const r = await fetch(`${api}/api/sites/demo-shop`, { headers: { authorization: `Bearer ${token}` } });
        if (r.status !== 200) return undefined;
        const body = (await r.json()) as { site: { state: string }; devices: Array<{ deviceRef: string; model: string | null }> };
        return body.site.state === 'online' && body.devices.length >= 11 ? body : undefined;
      },
      60_000,
      "the demo shop's devices in the fleet",
    );
    expect(site.devices.every((d) => /^d-[a-z2-7]{20}$/.test(d.deviceRef))).toBe(true);
    const fridge = site.devices.find((d) => d.model === 'sim-fridge');
    expect(fridge).toBeDefined();

    // the replayed hours: usage buckets and a fridge's maintenance signals within a minute or two
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const month = new Date().toISOString().slice(0, 7);
    const usage = await waitFor(
      async () => {
        const rows = (await (await fetch(`${api}/api/usage?month=${month}&gatewayId=demo-shop`, auth)).json()) as Array<{
          deviceRef: string;
          energyKWh: number;
          hoursCovered: number;
        }>;
        // buckets arrive hour by hour and device by device: the first three may all be sensors' (no energy)
        return rows.filter((r) => r.hoursCovered > 0).length >= 3 && rows.some((r) => r.energyKWh > 0) ? rows : undefined;
      },
      120_000,
      "the demo shop's usage buckets, some with energy",
    );
    expect(usage.filter((r) => r.hoursCovered > 0).length).toBeGreaterThanOrEqual(3);
    const signals = await waitFor(
      async () => {
        const d = (await (await fetch(`${api}/api/sites/demo-shop/devices/${fridge?.deviceRef}`, auth)).json()) as {
          signals: Array<{ signal: string; at: number; words: string }>;
        };
        return d.signals.some((s) => s.signal === 'duty_cycle') ? d.signals : undefined;
      },
      60_000,
      "a fridge's maintenance signals",
    );
    expect(signals.every((s) => s.at <= Date.now())).toBe(true); // replayed, never ahead of now
    expect(signals.find((s) => s.signal === 'duty_cycle')?.words).toMatch(/^Compressor running \d+% of the hour/);
    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/the gateway exited \(/);
  }, 300_000);
});
