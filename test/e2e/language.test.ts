import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../firmware-sim/fleet.ts';
import { launchChromium } from '../helpers/browser.ts';
import { pairWithCode } from '../helpers/phone.ts';
import { startSimFleet } from '../helpers/simFleet.ts';
import { TempDirs } from '../helpers/tempDir.ts';
import { startTestGateway, type TestGateway, waitFor } from '../helpers/testGateway.ts';

/**
 * The app's language: a phone set to Chinese gets Simplified Chinese from the start (pairing, the
 * tabs, the home screen, a lock's state); the People page switches to English and back, kept on
 * that phone. Screenshots go to test-artifacts/phone/.
 */
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'phone');
const dirs = new TempDirs();
let gw: TestGateway;
let fleet: Fleet;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  gw = await startTestGateway({}, dirs);
  fleet = await startSimFleet(gw, [{ kind: 'lock', node: 'lock-1', name: 'Back door' }]);
  await waitFor(() => gw.running.hub.state.attributes('sim_lock-1').get('lock')?.value === 'locked', 15_000, 'the lock');
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop();
  await gw?.stop();
  dirs.cleanup();
});

describe('languages', () => {
  it('a phone set to Chinese gets the app in Simplified Chinese, and switches to English and back', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
    const page = await context.newPage();
    try {
      await page.goto(`${gw.lanUrl}/`);
      await page.getByRole('button', { name: '配对这部手机' }).waitFor();
      expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-Hans');
      await pairWithCode(page, gw);
      await page.getByTestId('device-sim_lock-1').waitFor();
      const nav = await page.locator('nav.tabs a').allTextContents();
      expect(nav).toEqual(['首页', '能耗', '警报', '规则', '人员', '隐私', '状态']);
      expect(await page.getByTestId('value-sim_lock-1-lock').textContent()).toBe('已上锁');
      expect(await page.getByTestId('device-sim_lock-1').textContent()).toContain('滑动以解锁Back door');
      await page.screenshot({ path: join(ARTIFACTS, 'chinese-home.png'), fullPage: true });
      await page.click('nav >> text=人员');
      await page.getByTestId('language').selectOption('en');
      await page.locator('nav.tabs a', { hasText: 'Home' }).waitFor();
      expect(await page.locator('nav.tabs a').allTextContents()).toEqual(['Home', 'Energy', 'Alerts', 'Rules', 'People', 'Privacy', 'Status']);
      await page.reload(); // kept on this phone
      await page.locator('nav.tabs a', { hasText: 'People' }).waitFor();
      await page.getByTestId('language').selectOption('zh');
      await page.locator('nav.tabs a', { hasText: '首页' }).waitFor();
      // the other pages too
      await page.click('nav >> text=规则');
      await page.getByRole('button', { name: '新建规则' }).click();
      await page.getByTestId('rule-builder').getByText('仅当').waitFor();
      await page.click('nav >> text=隐私');
      await page.getByRole('button', { name: '下载所有数据' }).waitFor();
      await page.click('nav >> text=状态');
      await page.getByText('在线设备').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, 'chinese-status.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
