import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { axeAudit } from '../helpers/axe.ts';
import { launchChromium } from '../helpers/browser.ts';
import { pairWithCode } from '../helpers/phone.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * Every page of the phone app through axe-core (WCAG 2 A and AA rules) in headless Chromium at phone
 * size, with real (simulated) devices on it: no serious or critical violation anywhere, and the main
 * controls reachable and usable with the keyboard alone.
 */
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let browser: Browser;
let page: Page;

const audit = (where: string) => axeAudit(page, where);

beforeAll(async () => {
  gw = await startTestGateway({ tariffs: { peak: { from: '17:00', to: '20:00' } }, energy: { price: 0.25, prices: { peak: 0.4 } } }, dirs);
  fleet = await startSimFleet(gw, [
    { kind: 'plug', node: 'plug-1', name: 'Coffee grinder' },
    { kind: 'radiator-valve', node: 'valve-1', name: 'Living room radiator' },
    { kind: 'lock', node: 'lock-1', name: 'Back door' },
    { kind: 'blind', node: 'blind-1', name: 'Kitchen blind' },
  ]);
  await waitFor(
    () => gw.running.hub.state.attributes('sim_lock-1').get('lock')?.value === 'locked' && gw.running.registry.get('sim_blind-1'),
    15_000,
    'devices',
  );
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 390, height: 844 }, bypassCSP: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

describe('accessibility of every page', () => {
  it('has no serious or critical axe violation on any page', async () => {
    const found: string[] = [];
    await page.goto(`${gw.lanUrl}/`);
    await page.locator('#code').waitFor();
    found.push(...(await audit('pairing')));
    await pairWithCode(page, gw);
    await page.getByTestId('device-sim_lock-1').waitFor();
    await lanClient(gw.lanUrl).put(
      '/api/scenes/evening',
      { steps: [{ device: 'sim_valve-1', attribute: 'climate_target_temperature', value: 21 }] },
      await page.evaluate(() => localStorage.getItem('trellis.token') as string),
    );
    await page.reload();
    await page.getByTestId('device-sim_lock-1').waitFor();
    found.push(...(await audit('home')));
    for (const [hash, what, ready] of [
      ['#/device/sim_valve-1', 'device page', '[data-testid=usage], .card'],
      ['#/energy', 'energy', '[data-testid=energy-total]'],
      ['#/alerts', 'alerts', 'main'],
      ['#/rules', 'rules', '[data-testid=rule-new]'],
      ['#/people', 'people', '[data-testid=simple-mode]'],
      ['#/privacy', 'privacy', '[data-testid=backups]'],
      ['#/diagnostics', 'status', 'main'],
      ['#/add', 'add a device', '[data-testid=setup-firmwares]'],
    ] as const) {
      await page.evaluate((h) => {
        location.hash = h;
      }, hash);
      await page.locator(ready).first().waitFor();
      await page.waitForTimeout(200);
      found.push(...(await audit(what)));
    }
    await page.evaluate(() => {
      location.hash = '#/rules';
    });
    await page.getByTestId('rule-new').click();
    await page.getByTestId('rule-builder').waitFor();
    found.push(...(await audit('rule builder')));
    await page.evaluate(() => {
      location.hash = '#/add';
    });
    await page.getByTestId('firmware-esphome').check();
    await page.getByTestId('setup-name').fill('porch');
    await page.getByTestId('setup-create').click();
    await page.getByTestId('setup-result').waitFor();
    found.push(...(await audit('add a device: settings')));
    await page.evaluate(() => {
      location.hash = '#/people';
    });
    await page.getByTestId('simple-mode').click();
    await page.getByTestId('simple-home').waitFor();
    found.push(...(await audit('simple mode')));
    expect(found).toEqual([]);
  });

  it("reaches and works a device's switch with the keyboard alone", async () => {
    await page.getByTestId('simple-leave').click();
    const toggle = (await page.locator('[data-testid^="toggle-plug-1-"]').first().getAttribute('data-testid')) as string;
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate((id) => document.activeElement?.getAttribute('data-testid') === id, toggle);
    }
    expect(reached).toBe(true);
    const before = (fleet.get('plug-1')?.state as { on: boolean }).on;
    await page.keyboard.press('Space');
    await waitFor(() => (fleet.get('plug-1')?.state as { on: boolean }).on === !before, 10_000, 'the plug switched from the keyboard');
  });

  it('the audit does catch what it should (a button without a name, an image without text)', async () => {
    await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<div id="bad"><button></button><img src="/nothing.png"></div>'));
    const found = await audit('a broken page');
    await page.evaluate(() => document.getElementById('bad')?.remove());
    expect(found.map((f) => f.split(' ')[3])).toEqual(expect.arrayContaining(['button-name', 'image-alt']));
  });
});
