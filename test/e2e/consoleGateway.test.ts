import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { People } from '../../fleet/people.ts';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { type FridgeFirmware, fridgeFirmware } from '../fleet/fridgeFirmware.ts';
import { gatewayIntoFleet, startTestFleet, type TestFleet } from '../fleet/testFleet.ts';
import { launchChromium } from '../helpers/browser.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * The fleet console against a real gateway with simulated espresso machines, over TLS into a real
 * trellis-fleet: a dispatcher sends a descale command (confirmed first) and sees it done, sends one a
 * protected rule refuses and sees the refusal with its reason, and reads a month's usage that equals
 * the gateway's own buckets. Screenshots go to test-artifacts/console/.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');
const PASSWORD = 'a long enough password';
const HOUR = 3_600_000;
const dirs = new TempDirs();
let f: TestFleet;
let gw: TestGateway;
let sims: Fleet;
let browser: Browser;
let page: Page;
let fridge: FridgeFirmware;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  f = await startTestFleet(dirs, { broker: { embedded: { host: '127.0.0.1', port: 0, tls: true } }, checks: { everySeconds: 0.2 } });
  await new People(f.fleet.db).add('dee', 'dispatcher', PASSWORD);
  gw = await gatewayIntoFleet(f, dirs, {
    gatewayId: 'gw-1',
    timezone: 'UTC',
    rules: `rules:
  - id: fridge-door-open
    triggers: [{device: shop-fridge, attribute: door, to: true, for: 1s}]
    actions: [{notify: {message: "Shop fridge door held open", severity: warning, device: shop-fridge}}]
  - id: terrace-machine-off-for-descaling
    protected: true
    triggers: [{device: shop-coffee-2, attribute: descale_needed, to: true}]
    actions: [{set: {device: shop-coffee-2, attribute: power, value: false}}]
`,
  });
  sims = await startSimFleet(
    gw,
    ['shop-coffee-1', 'shop-coffee-2'].map((node) => ({ kind: 'coffee', node, name: node })),
    { speed: 1, reportMs: 2000 },
  );
  fridge = await fridgeFirmware(gw.url, await gw.running.credentials.create('shop-fridge'));
  await waitFor(() => gw.running.rules.ruleCount === 2 && gw.running.registry.get('shop-coffee-1')?.attributes.descale, 10_000, 'devices and the rule');
  gw.running.grants.add({
    providerId: 'coolco',
    devices: ['shop-coffee-1', 'shop-coffee-2', 'shop-fridge'],
    classes: ['usage', 'alerts', 'telemetry', 'maintenance', 'health'],
    commands: ['descale', 'power'],
  });
  await waitFor(() => gw.running.cloud?.link.status().connected, 10_000, 'cloud link');
  await gw.running.cloud?.publishManifests();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${f.fleet.apiUrl}/`);
  await page.fill('#name', 'dee');
  await page.fill('#password', PASSWORD);
  await page.click('[data-testid=signin-submit]');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await sims?.stop();
  await fridge?.client.endAsync();
  await gw?.stop();
  await f?.stop();
  dirs.cleanup();
});

describe('the fleet console with a real gateway', () => {
  it('sends a descale command that succeeds, and one a protected rule refuses, shown with its reason', async () => {
    const ref = (id: string) => gw.running.grants.pseudonym('coolco', id);
    await waitFor(async () => (await f.fleet.db.query("SELECT 1 FROM devices WHERE access = 'granted'")).length === 3, 10_000, 'the manifest');
    await page.click('a[href="#/commands"]');
    const send = async (deviceId: string, attribute: string, value: string) => {
      await page.getByTestId('command-device').selectOption(`gw-1/${ref(deviceId)}`);
      await page.getByTestId('command-attribute').selectOption(attribute);
      await page.getByTestId('command-value').fill(value);
      await page.getByTestId('command-send').click();
      await page.getByRole('dialog', { name: 'Confirm the command' }).getByText(`Set ${attribute} to ${value}`).waitFor();
      await page.getByTestId('command-confirm').click();
    };
    await send('shop-coffee-1', 'descale', 'true');
    await page
      .locator('tr', { hasText: `${ref('shop-coffee-1')} at gw-1` })
      .getByText('done')
      .waitFor({ timeout: 15_000 });
    await waitFor(() => gw.running.hub.state.get('shop-coffee-1', 'descale') === true, 10_000, 'the machine descales');
    await send('shop-coffee-2', 'power', 'false');
    const refused = page.locator('tr', { hasText: `${ref('shop-coffee-2')} at gw-1` });
    await refused.getByText('refused by the gateway').waitFor({ timeout: 15_000 });
    expect(await refused.textContent()).toContain('protected rule "terrace-machine-off-for-descaling"');
    await page.screenshot({ path: join(ARTIFACTS, '5-commands.png'), fullPage: true });
  }, 60_000);

  it("shows a month's usage equal to the gateway's own buckets", async () => {
    const cloud = gw.running.cloud;
    if (!cloud) throw new Error('no cloud sync');
    const now = new Date();
    const first = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 2); // the 2nd of last month
    const month = new Date(first).toISOString().slice(0, 7);
    const insert = gw.running.db.prepare<[string, number, number, string], { seq: number }>(
      'INSERT INTO usage_buckets (device_id, start, end, data) VALUES (?, ?, ?, ?) RETURNING seq',
    );
    gw.running.db.transaction(() => {
      for (let h = 0; h < 24; h++) {
        const start = first + h * HOUR;
        const bucket = {
          deviceId: 'shop-coffee-1',
          start,
          end: start + HOUR,
          localStart: new Date(start).toISOString(),
          metrics: {
            energy: { role: 'energy' as const, unit: 'Wh' as const, delta: 150 + h, resets: 0, rollovers: 0, samples: 60 },
            cups_brewed: { role: 'counter' as const, delta: h % 4, resets: 0, rollovers: 0, samples: 60 },
          },
          gaps: [],
          offlineSeconds: 0,
        };
        const { seq } = insert.get('shop-coffee-1', start, start + HOUR, JSON.stringify(bucket)) as { seq: number };
        cloud.queueUsage([{ ...bucket, seq }]);
      }
    })();
    const own = gw.running.db
      .prepare("SELECT data FROM usage_buckets WHERE device_id = 'shop-coffee-1' AND start >= ? AND start < ?")
      .all(first, first + 24 * HOUR) as Array<{
      data: string;
    }>;
    const parsed = own.map((r) => JSON.parse(r.data) as { metrics: { energy: { delta: number }; cups_brewed: { delta: number } } });
    const kWh = parsed.reduce((a, b) => a + b.metrics.energy.delta, 0) / 1000;
    const cups = parsed.reduce((a, b) => a + b.metrics.cups_brewed.delta, 0);
    await waitFor(async () => (await f.fleet.db.query('SELECT 1 FROM usage_buckets')).length === 24, 15_000, 'the buckets in the fleet');
    await page.click('a[href="#/usage"]');
    await page.getByTestId('month').fill(month);
    const row = page.getByTestId(`usage-gw-1-${gw.running.grants.pseudonym('coolco', 'shop-coffee-1')}`);
    await row.waitFor();
    expect(await row.textContent()).toContain(`${kWh} kWh`);
    expect(await row.textContent()).toContain(`${cups} cups brewed`);
    await page.screenshot({ path: join(ARTIFACTS, '6-usage.png'), fullPage: true });
  }, 40_000);

  it("finds the site, lists its devices and health charts, and shows a machine's diagnostic snapshot", async () => {
    gw.running.cloud?.queueHealth();
    await waitFor(async () => (await f.fleet.db.query('SELECT 1 FROM health')).length >= 1, 10_000, 'a health record in the fleet');
    await page.click('a[href="#/sites"]');
    await page.getByTestId('site-search').fill('gw-');
    await page.getByTestId('site-card-gw-1').getByRole('link').click();
    const ref = gw.running.grants.pseudonym('coolco', 'shop-coffee-1');
    await page.getByTestId(`device-${ref}`).waitFor();
    expect(await page.getByTestId(`device-${ref}`).textContent()).toContain('sim-coffee');
    await page.getByTestId('chart-devicesOnline').locator('canvas').waitFor();
    await page.getByTestId(`diag-${ref}`).click();
    const snapshot = page.getByTestId('diagnosis');
    await snapshot.getByText(`Snapshot of ${ref}, online`).waitFor({ timeout: 15_000 });
    expect(await snapshot.textContent()).toContain('cups brewed');
    await page.screenshot({ path: join(ARTIFACTS, '7-site.png'), fullPage: true });

    // the device's page says its maintenance signal in words
    gw.running.cloud?.maintenance({
      deviceId: 'shop-coffee-1',
      signal: 'duty_cycle',
      attribute: 'heater',
      value: 0.92,
      unit: 'ratio',
      threshold: 0.8,
      exceeded: true,
      baseline: 0.55,
      at: Date.now(),
    });
    await waitFor(async () => (await f.fleet.db.query('SELECT 1 FROM maintenance_signals')).length === 1, 10_000, 'the signal in the fleet');
    await page.getByTestId(`device-${ref}`).getByRole('link').click();
    const signal = page.getByTestId('signal-duty_cycle');
    await signal.waitFor();
    expect(await signal.textContent()).toContain('Heater running 92% of the hour (usual: 55%), limit 80%');
    await page.screenshot({ path: join(ARTIFACTS, '8-device.png'), fullPage: true });
    await page.click('a[href="#/overview"]');
    await page.getByTestId(`worst-${ref}-duty_cycle`).getByText('Heater running 92% of the hour').waitFor();
  }, 40_000);

  it('shows a fridge door held open on the gateway as an alarm, live, in words', async () => {
    await page.click('a[href="#/alarms"]');
    await page.getByRole('heading', { name: 'Alarms' }).waitFor();
    await fridge.door(true);
    const card = page.locator('[data-testid^=alarm-]', { hasText: 'Shop fridge door held open' });
    await card.waitFor({ timeout: 15_000 }); // the page refreshes itself: no reload
    expect(await card.textContent()).toContain('Rule "fridge-door-open"');
    expect(await card.textContent()).toContain(`device ${gw.running.grants.pseudonym('coolco', 'shop-fridge')}`);
    await page.screenshot({ path: join(ARTIFACTS, '9-alarm-live.png'), fullPage: true });
  }, 30_000);
});
