import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDayStart, localLabel } from '../../gateway/metering/hours.ts';
import { launchChromium } from '../helpers/browser.ts';
import { pairedPhone } from '../helpers/phone.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway } from '../helpers/testGateway.ts';

/**
 * The energy view in headless Chromium as a shop owner reads it: yesterday's closed hours of a heat
 * pump plug (8 kWh at the default price, 1 kWh in the peak window) and a fridge that was silent for
 * two hours. The total, the cost with the tariff prices, the biggest consumer first, the missing hours
 * said in words, and a week with the days that have no data shown as "no data", never as 0 kWh.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'phone');
const HOUR = 3_600_000;
const dirs = new TempDirs();
let gw: TestGateway;
let browser: Browser;
let page: Page;
const csp: string[] = [];

const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const bucket = (deviceId: string, start: number, wh: number) =>
  JSON.stringify({
    deviceId,
    start,
    end: start + HOUR,
    localStart: localLabel(start, 'UTC'),
    metrics: { energy: { role: 'energy', unit: 'Wh', delta: wh, resets: 0, rollovers: 0, samples: 60 } },
    gaps: [],
    offlineSeconds: 0,
  });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gw = await startTestGateway(
    { timezone: 'UTC', tariffs: { peak: { from: '17:00', to: '20:00' } }, energy: { currency: 'EUR', price: 0.25, prices: { peak: 0.4 } } },
    dirs,
  );
  for (const [id, name] of [
    ['heatpump-plug', 'Heat pump plug'],
    ['dairy-fridge', 'Dairy fridge'],
  ] as const)
    gw.running.hub.describe({ id, name, protocol: 'mqtt', owner: id, attributes: { energy: { type: 'number', unit: 'Wh', writable: false } } });
  const day = localDayStart(yesterday, 'UTC');
  const insert = gw.running.db.prepare('INSERT INTO usage_buckets (device_id, start, end, data) VALUES (?, ?, ?, ?)');
  for (let h = 0; h < 24; h++) {
    const start = day + h * HOUR;
    insert.run('heatpump-plug', start, start + HOUR, bucket('heatpump-plug', start, h >= 8 && h < 16 ? 1000 : h === 18 ? 1000 : 0));
    if (h !== 3 && h !== 4) insert.run('dairy-fridge', start, start + HOUR, bucket('dairy-fridge', start, 100));
  }
  browser = await launchChromium();
  page = await pairedPhone(browser, gw, { options: { timezoneId: 'UTC' } });
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(msg.text())) csp.push(msg.text());
  });
  await page.getByTestId('device-heatpump-plug').waitFor();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  dirs.cleanup();
});

describe('energy and costs on the phone', () => {
  it("shows yesterday's energy, its cost by tariff, the biggest consumer first and the hours without data", async () => {
    await page.click('nav >> text=Energy');
    await page.getByRole('button', { name: 'earlier' }).click();
    await page.getByTestId('energy-range').getByText(yesterday).waitFor();
    const total = page.getByTestId('energy-total');
    await total.getByText('11.2 kWh').waitFor(); // 9 kWh of the plug + 2.2 of the fridge
    expect(await total.textContent()).toMatch(/Peak: 1\.30 kWh \(€0\.52\)/); // 1 kWh of the plug + 0.3 of the fridge at 0.40
    expect(await page.getByTestId('energy-missing').textContent()).toContain('No data for 2 hours');
    const rows = await page.getByTestId('energy-devices').locator('.row').allTextContents();
    expect(rows[0]).toMatch(/^Heat pump plug.*9\.00 kWh€2\.40$/); // 8 kWh x 0.25 + 1 kWh x 0.40
    expect(rows[1]).toMatch(/^Dairy fridge.*no data for 2 hours/);
    await page.screenshot({ path: join(ARTIFACTS, 'energy-day.png'), fullPage: true });
  });

  it('shows a week day by day, a day without data as "no data", never as 0 kWh', async () => {
    await page.getByTestId('energy-week').click();
    const days = page.getByTestId('energy-days');
    await days.waitFor();
    const rows = await days.locator('tr').allTextContents();
    expect(rows.find((r) => r.startsWith(yesterday))).toMatch(/11\.2 kWh/);
    for (const r of rows.filter((x) => x.slice(0, 10) < yesterday)) expect(r).toMatch(/^\d{4}-\d\d-\d\d–$/); // before anything was metered
    expect(rows.some((r) => /\b0\.00 kWh/.test(r))).toBe(false);
    expect(csp).toEqual([]);
  });
});
