import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { launchChromium } from '../helpers/browser.ts';
import { pairedPhone } from '../helpers/phone.ts';
import { lanClient } from '../helpers/lanClient.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * The home screen and simple mode in headless Chromium at phone size: favourites marked with a star
 * come first (and are kept per person), a device card dragged onto a room moves it there, simple mode
 * shows only the favourites as large buttons in plain words that work on the real (simulated)
 * devices, and the full app is one tap away; a simple mode the owner locked for someone cannot be left.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'phone');
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let browser: Browser;
let page: Page;
let owner: string;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gw = await startTestGateway({}, dirs);
  fleet = await startSimFleet(gw, [
    { kind: 'plug', node: 'plug-1', name: 'Coffee grinder' },
    { kind: 'radiator-valve', node: 'valve-1', name: 'Living room radiator' },
    { kind: 'lock', node: 'lock-1', name: 'Back door' },
  ]);
  await waitFor(() => gw.running.registry.get('plug-1') && gw.running.registry.get('sim_valve-1') && gw.running.registry.get('sim_lock-1'), 15_000, 'devices');
  browser = await launchChromium();
  page = await pairedPhone(browser, gw);
  await page.getByTestId('device-sim_valve-1').waitFor();
  owner = (await page.evaluate(() => localStorage.getItem('trellis.token'))) as string;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

const sim = (node: string) => fleet.get(node) as NonNullable<ReturnType<Fleet['get']>>;

describe('the home screen', () => {
  it('puts starred devices first, and keeps them for this person', async () => {
    await page.getByTestId('star-plug-1').click();
    await page.getByTestId('favourites').getByTestId('device-plug-1').waitFor();
    await page.getByTestId('star-sim_valve-1').click();
    await page.getByTestId('favourites').getByTestId('device-sim_valve-1').waitFor();
    expect((await lanClient(gw.lanUrl).get('/api/me/prefs', owner)).body.favourites).toEqual(['plug-1', 'sim_valve-1']);
  });

  it('moves a device into a room by dragging its card onto the room', async () => {
    await lanClient(gw.lanUrl).patch('/api/devices/sim_valve-1', { room: 'Kitchen' }, owner);
    await page.reload();
    const kitchen = page.getByTestId('room-Kitchen');
    await kitchen.waitFor();
    // both on the screen at once (a drag does not scroll the page; on a small phone the device page's Room field does the same)
    await page.setViewportSize({ width: 390, height: 2400 });
    await page.getByTestId('room-Other devices').getByTestId('device-sim_lock-1').dragTo(kitchen);
    await kitchen.getByTestId('device-sim_lock-1').waitFor();
    expect((await lanClient(gw.lanUrl).get('/api/devices/sim_lock-1', owner)).body.room).toBe('Kitchen');
    await page.screenshot({ path: join(ARTIFACTS, 'home-rooms.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
  });

  it('simple mode: large buttons for the favourites only, in plain words, that work; the full app one tap away', async () => {
    const plugAttr = Object.keys(gw.running.registry.get('plug-1')?.attributes ?? {}).find(
      (k) => gw.running.registry.get('plug-1')?.attributes[k]?.type === 'boolean',
    ) as string;
    expect((await lanClient(gw.lanUrl).put('/api/scenes/coffee-time', { steps: [{ device: 'plug-1', attribute: plugAttr, value: true }] }, owner)).status).toBe(
      200,
    );
    await page.reload();
    await page.getByTestId('star-scene-coffee-time').click({ timeout: 5000 });
    await page.getByTestId('star-scene-coffee-time').and(page.locator('[aria-pressed=true]')).waitFor({ timeout: 5000 });
    await page.click('nav >> text=People');
    await page.getByTestId('simple-mode').click({ timeout: 5000 });
    const simple = page.getByTestId('simple-home');
    await simple.waitFor({ timeout: 5000 });
    expect(await simple.locator('.simple-card').count()).toBe(2); // the lock is no favourite
    expect(await simple.textContent()).not.toMatch(/rl_1|sim_|MQTT|climate/);
    await page.screenshot({ path: join(ARTIFACTS, 'simple-mode.png'), fullPage: true });
    const before = (sim('plug-1').state as { on: boolean }).on;
    await page.getByTestId('simple-toggle-plug-1').click({ timeout: 5000 });
    await waitFor(() => (sim('plug-1').state as { on: boolean }).on === !before, 10_000, 'the plug switched');
    const setpoint = (sim('valve-1').state as { setpoint: number }).setpoint;
    await page.getByTestId('simple-raise-sim_valve-1').click({ timeout: 5000 });
    await waitFor(() => (sim('valve-1').state as { setpoint: number }).setpoint === setpoint + 0.5, 10_000, 'warmer by half a degree');
    await lanClient(gw.lanUrl).post('/api/devices/plug-1/commands', { attribute: plugAttr, value: false }, owner);
    await waitFor(() => (sim('plug-1').state as { on: boolean }).on === false, 10_000, 'the plug off');
    await page.getByTestId('simple-scene-coffee-time').click({ timeout: 5000 });
    await waitFor(() => (sim('plug-1').state as { on: boolean }).on === true, 10_000, 'the scene switched the plug on');
    await page.getByTestId('simple-message').getByText('Done.').waitFor({ timeout: 5000 });
    await page.getByTestId('simple-leave').click({ timeout: 5000 });
    await page.getByTestId('device-sim_lock-1').waitFor({ timeout: 5000 });
  });

  it('the owner can keep someone in simple mode: they cannot leave it', async () => {
    const api = lanClient(gw.lanUrl);
    const invite = await api.post('/api/members/invite', { role: 'member' }, owner);
    const gus = (await api.post('/api/pair', { code: invite.body.code, name: 'Gus' })).body;
    const members = (await api.get('/api/members', owner)).body as Array<{ id: number; name: string }>;
    const id = members.find((m) => m.name === 'Gus')?.id;
    expect((await api.put(`/api/members/${id}/prefs`, { simple: true, simpleLocked: true, favourites: ['plug-1'] }, owner)).status).toBe(200);
    expect((await api.get('/api/me/prefs', gus.token)).body).toEqual({ simple: true, simpleLocked: true, favourites: ['plug-1'], scenes: [] });
    const leave = await api.put('/api/me/prefs', { simple: false }, gus.token);
    expect(leave.status).toBe(403);
    expect(leave.body.message).toMatch(/set for you by the owner/);
    expect((await api.put(`/api/members/${id}/prefs`, { simpleLocked: false }, gus.token)).status).toBe(403); // only the owner
    const other = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      await other.goto(`${gw.lanUrl}/`);
      await other.evaluate((t) => localStorage.setItem('trellis.token', t), gus.token);
      await other.reload();
      await other.getByTestId('simple-home').waitFor();
      expect(await other.getByTestId('simple-leave').count()).toBe(0);
    } finally {
      await other.close();
    }
  });
});
