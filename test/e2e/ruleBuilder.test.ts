import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../../firmware-sim/clock.ts';
import { Fleet } from '../../firmware-sim/fleet.ts';
import { launchChromium } from '../helpers/browser.ts';
import { pairedPhone } from '../helpers/phone.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { clockFromTodayAt, startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * The rule builder in headless Chromium at phone size, as an owner who never saw YAML: a rule made
 * from pickers (a remote's double press sets the radiator), checked in words, refused when the value
 * is out of the radiator's range (the reason shown), saved into the rule file next to a hand-written
 * rule and its comment, run by the real remote; then changed from its card.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'phone');
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let browser: Browser;
let page: Page;
let rulesFile: string;
const HAND =
  '# my own rule, keep it\nrules:\n  - id: wake\n    triggers: [{at: "06:30"}]\n    actions: [{set: {device: sim_valve-1, attribute: climate_target_temperature, value: 20}}]\n';

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const dir = dirs.make('trellis-builder-ui-');
  rulesFile = join(dir, 'rules.yaml');
  writeFileSync(rulesFile, HAND);
  // the case is "when the back door opens after 18:00": the gateway's clock starts at 18:30 UTC today, whenever the suite runs
  gw = await startTestGateway({ rules: { file: rulesFile }, timezone: 'UTC' }, dirs, clockFromTodayAt(18.5));
  fleet = await startSimFleet(gw, [
    { kind: 'radiator-valve', node: 'valve-1', name: 'Living room radiator' },
    { kind: 'remote', node: 'remote-1', name: 'Hall remote' },
  ]);
  await waitFor(() => gw.running.rules.ruleCount === 1 && gw.running.registry.get('sim_remote-1'), 15_000, 'devices and the hand-written rule');
  browser = await launchChromium();
  page = await pairedPhone(browser, gw);
  await page.getByTestId('device-sim_valve-1').waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

const sim = (node: string) => fleet.get(node) as NonNullable<ReturnType<Fleet['get']>>;

describe('the rule builder on the phone', () => {
  it('builds a rule from pickers, shows the verdict in words, refuses an out-of-range value with the reason, and saves it', async () => {
    await page.click('nav >> text=Rules');
    await page.getByTestId('rule-new').click();
    const builder = page.getByTestId('rule-builder');
    await page.getByTestId('rule-name').fill('Evening warmth');
    await page.getByTestId('triggers').getByLabel('kind').selectOption('button');
    await page.getByTestId('trigger-0-device').selectOption('sim_remote-1');
    await page.getByTestId('trigger-0-button').fill('double');
    await page.getByTestId('action-0-device').selectOption('sim_valve-1');
    await page.getByTestId('action-0-attribute').selectOption('climate_target_temperature');
    const value = page.getByTestId('action-0-value');
    expect(await value.getAttribute('max')).toBe('30'); // the radiator's own range
    await value.fill('45');
    await page.getByTestId('builder-check').click();
    const problems = page.getByTestId('builder-problems');
    await problems.waitFor();
    expect(await problems.textContent()).toMatch(/30/);
    await value.fill('22');
    await page.getByTestId('builder-check').click();
    const verdict = page.getByTestId('builder-verdict');
    await verdict.getByText('Looks right.').waitFor();
    expect(await verdict.textContent()).toContain('When Hall remote button double is pressed: set Living room radiator target temperature to 22');
    expect(readFileSync(rulesFile, 'utf8')).toBe(HAND); // a check saves nothing
    await page.screenshot({ path: join(ARTIFACTS, 'rule-builder.png'), fullPage: true });
    await page.getByTestId('builder-save').click();
    await page.getByTestId('rule-evening-warmth').waitFor();
    expect(await builder.count()).toBe(0);
    const text = readFileSync(rulesFile, 'utf8');
    expect(text.startsWith(HAND)).toBe(true);
    expect(parse(text).rules[1]).toEqual({
      id: 'evening-warmth',
      name: 'Evening warmth',
      triggers: [{ device: 'sim_remote-1', event: 'button', button: 'double' }],
      actions: [{ set: { device: 'sim_valve-1', attribute: 'climate_target_temperature', value: 22 } }],
    });
    expect(await page.getByTestId('rule-words-wake').textContent()).toBe('At 06:30: set Living room radiator target temperature to 20');
  });

  it('the saved rule runs when the remote is pressed, and can be changed from its card', async () => {
    await waitFor(() => gw.running.rules.ruleCount === 2, 5_000, 'two rules');
    await sim('remote-1').act('double');
    await waitFor(() => (sim('valve-1').state as { setpoint: number }).setpoint === 22, 10_000, 'the radiator at 22');
    await page.getByTestId('rule-edit-evening-warmth').click();
    const value = page.getByTestId('action-0-value');
    await value.waitFor();
    expect(await value.inputValue()).toBe('22');
    await value.fill('19.5');
    await page.getByTestId('builder-save').click();
    await waitFor(() => parse(readFileSync(rulesFile, 'utf8')).rules[1].actions[0].set.value === 19.5, 10_000, 'the change saved');
    await page.getByTestId('rule-words-evening-warmth').getByText('to 19.5').waitFor();
    expect(readFileSync(rulesFile, 'utf8')).toContain('# my own rule, keep it');
  });

  it('captures a scene from the devices as they are set now, trims it, and runs it', async () => {
    await gw.running.hub.command({ deviceId: 'sim_valve-1', attribute: 'climate_target_temperature', value: 19.5 });
    await waitFor(() => gw.running.hub.state.attributes('sim_valve-1').get('climate_target_temperature')?.value === 19.5, 10_000, 'the radiator at 19.5');
    const capture = page.getByTestId('scene-capture');
    await capture.waitFor();
    await page.getByTestId('scene-name').fill('cosy');
    await page.getByTestId('scene-device-sim_valve-1').check();
    await page.getByTestId('scene-save').click();
    await page
      .getByTestId('scene-note')
      .getByText(/^Saved cosy: \d+ setting/)
      .waitFor();
    const scene = page.getByTestId('scene-cosy');
    await scene.waitFor();
    const steps = parse(readFileSync(rulesFile, 'utf8')).scenes.cosy as Array<{ attribute: string; value: unknown }>;
    expect(steps).toContainEqual({ device: 'sim_valve-1', attribute: 'climate_target_temperature', value: 19.5 });
    const mode = steps.findIndex((st) => st.attribute === 'climate');
    expect(mode).toBeGreaterThanOrEqual(0);
    await page.getByTestId(`scene-cosy-drop-${mode}`).click(); // the mode is not part of it
    await waitFor(
      () => !(parse(readFileSync(rulesFile, 'utf8')).scenes.cosy as Array<{ attribute: string }>).some((st) => st.attribute === 'climate'),
      10_000,
      'the mode left out',
    );
    expect(readFileSync(rulesFile, 'utf8')).toContain('# my own rule, keep it');
    await gw.running.hub.command({ deviceId: 'sim_valve-1', attribute: 'climate_target_temperature', value: 17 });
    await waitFor(() => (sim('valve-1').state as { setpoint: number }).setpoint === 17, 10_000, 'the radiator at 17');
    await page.getByTestId('scene-cosy-run').click();
    await waitFor(() => (sim('valve-1').state as { setpoint: number }).setpoint === 19.5, 10_000, 'the scene set 19.5 again');
  });

  it('a rule from pickers only: the sign plug goes on when the back door opens after 18:00, through the simulated door', async () => {
    // devices that report only when told (the simulated door would open by itself otherwise)
    const shop = new Fleet({
      url: gw.url,
      devices: [
        { kind: 'door', node: 'back-door', name: 'Back door', password: await gw.running.credentials.create('back-door') },
        { kind: 'plug', node: 'sign-plug', name: 'Shop sign', password: await gw.running.credentials.create('sign-plug') },
      ],
      clock: createClock(1),
      reportMs: 86_400_000,
    });
    await shop.start();
    try {
      await waitFor(() => gw.running.registry.get('zigbee2mqtt_back-door') && gw.running.registry.get('sign-plug'), 10_000, 'the door and the sign');
      const signPlug = shop.get('sign-plug') as NonNullable<ReturnType<Fleet['get']>>;
      (signPlug.state as { on: boolean }).on = false;
      signPlug.report();
      await page.reload();
      await page.click('nav >> text=Rules');
      await page.getByTestId('rule-new').click();
      await page.getByTestId('rule-name').fill('Sign on when the back door opens');
      await page.getByTestId('trigger-0-device').selectOption('zigbee2mqtt_back-door');
      await page.getByTestId('trigger-0-attribute').selectOption('contact');
      await page.getByTestId('trigger-0-value').selectOption('true');
      await page.getByTestId('conditions-add').click();
      await page.getByTestId('conditions').getByLabel('kind').selectOption('time');
      await page.getByTestId('conditions').getByLabel('after').fill('18:00');
      await page.getByTestId('conditions').getByLabel('before').fill('23:59');
      await page.getByTestId('action-0-device').selectOption('sign-plug');
      const relay = Object.entries(gw.running.registry.get('sign-plug')?.attributes ?? {}).find(([, a]) => a.type === 'boolean' && a.writable)?.[0] as string;
      await page.getByTestId('action-0-attribute').selectOption(relay);
      await page.getByTestId('action-0-value').selectOption('true');
      await page.getByTestId('builder-save').click();
      await page.getByTestId('rule-sign-on-when-the-back-door-opens').waitFor();
      const text = readFileSync(rulesFile, 'utf8');
      expect(text.startsWith(HAND)).toBe(true); // the hand-written rule and its comment, unchanged
      expect(parse(text).rules.find((r: { id: string }) => r.id === 'sign-on-when-the-back-door-opens')).toMatchObject({
        triggers: [{ device: 'zigbee2mqtt_back-door', attribute: 'contact', to: true }],
        conditions: [{ time: { after: '18:00', before: '23:59' } }],
        actions: [{ set: { device: 'sign-plug', attribute: relay, value: true } }],
      });
      await waitFor(() => gw.running.rules.ruleCount === 3, 5_000, 'the new rule active');
      const backDoor = shop.get('back-door') as NonNullable<ReturnType<Fleet['get']>>;
      (backDoor.state as { contact: boolean }).contact = false; // open
      backDoor.report();
      await waitFor(() => (signPlug.state as { on: boolean }).on === true, 10_000, 'the sign switched on by the rule');
    } finally {
      await shop.stop();
    }
  });
});
