import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/gatewayProcess.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/** The `trellis-fleet` command as an operator runs it: config checks, one-shot commands on PGlite, and `start`. */
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'trellis-fleet.mjs');
const dirs = new TempDirs();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  dirs.cleanup();
});

function fleet(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, TRELLIS_FLEET_CONFIG: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function config(dir: string): Promise<string> {
  const file = join(dir, 'trellis-fleet.yaml');
  writeFileSync(
    file,
    `provider: coolco\ndataDir: ./data\nbroker: {embedded: {host: 127.0.0.1, port: ${await freePort()}}}\napi: {host: 127.0.0.1, port: ${await freePort()}}\n`,
  );
  return file;
}

describe('trellis-fleet CLI', () => {
  it('check-config prints the effective settings, and names the file and key of an error', async () => {
    const dir = dirs.make('trellis-fleet-cli-');
    await config(dir);
    const ok = fleet(['check-config'], dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('"provider": "coolco"');
    expect(JSON.parse(ok.stdout.slice(ok.stdout.indexOf('{'))).maintenance).toEqual({
      ticket: { threshold: 4, days: 2, etaDays: 0, warmth: 2, load: 1.2, chance: 0.8, urgentWarmth: 5 },
    });
    writeFileSync(
      join(dir, 'bad.yaml'),
      'provider: "no spaces allowed"\nbroker: {embedded: {host: 0.0.0.0, tls: false}}\napi: {colour: blue}\nmaintenance: {ticket: {days: 0}}\n',
    );
    const bad = fleet(['check-config', '-c', 'bad.yaml'], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.yaml: provider: expected letters, digits');
    expect(bad.stderr).toMatch(/bad\.yaml: api: Unrecognized key/i);
    expect(bad.stderr).toMatch(/bad\.yaml: maintenance\.ticket\.days: .*>=1/);
    expect(bad.stderr).not.toContain('    at ');
  });

  it('adds people and gateways, lists sites, alarms and tickets, exports a month; and start serves the API on PGlite, refusing a second opener', async () => {
    const dir = dirs.make('trellis-fleet-cli-');
    await config(dir);
    const added = fleet(['user', 'add', 'dee', '--role', 'dispatcher'], dir);
    expect(added.code).toBe(0);
    const password = /password (\S+) \(shown once\)/.exec(added.stdout)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(fleet(['user', 'add', 'dee', '--role', 'dispatcher'], dir).stderr).toContain('user "dee" exists already');
    expect(fleet(['user', 'add', 'x', '--role', 'boss'], dir).stderr).toContain('--role: expected one of admin, dispatcher, technician, billing');
    const gw = fleet(['gateway', 'add', 'shop-7'], dir);
    expect(gw.code).toBe(0);
    expect(gw.stdout).toContain('username: shop-7');
    expect(readFileSync(join(dir, 'shop-7.cloud-password'), 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(fleet(['site', 'list'], dir).stdout.trim()).toBe('(none)');
    expect(fleet(['alarms'], dir).stdout.trim()).toBe('(none)');
    expect(fleet(['tickets', '--state', 'open'], dir).stdout.trim()).toBe('(none)');
    const csv = fleet(['usage', 'export', '--month', '2026-11'], dir);
    expect(csv.stdout.trim()).toMatch(/^month,site,customer,device,model,time_zone,energy_kwh,[a-z_,]+gaps$/); // no usage yet: the header only
    expect(fleet(['usage', 'export', '--month', 'November'], dir).stderr).toContain('--month: expected YYYY-MM');

    const child = spawn(process.execPath, [BIN, 'start'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRELLIS_FLEET_CONFIG: '' } });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start:\n${out}`)), 30_000);
      const check = () => {
        const m = /API (http:\/\/\S+) \(/.exec(out);
        if (m?.[1] && out.includes('Gateways connect')) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout?.on('data', check);
    });
    expect(out).toContain('pglite database');
    expect(out).toContain('Gateways connect to mqtts://127.0.0.1:');
    expect(out).not.toContain('First start'); // dee exists: no admin is made
    const login = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'dee', password }),
    });
    expect(login.status).toBe(200);
    const busy = fleet(['site', 'list'], dir);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/is open in process \d+ \(trellis-fleet start\?\)/);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'data', 'pglite.lock'))).toBe(false);
    expect(fleet(['site', 'list'], dir).code).toBe(0);
  }, 90_000);
});
