import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * The phone UI's controls for a radiator valve and a door lock (simulated Zigbee2MQTT firmware on the
 * real gateway), in headless Chromium at phone size: the valve's names, its mode as a list and its
 * target as a stepper; the lock unlocks only when slid all the way, the slide lands in the audit log,
 * and a tap on Lock locks it. Screenshots go to test-artifacts/phone/.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'phone');
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gw = await startTestGateway({}, dirs);
  fleet = await startSimFleet(gw, [
    { kind: 'radiator-valve', node: 'valve-1', name: 'Living room radiator' },
    { kind: 'lock', node: 'lock-1', name: 'Back door' },
  ]);
  await waitFor(() => gw.running.hub.state.attributes('sim_lock-1').get('lock')?.value === 'locked', 10_000, 'the lock reporting');
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${gw.lanUrl}/`);
  await page.fill('#code', gw.running.lan?.pairingCode ?? '');
  await page.fill('#name', 'Olive');
  await page.click('[data-testid=pair-submit]');
  await page.getByTestId('device-sim_lock-1').waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

const sim = (node: string) => fleet.get(node) as NonNullable<ReturnType<Fleet['get']>>;

describe('phone controls for a thermostat valve and a lock', () => {
  it("shows the valve's names, sets its target with the stepper, and lists its modes", async () => {
    const card = page.getByTestId('device-sim_valve-1');
    expect(await card.textContent()).toContain('Target temperature');
    expect(await card.textContent()).toContain('Current temperature');
    const target = page.getByTestId('value-sim_valve-1-climate_target_temperature');
    await target.getByText('20 °C').waitFor();
    await page.getByTestId('raise-sim_valve-1-climate_target_temperature').click();
    await waitFor(() => (sim('valve-1').state as { setpoint: number }).setpoint === 20.5, 10_000, 'the valve set to 20.5');
    await target.getByText('20.5 °C').waitFor();
    const modes = await page.getByTestId('select-sim_valve-1-climate').locator('option').allTextContents();
    expect(modes).toEqual(['off', 'heat']);
    await page.getByTestId('select-sim_valve-1-climate').selectOption('off');
    await waitFor(() => (sim('valve-1').state as { mode: string }).mode === 'off', 10_000, 'the valve off');
  });

  it('unlocks only when slid all the way, audits it, and locks again with a tap', async () => {
    const slider = page.getByTestId('unlock-sim_lock-1-lock');
    expect(await page.getByTestId('device-sim_lock-1').textContent()).toContain('Slide to unlock Back door');
    await page.screenshot({ path: join(ARTIFACTS, 'lock-locked.png'), fullPage: true });
    // half way does nothing
    await slider.fill('50');
    await slider.dispatchEvent('change');
    await new Promise((r) => setTimeout(r, 300));
    expect((sim('lock-1').state as { locked: boolean }).locked).toBe(true);
    await slider.focus();
    await page.keyboard.press('End'); // all the way (a thumb's drag ends the same)
    await waitFor(() => (sim('lock-1').state as { locked: boolean }).locked === false, 10_000, 'unlocked');
    await page.getByTestId('value-sim_lock-1-lock').getByText('Unlocked').waitFor();
    const audit = gw.running.db.prepare("SELECT actor, subject FROM audit_log WHERE action = 'lan.unlock'").all();
    expect(audit).toEqual([{ actor: 'owner:Olive', subject: 'sim_lock-1' }]);
    await page.screenshot({ path: join(ARTIFACTS, 'lock-unlocked.png'), fullPage: true });
    await page.getByTestId('lock-sim_lock-1-lock').click();
    await waitFor(() => (sim('lock-1').state as { locked: boolean }).locked === true, 10_000, 'locked again');
    await page.getByTestId('value-sim_lock-1-lock').getByText('Locked').waitFor();
  });
});
