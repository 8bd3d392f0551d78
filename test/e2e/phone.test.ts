import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreBackup } from '../../gateway/backup/restore.ts';
import { createClock } from '../../firmware-sim/clock.ts';
import { Fleet } from '../../firmware-sim/fleet.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { launchChromium } from '../helpers/browser.ts';
import { pairWithCode } from '../helpers/phone.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/testGateway.ts';

/**
 * The phone UI end to end: headless Debian Chromium (playwright-core) in a phone-sized window against
 * the real gateway and simulated devices. Screenshots go to test-artifacts/phone/.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'phone');
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let browser: Browser;
let page: Page;
/** Anything the browser refused under the Content-Security-Policy (the UI must need no exception). */
const cspViolations: string[] = [];
/** every WebSocket the page opened, and every API request it made */
const sockets: string[] = [];
const requests: string[] = [];
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gw = await startTestGateway({}, dirs);
  // devices report when the test says
  fleet = await startSimFleet(
    gw,
    [
      { kind: 'fridge', node: 'shop-fridge', name: 'Shop fridge' },
      { kind: 'plug', node: 'plug-1', name: 'Window plug' },
    ],
    { speed: 1, reportMs: 86_400_000 },
  );
  await waitFor(() => gw.running.registry.get('shop-fridge') && gw.running.registry.get('plug-1'), 5000, 'devices');
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(msg.text())) cspViolations.push(msg.text());
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

describe('the phone UI', () => {
  it('pairs a phone with the code the gateway printed', async () => {
    await page.goto(`${gw.lanUrl}/`);
    await page.getByRole('button', { name: 'Pair this phone' }).waitFor();
    await shot('1-pair');
    await pairWithCode(page, gw);
    await page.getByTestId('device-plug-1').waitFor();
    await page.getByTestId('live').getByText('live').waitFor();
    await shot('2-home');
    expect(await page.getByTestId('device-shop-fridge').textContent()).toContain('Shop fridge');
  });

  it("toggles the simulated plug, and the plug's firmware changes state", async () => {
    const plug = fleet.get('plug-1');
    const before = (plug?.state as { on: boolean }).on;
    await page.click('[data-testid=toggle-plug-1-rl_1]');
    await waitFor(() => (plug?.state as { on: boolean }).on === !before, 5000, 'the plug switched');
    await page.waitForSelector(`[data-testid=toggle-plug-1-rl_1][aria-checked="${String(!before)}"]`);
    await shot('3-plug-toggled');
  });

  it('shows a live temperature update', async () => {
    const fridge = fleet.get('shop-fridge');
    (fridge?.state as { temperature: number }).temperature = 7.77;
    fridge?.report();
    await page.getByTestId('value-shop-fridge-temperature').getByText('7.8 °C').waitFor({ timeout: 5000 });
    await shot('4-live-temperature');
  });

  it("shows the checker's error for an invalid rule, and a fixed rule fires", async () => {
    await page.click('nav >> text=Rules');
    const editor = page.getByTestId('rule-editor');
    await editor.waitFor();
    const rule = (attribute: string) => `rules:
  - id: door-alert
    name: Tell me when the fridge door opens
    triggers: [{device: shop-fridge, attribute: ${attribute}, to: true}]
    actions:
      - {set: {device: plug-1, attribute: rl_1, value: true}}
      - {notify: {message: "The shop fridge door is open", severity: warning}}
`;
    await editor.fill(rule('dor'));
    await page.click('[data-testid=rule-save]');
    const errors = page.getByTestId('rule-errors');
    await errors.waitFor();
    expect(await errors.textContent()).toMatch(/rules\.yaml:4:\d+.*dor/);
    await shot('5-rule-error');
    await editor.fill(rule('door'));
    await page.click('[data-testid=rule-save]');
    await page.getByTestId('rule-saved').waitFor();
    await page.getByTestId('rule-door-alert').waitFor();
    await shot('6-rule-saved');

    const fridge = fleet.get('shop-fridge');
    const plug = fleet.get('plug-1');
    (plug?.state as { on: boolean }).on = false;
    plug?.report();
    (fridge?.state as { doorOpen: boolean }).doorOpen = false;
    fridge?.report();
    await waitFor(
      () => gw.running.hub.state.get('shop-fridge', 'door') === false && gw.running.hub.state.get('plug-1', 'rl_1') === false,
      5000,
      'door closed, plug off',
    );
    (fridge?.state as { doorOpen: boolean }).doorOpen = true;
    fridge?.report();
    await waitFor(() => (plug?.state as { on: boolean }).on, 5000, 'the rule switched the plug on');
    await page.click('nav >> text=Alerts');
    await page.getByTestId('alert').getByText('The shop fridge door is open').first().waitFor({ timeout: 5000 });
    await shot('7-rule-fired-alert');
    await page.click('nav >> text=Rules');
    await page.getByTestId('rule-door-alert').getByRole('button', { name: 'Why did this run?' }).click();
    expect(await page.getByTestId('traces-door-alert').textContent()).toContain('plug-1.rl_1 = true');
    await shot('8-why-did-this-run');
  });

  it('grants a service provider access and revokes it; the audit log shows both', async () => {
    await page.click('nav >> text=Privacy');
    const form = page.getByTestId('grant-form');
    await form.waitFor();
    await page.fill('#provider', 'coolco');
    await form.getByText('Shop fridge').click();
    await form.locator('button[type=submit]').click();
    const grant = page.locator('[data-testid^=grant-]').filter({ hasText: 'coolco' });
    await grant.waitFor();
    expect(gw.running.grants.active().map((g) => [g.providerId, g.devices])).toEqual([['coolco', ['shop-fridge']]]);
    await shot('9-privacy-granted');
    await grant.getByRole('button', { name: 'Revoke' }).click();
    await grant.waitFor({ state: 'detached' });
    expect(gw.running.grants.active()).toEqual([]);
    await page
      .getByTestId('audit')
      .getByText(/grant\.revoke coolco/)
      .first()
      .waitFor(); // the audit view reloads after the revoke
    expect(await page.getByTestId('audit').textContent()).toMatch(/Intact: \d+ entries.*grant\.revoke coolco.*grant\.add coolco/s);
  });

  it('shows a device page with a history chart, and the diagnostics page', async () => {
    await page.goto(`${gw.lanUrl}/#/device/shop-fridge`);
    await page.getByTestId('chart-temperature').locator('canvas').waitFor({ timeout: 5000 });
    await shot('10-device');
    await page.click('nav >> text=Status');
    await page.getByTestId('diagnostics').getByText('2 of 2').waitFor();
    expect(await page.getByTestId('cloud').textContent()).toContain('Cloud sync is off');
    await shot('11-diagnostics');
  });

  it('opens its live connection with a one-use ticket: the session token is never in a URL', () => {
    expect(sockets.length).toBeGreaterThan(0);
    for (const url of sockets) {
      expect(url).toMatch(/\/api\/events\?ticket=[\w-]{20,}$/);
      expect(url).not.toContain('token');
    }
  });

  it('a device that appears is fetched alone, not by reloading the whole list', async () => {
    await page.goto(`${gw.lanUrl}/`);
    await page.getByTestId('live').getByText('live').waitFor();
    const before = requests.length;
    const more = new Fleet({
      url: gw.url,
      devices: [{ kind: 'door', node: 'back-door', name: 'Back door', password: await gw.running.credentials.create('back-door') }],
      clock: createClock(1),
      reportMs: 86_400_000,
    });
    await more.start();
    try {
      await page.getByTestId('device-zigbee2mqtt_back-door').waitFor({ timeout: 5000 }); // Zigbee2MQTT's id for it
      const since = requests.slice(before);
      expect(since).toContain('/api/devices/zigbee2mqtt_back-door');
      expect(since).not.toContain('/api/devices');
      expect(await page.getByTestId('device-plug-1').count()).toBe(1); // the others stay
    } finally {
      await more.stop();
    }
  });

  it('a request that fails is shown with a retry, never as an endless "Loading"', async () => {
    await page.route('**/api/alerts*', (route) => route.abort());
    await page.click('nav >> text=Alerts');
    const failed = page.getByTestId('load-error');
    await failed.waitFor({ timeout: 5000 });
    expect(await failed.textContent()).toMatch(/Could not load alerts: the gateway did not answer/);
    await shot('12-load-failed');
    await page.unroute('**/api/alerts*');
    await failed.getByRole('button', { name: 'Retry' }).click();
    await page.getByTestId('alert').first().waitFor({ timeout: 5000 });
    expect(await page.getByTestId('load-error').count()).toBe(0);
  });

  it('an export that fails says so and saves nothing', async () => {
    let downloads = 0;
    page.on('download', () => void downloads++);
    await page.route('**/api/export', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'busy', message: 'the disk is busy' }) }),
    );
    await page.click('nav >> text=Privacy');
    await page.getByRole('button', { name: 'Download all data' }).click();
    const error = page.getByTestId('action-error');
    await error.waitFor({ timeout: 5000 });
    expect(await error.textContent()).toContain('the download failed: the disk is busy');
    expect(downloads).toBe(0);
    await page.unroute('**/api/export');
  });

  it('downloads a backup sealed with a passphrase typed twice, which restores onto a new card', async () => {
    await page.click('nav >> text=Privacy');
    const card = page.getByTestId('backups');
    await card.waitFor();
    expect(await card.textContent()).toContain('Automatic backups are off');
    await page.getByTestId('backup-passphrase').fill('kitchen table lamp');
    await page.getByTestId('backup-again').fill('kitchen table lump');
    await page.getByTestId('backup-submit').click();
    expect(await card.getByTestId('action-error').textContent()).toContain('The two passphrases differ.');
    await page.getByTestId('backup-again').fill('kitchen table lamp');
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('backup-submit').click()]);
    expect(file.suggestedFilename()).toMatch(/^trellis-backup-\d{4}-\d\d-\d\d\.tbk$/);
    const saved = join(dirs.make('trellis-phone-backup-'), 'phone.tbk');
    await file.saveAs(saved);
    await page.getByTestId('backup-done').waitFor();
    const target = dirs.make('trellis-phone-card-');
    writeFileSync(join(target, 'trellis.yaml'), 'dataDir: ./data\n');
    const report = await restoreBackup(saved, 'kitchen table lamp', join(target, 'trellis.yaml'));
    expect(report.counts.users).toBe(1);
    await shot('10-backup');
  });

  it('shows an alert the moment it is raised, on whatever page is open, until dismissed', async () => {
    await page.click('nav >> text=Rules');
    gw.running.alerts.raise({ source: 'rule', ruleId: 'door-alarm', severity: 'critical', message: 'Dairy fridge door open for 2 minutes', at: Date.now() });
    const toast = page.getByTestId('toast');
    await toast.getByText('Dairy fridge door open for 2 minutes').waitFor({ timeout: 5000 });
    await toast.getByRole('button', { name: 'dismiss' }).click();
    expect(await page.getByTestId('toast').count()).toBe(0);
  });

  it('ran every screen above under the strict Content-Security-Policy without a violation', () => {
    expect(cspViolations).toEqual([]);
  });

  it("when this phone's session is revoked, its live connection closes and it is sent back to pairing", async () => {
    await page.goto(`${gw.lanUrl}/`);
    await page.getByTestId('live').getByText('live').waitFor();
    const token = await page.evaluate(() => localStorage.getItem('trellis.token'));
    const me = (await (await fetch(`${gw.lanUrl}/api/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as { sessionId: number };
    const revoked = await fetch(`${gw.lanUrl}/api/sessions/${me.sessionId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(204);
    await page.getByRole('button', { name: 'Pair this phone' }).waitFor({ timeout: 5000 }); // no reload, no request of its own
    expect(await page.evaluate(() => localStorage.getItem('trellis.token'))).toBeNull();
  });
});
