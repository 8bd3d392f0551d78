import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../../firmware-sim/clock.ts';
import { Fleet } from '../../firmware-sim/fleet.ts';
import { launchChromium } from '../helpers/browser.ts';
import { pairedPhone } from '../helpers/phone.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway } from '../helpers/testGateway.ts';

/**
 * Adding a device from the phone as an owner who never read the README: pick ESPHome, name it, get
 * the settings to paste with this gateway's address and a fresh password; the "waiting for it…"
 * turns into the device once a (simulated) firmware configured with exactly those settings announces
 * itself. A name that is taken is refused with the reason; a Modbus device gets the config to add.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'phone');
const dirs = new TempDirs();
let gw: TestGateway;
let browser: Browser;
let page: Page;
let fleet: Fleet | undefined;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gw = await startTestGateway({}, dirs);
  browser = await launchChromium();
  page = await pairedPhone(browser, gw);
  await page.getByTestId('add-device').waitFor();
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await browser?.close();
  await gw?.stop();
  dirs.cleanup();
});

describe('adding a device from the app', () => {
  it('gives ESPHome settings with this gateway and a fresh password, then shows the device once it announces itself', async () => {
    await page.getByTestId('add-device').click();
    await page.getByTestId('firmware-esphome').check();
    await page.getByTestId('setup-name').fill('porch-light');
    await page.getByTestId('setup-create').click();
    const password = (await page.getByTestId('setup-password').textContent()) as string;
    const settings = (await page.getByTestId('setup-step-0').textContent()) as string;
    const port = gw.running.mqttAddress.port;
    expect(settings).toBe(
      `mqtt:\n  broker: 127.0.0.1\n  port: ${port}\n  username: porch-light\n  password: ${password}\n  topic_prefix: porch-light\n  discovery: true`,
    );
    await page.getByTestId('setup-waiting').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'add-device.png'), fullPage: true });
    // the firmware, configured with exactly what the page said
    fleet = new Fleet({
      url: `mqtt://127.0.0.1:${port}`,
      devices: [{ kind: 'light', node: 'porch-light', name: 'Porch light', password }],
      clock: createClock(60),
      reportMs: 60_000,
    });
    await fleet.start();
    const found = page.getByTestId('setup-found');
    await found.waitFor({ timeout: 15_000 });
    expect(await found.textContent()).toContain('Porch light');
  });

  it('refuses a name that already has a login, and shows a Modbus device the config to add', async () => {
    const api = lanClient(gw.lanUrl);
    const token = (await page.evaluate(() => localStorage.getItem('trellis.token'))) as string;
    const again = await api.post('/api/devices/setup', { firmware: 'tasmota', name: 'porch-light' }, token);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/porch-light.*already has a credential: choose another name/);
    expect((await api.post('/api/devices/setup', { firmware: 'esphome' }, token)).body.message).toMatch(/name/);
    const tasmota = await api.post('/api/devices/setup', { firmware: 'tasmota', name: 'tasmota_7c2f4e' }, token);
    expect(tasmota.body.steps[0].text).toBe(
      `Backlog MqttHost 127.0.0.1; MqttPort ${gw.running.mqttAddress.port}; MqttUser tasmota_7c2f4e; MqttPassword ${tasmota.body.password}; Topic tasmota_7c2f4e; SetOption19 0`,
    );
    expect(gw.running.credentials.get('tasmota_7c2f4e')?.topics).toEqual(['+/tasmota_7c2f4e/#', 'tasmota_7c2f4e/#']);
    const modbus = await api.post('/api/devices/setup', { firmware: 'modbus' }, token);
    expect(modbus.body).toMatchObject({ username: null, password: null });
    expect(modbus.body.steps[0].text).toMatch(/definition: energy-meter/);
    const audit = gw.running.db.prepare("SELECT subject FROM audit_log WHERE action = 'lan.device.credential' ORDER BY id").all();
    expect(audit).toEqual([{ subject: 'porch-light' }, { subject: 'tasmota_7c2f4e' }]);
  });
});
