import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FridgeFirmware, fridgeFirmware } from '../fleet/fridgeFirmware.ts';
import { launchChromium } from '../helpers/browser.ts';
import { BIN, freePort, type GatewayProcess, spawnGateway } from '../helpers/gatewayProcess.ts';
import { startPostgres, type TempPostgres } from '../helpers/postgres.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { waitFor, within } from '../helpers/testGateway.ts';

/**
 * The console against real processes, set up the way the README tells a provider and an owner to:
 * `trellis-fleet start` on PostgreSQL 15 with its embedded TLS broker, people and the gateway's
 * account made with the `trellis-fleet` CLI; `trellis start` with a device credential and a grant made
 * with the `trellis` CLI; a fridge's firmware on the gateway's MQTT port. A door held open on the
 * gateway reaches the dispatcher's screen live as an alarm with its ticket; she assigns it; the
 * technician resolves it on a phone; the admin's audit page says who did what. Screenshots go to
 * test-artifacts/console/.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');
const FLEET_BIN = join(import.meta.dirname, '..', '..', 'bin', 'trellis-fleet.mjs');
const PASSWORD = 'a long enough password';
const dirs = new TempDirs();
let pg: TempPostgres;
let fleet: ChildProcess;
let fleetOut = '';
let apiUrl: string;
let adminPassword: string;
let gateway: GatewayProcess;
let fridge: FridgeFirmware;
let browser: Browser;

const run = (bin: string, args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: o.cwd, env: { ...process.env, ...o.env }, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')}: ${r.error?.message ?? ''} ${r.stderr || r.stdout}`);
  return r.stdout;
};

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  pg = await within(60_000, 'PostgreSQL 15 starting', startPostgres());
  const dir = dirs.make('trellis-console-processes-');
  const [apiPort, brokerPort, mqttPort, tlsPort, lanPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const fleetConfig = join(dir, 'trellis-fleet.yaml');
  writeFileSync(
    fleetConfig,
    `provider: coolco
dataDir: ${join(dir, 'fleet-data')}
database: {url: "${pg.url}"}
broker: {embedded: {host: 127.0.0.1, port: ${brokerPort}, tls: true}}
api: {host: 127.0.0.1, port: ${apiPort}}
checks: {everySeconds: 0.5}
tickets:
  autoOpen: [{code: rule.fridge-door-open, title: Check the fridge door, priority: high}]
`,
  );
  fleet = spawn(process.execPath, [FLEET_BIN, 'start', '--config', fleetConfig], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TRELLIS_FLEET_LOG: 'warn' },
  });
  fleet.stdout?.on('data', (d: Buffer) => (fleetOut += d.toString()));
  fleet.stderr?.on('data', (d: Buffer) => (fleetOut += d.toString()));
  adminPassword = (await waitFor(() => /user "admin", password (\S+)/.exec(fleetOut), 30_000, `trellis-fleet start:\n${fleetOut}`))[1] as string;
  apiUrl = `http://127.0.0.1:${apiPort}`;
  expect(fleetOut).toContain('postgres database');
  for (const [name, role] of [
    ['dee', 'dispatcher'],
    ['tess', 'technician'],
  ])
    run(FLEET_BIN, ['user', 'add', name as string, '--role', role as string, '--config', fleetConfig], { env: { TRELLIS_FLEET_PASSWORD: PASSWORD } });
  run(FLEET_BIN, ['gateway', 'add', 'gw-1', '--config', fleetConfig], { cwd: dir });

  const gwConfig = join(dir, 'trellis.yaml');
  writeFileSync(
    join(dir, 'rules.yaml'),
    'rules:\n  - id: fridge-door-open\n    triggers: [{device: shop-fridge, attribute: door, to: true, for: 1s}]\n    actions: [{notify: {message: "Shop fridge door held open", severity: warning, device: shop-fridge}}]\n',
  );
  writeFileSync(
    gwConfig,
    `gatewayId: gw-1
dataDir: ${join(dir, 'gateway-data')}
rules: {file: ${join(dir, 'rules.yaml')}}
mqtt: {host: 127.0.0.1, port: ${mqttPort}, tlsPort: ${tlsPort}}
lan: {host: 127.0.0.1, port: ${lanPort}}
cloud: {url: "mqtts://127.0.0.1:${brokerPort}", username: gw-1, passwordFile: ${join(dir, 'gw-1.cloud-password')}, ca: ${join(dir, 'fleet-data', 'broker-tls', 'cert.pem')}, protocol: 4, backoffMinMs: 100}
`,
  );
  const fridgePassword = /password:\s+(\S+)/.exec(run(BIN, ['device', 'add', 'shop-fridge', '--config', gwConfig]))?.[1] as string;
  run(BIN, ['grant', 'add', '--provider', 'coolco', '--devices', 'shop-fridge', '--classes', 'usage,alerts,maintenance,health', '--config', gwConfig]);
  gateway = await spawnGateway(gwConfig, 30_000);
  fridge = await within(20_000, "the fridge's firmware connecting and announcing itself", fridgeFirmware(`mqtt://127.0.0.1:${gateway.port}`, fridgePassword));
  browser = await within(60_000, 'Chromium starting', launchChromium());
}, 180_000); // above the steps' own deadlines, so a slow step fails by its name

afterAll(async () => {
  await browser?.close();
  await fridge?.client.endAsync();
  await gateway?.stop();
  if (fleet && fleet.exitCode === null) {
    const exited = new Promise((r) => fleet.once('exit', r));
    fleet.kill('SIGTERM');
    await exited;
  }
  pg?.stop();
  dirs.cleanup();
});

describe('the console against trellis-fleet and trellis processes on PostgreSQL', () => {
  it('shows a door held open as a live alarm with its ticket; assigned, resolved on a phone, and audited', async () => {
    const desk = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    desk.on('pageerror', (err) => console.error('page error:', err.message));
    await desk.goto(`${apiUrl}/`);
    await desk.fill('#name', 'dee');
    await desk.fill('#password', PASSWORD);
    await desk.click('[data-testid=signin-submit]');
    await desk.getByTestId('site-gw-1').getByText('Online').waitFor({ timeout: 30_000 });
    await desk.getByTestId('live-status').getByText('Live').waitFor();
    await desk.click('a[href="#/alarms"]');
    await desk.getByText('No active alarms.').waitFor();

    await fridge.door(true);
    const alarm = desk.locator('[data-testid^=alarm-]', { hasText: 'Shop fridge door held open' });
    await alarm.waitFor({ timeout: 15_000 }); // the rule's 1 s, the gateway's outbox, the broker, PostgreSQL, NOTIFY, the stream
    expect(await alarm.textContent()).toContain('Rule "fridge-door-open"');
    await fridge.door(false);
    await desk.screenshot({ path: join(ARTIFACTS, 'processes-1-alarm.png'), fullPage: true });

    await desk.click('a[href="#/tickets"]');
    const card = desk.getByTestId('column-open').locator('[data-testid^=ticket-]', { hasText: 'Check the fridge door' });
    await card.waitFor({ timeout: 10_000 });
    const id = (await card.getAttribute('data-testid'))?.replace('ticket-', '') as string;
    await desk.getByTestId(`assign-${id}`).selectOption({ label: 'tess' });
    await desk.getByTestId('column-assigned').getByTestId(`ticket-${id}`).waitFor();

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await phone.goto(`${apiUrl}/`);
    await phone.fill('#name', 'tess');
    await phone.fill('#password', PASSWORD);
    await phone.click('[data-testid=signin-submit]');
    await phone.getByRole('heading', { name: 'My tickets' }).waitFor();
    expect(await phone.locator('[data-testid^=ticket-]').count()).toBe(1);
    await phone.getByTestId(`start-${id}`).click();
    await phone.getByTestId(`code-${id}`).fill('door-closer-adjusted');
    await phone.getByTestId(`resolve-${id}`).click();
    await phone.getByText('Resolved: door-closer-adjusted').waitFor();
    await phone.screenshot({ path: join(ARTIFACTS, 'processes-2-phone.png'), fullPage: true });
    await desk.getByTestId('column-resolved').getByTestId(`ticket-${id}`).waitFor({ timeout: 10_000 });

    const admin = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await admin.goto(`${apiUrl}/#/audit`);
    await admin.fill('#name', 'admin');
    await admin.fill('#password', adminPassword);
    await admin.click('[data-testid=signin-submit]');
    await admin.click('a[href="#/audit"]');
    const story = admin.locator('table');
    await story.getByText(/resolved ticket \d+ \(door-closer-adjusted\)/).waitFor();
    expect(await story.textContent()).toMatch(new RegExp(`dee \\(dispatcher\\)assigned ticket ${id} to tessdone`));
    // the fleet wrote all of it to PostgreSQL, where another process can read it
    const rows = spawnSync('/usr/lib/postgresql/15/bin/psql', [pg.url, '-Atc', 'SELECT count(*) FROM audit_log'], { encoding: 'utf8' });
    expect(Number(rows.stdout.trim())).toBeGreaterThanOrEqual(5);
  }, 90_000);
});
