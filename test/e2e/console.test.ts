import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBrokerAccount } from '../../fleet/broker/embedded.ts';
import { People } from '../../fleet/people.ts';
import { startTestFleet, type TestFleet } from '../fleet/testFleet.ts';
import { axeAudit } from '../helpers/axe.ts';
import { launchChromium } from '../helpers/browser.ts';
import { TempDirs } from '../helpers/tempDir.ts';

/**
 * The fleet console in headless Chromium against a real trellis-fleet, with a gateway's records
 * arriving through its broker: a dispatcher on a wide screen sees an alarm appear live, acknowledges
 * it and assigns the ticket it opened; the technician on a phone sees only that ticket and resolves
 * it; another technician sees none. Screenshots go to test-artifacts/console/.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');
const PASSWORD = 'a long enough password';
const dirs = new TempDirs();
let f: TestFleet;
let gw: MqttClient;
let browser: Browser;
const cspViolations: string[] = [];

async function open(viewport: { width: number; height: number }, mobile = false): Promise<Page> {
  const page = await browser.newPage({ viewport, deviceScaleFactor: mobile ? 2 : 1, isMobile: mobile, hasTouch: mobile });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(msg.text())) cspViolations.push(msg.text());
  });
  return page;
}

async function signIn(page: Page, name: string): Promise<void> {
  await page.goto(`${f.fleet.apiUrl}/`);
  await page.fill('#name', name);
  await page.fill('#password', PASSWORD);
  await page.click('[data-testid=signin-submit]');
}

const envelope = (seq: number, type: string, data: unknown) => JSON.stringify({ v: 1, key: `gw-1:${seq}`, seq, gatewayId: 'gw-1', type, at: Date.now(), data });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  f = await startTestFleet(dirs, {
    // this suite signs in more than the default 10 times a minute from one address (the limit is tested in test/fleet/api.test.ts)
    api: { host: '127.0.0.1', port: 0, signInPerMinute: 60 },
    checks: { everySeconds: 0.2 },
    tickets: { autoOpen: [{ code: 'rule.fridge-door-open', title: 'Check the fridge door', priority: 'high' }] },
  });
  const people = new People(f.fleet.db);
  await people.add('dee', 'dispatcher', PASSWORD);
  await people.add('tess', 'technician', PASSWORD);
  await people.add('tom', 'technician', PASSWORD);
  await addBrokerAccount(f.fleet.db, 'gw-1', 'gw-1-secret', Date.now());
  gw = connect(f.fleet.brokerUrl as string, { username: 'gw-1', password: 'gw-1-secret', clientId: 'gw-1', protocolVersion: 4 });
  await new Promise((r) => gw.once('connect', r));
  await gw.publishAsync('trellis/v1/gw-1/status', JSON.stringify({ v: 1, gatewayId: 'gw-1', state: 'online', at: Date.now() }), { qos: 1, retain: true });
  await gw.publishAsync(
    'trellis/v1/gw-1/p/coolco/manifest',
    JSON.stringify({
      v: 1,
      gatewayId: 'gw-1',
      at: Date.now(),
      timeZone: 'Europe/Berlin',
      devices: [{ deviceId: 'd-fridge', model: 'sim-fridge', capabilities: ['door', 'setpoint'], commands: ['setpoint'], classes: ['alerts'], online: true }],
    }),
    { qos: 1, retain: true },
  );
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.endAsync();
  await f?.stop();
  dirs.cleanup();
});

describe('the fleet console', () => {
  it('a dispatcher sees an alarm arrive live, acknowledges it and assigns its ticket; the technician resolves it on a phone', async () => {
    const desk = await open({ width: 1280, height: 800 });
    await signIn(desk, 'dee');
    await desk.getByTestId('site-gw-1').waitFor();
    expect(await desk.getByTestId('tile-sites-online').textContent()).toContain('1');
    expect(await desk.getByTestId('tile-warnings').textContent()).toContain('0');
    expect(await desk.getByText('Loading').count()).toBe(0);
    await desk.getByTestId('live-status').getByText('Live').waitFor();

    await gw.publishAsync(
      'trellis/v1/gw-1/p/coolco/alert',
      envelope(1, 'alert', {
        severity: 'warning',
        message: 'Fridge door held open for 2 minutes',
        source: 'rule',
        ruleId: 'fridge-door-open',
        deviceId: 'd-fridge',
        at: Date.now(),
      }),
      { qos: 1 },
    );
    // no reload, and well before the page's 30-second timer: the live stream told it
    await desk.getByTestId('tile-warnings').getByText('1', { exact: true }).waitFor({ timeout: 10_000 });
    await desk.screenshot({ path: join(ARTIFACTS, '1-overview.png'), fullPage: true });

    await desk.click('a[href="#/alarms"]');
    const alarm = desk.locator('[data-testid^=alarm-]').first();
    await alarm.waitFor();
    expect(await alarm.textContent()).toContain('Rule "fridge-door-open"');
    expect(await alarm.textContent()).toContain('Fridge door held open for 2 minutes');
    await desk.screenshot({ path: join(ARTIFACTS, '2-alarms.png'), fullPage: true });
    await alarm.getByRole('button', { name: 'Acknowledge' }).click();
    await alarm.getByText('Acknowledged by dispatcher:dee').waitFor();

    await desk.click('a[href="#/tickets"]');
    const card = desk.getByTestId('column-open').locator('[data-testid^=ticket-]').first();
    await card.waitFor({ timeout: 10_000 });
    expect(await card.textContent()).toContain('Check the fridge door');
    const id = (await card.getAttribute('data-testid'))?.replace('ticket-', '') as string;
    await desk.getByTestId(`assign-${id}`).selectOption({ label: 'tess' });
    await desk.getByTestId('column-assigned').getByTestId(`ticket-${id}`).waitFor();
    await desk.screenshot({ path: join(ARTIFACTS, '3-board.png'), fullPage: true });

    const phone = await open({ width: 390, height: 844 }, true);
    await signIn(phone, 'tess');
    await phone.getByRole('heading', { name: 'My tickets' }).waitFor();
    expect(await phone.locator('[data-testid^=ticket-]').count()).toBe(1);
    await phone.getByTestId(`when-${id}`).fill('2030-01-02T09:30');
    await phone.getByTestId(`schedule-${id}`).click();
    await phone.getByText(/^Visit /).waitFor();
    await phone.getByTestId(`start-${id}`).click();
    await phone.getByTestId(`code-${id}`).fill('door-seal-replaced');
    await phone.screenshot({ path: join(ARTIFACTS, '4-phone-ticket.png'), fullPage: true });
    await phone.getByTestId(`resolve-${id}`).click();
    await phone.getByText('Resolved: door-seal-replaced').waitFor();
    await desk.getByTestId('column-resolved').getByTestId(`ticket-${id}`).waitFor({ timeout: 10_000 }); // live, too

    const other = await open({ width: 390, height: 844 }, true);
    await signIn(other, 'tom');
    await other.getByText('No open tickets.').waitFor();
    expect(cspViolations).toEqual([]);
  }, 90_000);

  it('a dispatcher opens a ticket from an alarm, and clears another by hand', async () => {
    const desk = await open({ width: 1280, height: 800 });
    await signIn(desk, 'dee');
    await gw.publishAsync(
      'trellis/v1/gw-1/p/coolco/alert',
      envelope(2, 'alert', { severity: 'critical', message: 'Compressor ran 97% of the hour', source: 'maintenance', deviceId: 'd-fridge', at: Date.now() }),
      { qos: 1 },
    );
    await gw.publishAsync(
      'trellis/v1/gw-1/p/coolco/alert',
      envelope(3, 'alert', { severity: 'warning', message: 'Gateway clock corrected', source: 'gateway', at: Date.now() }),
      { qos: 1 },
    );
    await desk.click('a[href="#/alarms"]');
    const compressor = desk.locator('[data-testid^=alarm-]', { hasText: 'Compressor ran 97% of the hour' });
    await compressor.waitFor({ timeout: 15_000 });
    await compressor.getByRole('button', { name: 'Open a ticket' }).click();
    const clock = desk.locator('[data-testid^=alarm-]', { hasText: 'Gateway clock corrected' });
    await clock.getByRole('button', { name: 'Clear' }).click();
    await clock.waitFor({ state: 'detached', timeout: 10_000 });
    await desk.click('a[href="#/tickets"]');
    const ticket = desk.getByTestId('column-open').locator('[data-testid^=ticket-]', { hasText: 'Compressor ran 97% of the hour' });
    await ticket.waitFor();
    expect(await ticket.textContent()).toContain('high priority');
    expect(cspViolations).toEqual([]);
  }, 60_000);

  it("shows a device's maintenance signals in words and over time against its baseline, and sends it a command after a confirmation", async () => {
    const hourAgo = Date.now() - 3 * 3_600_000;
    for (const [i, value] of [0.5, 0.61, 0.92].entries())
      await gw.publishAsync(
        'trellis/v1/gw-1/p/coolco/maintenance/d-fridge',
        envelope(10 + i, 'maintenance', {
          deviceId: 'd-fridge',
          signal: 'duty_cycle',
          attribute: 'compressor',
          value,
          unit: 'ratio',
          threshold: 0.85,
          exceeded: value > 0.85,
          baseline: 0.55,
          at: hourAgo + i * 3_600_000,
        }),
        { qos: 1 },
      );
    const desk = await open({ width: 1280, height: 900 });
    await signIn(desk, 'dee');
    await desk.getByRole('heading', { name: 'Overview' }).waitFor();
    await desk.goto(`${f.fleet.apiUrl}/#/device?site=gw-1&ref=d-fridge`);
    const signal = desk.getByTestId('signal-duty_cycle');
    await signal.waitFor({ timeout: 10_000 });
    expect(await signal.textContent()).toContain('Compressor running 92% of the hour (usual: 55%), limit 85%');
    expect(await signal.textContent()).toContain('3 readings in 30 days · over its limit');
    const chart = desk.getByTestId('chart-duty_cycle-compressor');
    expect(await chart.locator('canvas').count()).toBe(1);
    expect(await chart.textContent()).toContain('Compressor running, % of the hour');
    expect(await chart.locator('.u-legend').textContent()).toMatch(/this device.*its usual.*limit/);

    await desk.getByTestId('command-attribute').selectOption('setpoint');
    await desk.getByTestId('command-value').fill('5');
    await desk.getByTestId('command-send').click();
    const dialog = desk.getByRole('dialog', { name: 'Confirm the command' });
    expect(await dialog.textContent()).toContain('Set setpoint to 5 on d-fridge at gw-1?');
    await desk.getByTestId('command-confirm').click();
    await desk.locator('[data-testid^=command-c-]', { hasText: 'setpoint = 5' }).waitFor({ timeout: 10_000 });
    await desk.screenshot({ path: join(ARTIFACTS, '6-device.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
  }, 40_000);

  it('ranks the devices most likely to fail, says what drove each score, and opens a ticket for one from the ranking', async () => {
    const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
    const scored = [
      ['d-fridge', 'sim-fridge', 6.2, 'duty', 3.5, null, 'Compressor running 9 points more of the day than 3 weeks ago (its peers: 0.4)'],
      ['d-coffee', 'sim-espresso', 2.4, 'energyPerUnit', null, 0.62, 'Energy per cup up 12% on 3 weeks ago (its peers: 1%)'],
      ['d-fridge-2', 'sim-fridge', 0.3, null, null, null, 'Nothing stands out from its peers'],
    ] as const;
    for (const [ref, model, score, driver, eta, chance, words] of scored)
      await f.fleet.db.query(
        `INSERT INTO device_risk (gateway_id, device_ref, day, model, score, driver, trend, peers_median, peers, eta_days, fail_chance, chance_days, words, computed_at)
         VALUES ('gw-1', $1, $2, $3, $4, $5, NULL, NULL, 12, $6, $7, $8, $9, $10)`,
        [ref, day, model, score, driver, eta, chance, chance === null ? null : 5, words, Date.now()],
      );
    // an older day's score is not today's ranking
    await f.fleet.db.query(
      `INSERT INTO device_risk (gateway_id, device_ref, day, model, score, peers, words, computed_at) VALUES ('gw-1', 'd-old', $1, 'sim-fridge', 9, 12, 'old', $2)`,
      [day - 86_400_000, Date.now()],
    );
    const desk = await open({ width: 1280, height: 800 });
    await signIn(desk, 'dee');
    await desk.click('a[href="#/maintenance"]');
    const rows = desk.locator('[data-testid^=risk-gw-1-]');
    await rows.first().waitFor({ timeout: 10_000 });
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')))).toEqual([
      'risk-gw-1-d-fridge',
      'risk-gw-1-d-coffee',
      'risk-gw-1-d-fridge-2',
    ]);
    const first = desk.getByTestId('risk-gw-1-d-fridge');
    expect(await first.textContent()).toContain('Compressor running 9 points more of the day than 3 weeks ago');
    expect(await first.textContent()).toContain('about 4 days');
    expect(await first.locator('td.bad').count()).toBe(1);
    expect(await desk.getByTestId('risk-chance-d-coffee').textContent()).toBe('62 % chance within 5 days');
    expect(await desk.getByTestId('risk-chance-d-fridge').count()).toBe(0);
    await desk.getByTestId('filter-model').selectOption('sim-espresso');
    await desk.getByTestId('risk-gw-1-d-fridge').waitFor({ state: 'detached' });
    expect(await rows.count()).toBe(1);
    await desk.getByTestId('risk-open-d-coffee').click();
    const link = desk.getByTestId('risk-ticket-d-coffee');
    await link.waitFor({ timeout: 10_000 });
    expect(await link.textContent()).toMatch(/^#\d+ \(open\)$/);
    const [ticket] = await f.fleet.db.query<{ title: string; notes: string }>("SELECT title, notes FROM tickets WHERE device_ref = 'd-coffee'");
    expect(ticket).toEqual({ title: 'Inspect: maintenance trend', notes: 'Energy per cup up 12% on 3 weeks ago (its peers: 1%)' });
    await desk.screenshot({ path: join(ARTIFACTS, '7-maintenance.png'), fullPage: true });
    // a technician's menu has no ranking, and its API refuses one
    const tech = await open({ width: 390, height: 800 }, true);
    await signIn(tech, 'tom');
    await tech.getByRole('heading', { name: 'Tickets' }).waitFor();
    expect(await tech.locator('header nav').textContent()).not.toContain('Maintenance');
    const token = await tech.evaluate(() => sessionStorage.getItem('trellis-fleet.token'));
    expect(token).toBeTruthy();
    const refused = await fetch(`${f.fleet.apiUrl}/api/maintenance/risk`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(403);
    expect(cspViolations).toEqual([]);
  }, 40_000);

  it('an admin adds a person, who can then sign in with that role', async () => {
    const desk = await open({ width: 1280, height: 800 });
    await desk.goto(`${f.fleet.apiUrl}/`);
    await desk.fill('#name', 'admin');
    await desk.fill('#password', f.fleet.firstAdminPassword as string);
    await desk.click('[data-testid=signin-submit]');
    await desk.click('a[href="#/people"]');
    await desk.getByTestId('new-name').fill('bill');
    await desk.getByTestId('new-role').selectOption('billing');
    await desk.getByTestId('new-password').fill(PASSWORD);
    await desk.getByTestId('add-person').click();
    await desk.getByTestId('user-bill').waitFor();
    const billing = await open({ width: 1280, height: 800 });
    await signIn(billing, 'bill');
    await billing.getByRole('heading', { name: 'Overview' }).waitFor();
    expect(await billing.locator('header nav').textContent()).toBe('OverviewUsage');

    // the audit page tells the whole session's story in words, live
    await desk.click('a[href="#/audit"]');
    const rows = desk.locator('[data-testid^=audit-]');
    await rows.filter({ hasText: 'added bill as billing' }).waitFor();
    const story = await desk.locator('table').textContent();
    for (const line of [
      /dee \(dispatcher\)acknowledged alarm \d+done/,
      /dee \(dispatcher\)assigned ticket \d+ to tessdone/,
      /tess \(technician\)resolved ticket \d+ \(door-seal-replaced\)done/,
      /dee \(dispatcher\)cleared alarm \d+done/,
    ])
      expect(story).toMatch(line);
    expect(story).not.toContain(PASSWORD);
    await desk.getByTestId('filter-kind').selectOption('session');
    await rows.filter({ hasText: 'added bill as billing' }).waitFor({ state: 'detached' }); // filtered out
    const sessions = await rows.allTextContents();
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.every((t) => /signed (in|out)|tried to sign in/.test(t))).toBe(true);
    await desk.getByTestId('filter-kind').selectOption('');
    await rows.filter({ hasText: 'added bill as billing' }).waitFor(); // the whole log again
    const n = await rows.count();
    const failed = await fetch(`${f.fleet.apiUrl}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'mallory', password: 'guess' }),
    });
    expect(failed.status).toBe(401);
    await rows.filter({ hasText: 'tried to sign in as "mallory"' }).waitFor({ timeout: 10_000 }); // live: no reload
    expect(await rows.count()).toBe(n + 1);
    await desk.screenshot({ path: join(ARTIFACTS, '5-audit.png'), fullPage: true });
    expect(cspViolations).toEqual([]);
  }, 40_000);

  it('has no serious or critical axe violation on any page, on a wide screen and on a phone', async () => {
    const found: string[] = [];
    // axe is injected as a script: this page bypasses the CSP (the tests above check it holds)
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    await page.goto(`${f.fleet.apiUrl}/`);
    await page.locator('#name').waitFor();
    found.push(...(await axeAudit(page, 'sign-in')));
    await page.fill('#name', 'admin');
    await page.fill('#password', f.fleet.firstAdminPassword as string);
    await page.click('[data-testid=signin-submit]');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    for (const [size, viewport] of [
      ['wide', { width: 1280, height: 800 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      await page.setViewportSize(viewport);
      for (const hash of [
        'overview',
        'sites',
        'site?id=gw-1',
        'device?site=gw-1&ref=d-fridge',
        'alarms',
        'tickets',
        'maintenance',
        'usage',
        'commands',
        'people',
        'audit',
      ]) {
        await page.evaluate((h) => {
          location.hash = h;
        }, `#/${hash}`);
        await page.locator('main h1').first().waitFor();
        await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading'), undefined, { timeout: 10_000 });
        found.push(...(await axeAudit(page, `${size} ${hash}`)));
      }
    }
    await page.close();
    expect(found).toEqual([]);
  }, 90_000);
});
