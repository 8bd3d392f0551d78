import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor } from '../helpers/testGateway.ts';

/**
 * `trellis-fleet demo` as a newcomer runs it: the gateway's demo home and shop (a `trellis start`
 * child) syncing into a fleet on loopback; within a minute the provider's API shows the shop's site
 * online with its granted devices under pseudonyms; Ctrl-C stops both processes.
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
    child = spawn(process.execPath, [BIN, 'demo', '--dir', join(dir, 'data'), '--api-port', String(apiPort), '--broker-port', String(await freePort())], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /dispatcher "dee" password (\S+)/.test(out) && out.includes('is running'), 60_000, 'both ends started');
    expect(out).toContain(`Provider API: http://127.0.0.1:${apiPort}`);
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
    expect(site.devices.some((d) => d.model === 'sim-fridge')).toBe(true);
    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/the gateway exited \(/);
  }, 150_000);
});
