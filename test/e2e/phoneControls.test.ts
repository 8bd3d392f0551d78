import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BTHOME_SERVICE_DATA_UUID } from '../../drivers/ble/profiles.ts';
import { encodeBthome } from '../../firmware-sim/ble/bthomeEncoder.ts';
import { FakeBluez } from '../../firmware-sim/ble/fakeBluez.ts';
import { PrivateBus } from '../../firmware-sim/ble/privateBus.ts';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { launchChromium } from '../helpers/browser.ts';
import { pairWithCode } from '../helpers/phone.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * The phone UI's controls for a radiator valve, a door lock and a blind (simulated firmware on the
 * real gateway), in headless Chromium at phone size: the valve's names, its mode as a list and its
 * target as a stepper; the lock unlocks only when slid all the way, the slide lands in the audit log,
 * and a tap on Lock locks it; the blind's open/stop/close and position slider; a Bluetooth sensor
 * heard nearby (a simulated BlueZ) adopted with a name. Screenshots go to test-artifacts/phone/.
 */
const GARDEN = 'A4:C1:38:00:20:01';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'phone');
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let browser: Browser;
let page: Page;
let bus: PrivateBus;
let bluez: FakeBluez;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  bus = new PrivateBus(dirs.make('trellis-phone-bus-'));
  await bus.start();
  bluez = new FakeBluez(bus.address, [
    { address: GARDEN, name: 'ATC_002001', rssi: -55, serviceData: { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: 1, temperature: 12.5 }) } },
  ]);
  await bluez.start();
  gw = await startTestGateway({ ble: { dbusAddress: bus.address, scan: true, scanMs: 100 } }, dirs);
  fleet = await startSimFleet(gw, [
    { kind: 'radiator-valve', node: 'valve-1', name: 'Living room radiator' },
    { kind: 'lock', node: 'lock-1', name: 'Back door' },
    { kind: 'blind', node: 'blind-1', name: 'Kitchen blind' },
  ]);
  await waitFor(() => gw.running.hub.state.attributes('sim_lock-1').get('lock')?.value === 'locked', 10_000, 'the lock reporting');
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${gw.lanUrl}/`);
  await pairWithCode(page, gw);
  await page.getByTestId('device-sim_lock-1').waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await gw?.stop();
  bluez?.stop();
  await bus?.stop();
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

  it('moves the blind with its buttons and its position slider', async () => {
    const state = () => sim('blind-1').state as { position: number; target: number };
    await page.getByTestId('open-sim_blind-1-blind').click();
    await waitFor(() => state().target === 100, 10_000, 'the blind told to open');
    await page.getByTestId('stop-sim_blind-1-blind').click();
    await waitFor(() => state().target < 100, 10_000, 'the blind stopped');
    const slider = page.getByTestId('slider-sim_blind-1-blind_position');
    await slider.fill('30'); // fill sends input and change, as a thumb let go does
    await waitFor(() => state().target === 30, 10_000, 'the blind sent to 30 %');
    await new Promise((r) => setTimeout(r, 300));
    expect(
      sim('blind-1')
        .received.filter((r) => r.topic === 'blind-1/set/position')
        .map((r) => r.payload),
    ).toEqual(['30']); // one command per release
    await page.screenshot({ path: join(ARTIFACTS, 'blind.png'), fullPage: true });
  });

  it('adopts a Bluetooth sensor heard nearby with the name the owner gives it', { timeout: 60_000 }, async () => {
    const row = page.getByTestId(`nearby-${GARDEN}`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('BTHome sensor, strong signal (-55 dBm)');
    await page.getByTestId(`adopt-${GARDEN}`).click();
    await page.getByTestId('adopt-name').fill('Garden thermometer');
    // the list is read again every 5 s while the owner types: a re-render must not wipe the name
    await page.waitForResponse((r) => r.url().endsWith('/api/ble/nearby'), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await page.getByTestId('adopt-name').inputValue()).toBe('Garden thermometer');
    await page.screenshot({ path: join(ARTIFACTS, 'ble-adopt.png'), fullPage: true });
    await page.getByTestId('adopt-submit').click();
    await page.getByTestId('adopted').getByText('Added Garden thermometer').waitFor();
    bluez.advertise(GARDEN, { [BTHOME_SERVICE_DATA_UUID]: encodeBthome({ packetId: 2, temperature: 12.75 }) });
    const card = page.getByTestId('device-ble_a4c138002001');
    await card.waitFor({ timeout: 15_000 });
    expect(await card.textContent()).toContain('Garden thermometer');
    await card.getByText('12.75').or(card.getByText('12.8')).first().waitFor();
    expect(await page.getByTestId(`nearby-${GARDEN}`).count()).toBe(0);
  });
});
