import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import type { TestGateway } from './testGateway.ts';

/** A phone-sized page (390x844) on the gateway's app, paired with the first-start code as the owner `name`; page errors go to the test's output. */
export async function pairedPhone(browser: Browser, gw: TestGateway, o: { name?: string; options?: BrowserContextOptions } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, ...o.options });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${gw.lanUrl}/`);
  await pairWithCode(page, gw, o.name);
  await page.locator('nav.tabs').waitFor();
  return page;
}

/** On the pairing page: the gateway's first-start code, the owner's name, submit. */
export async function pairWithCode(page: Page, gw: TestGateway, name = 'Olive'): Promise<void> {
  await page.fill('#code', gw.running.lan?.pairingCode ?? '');
  await page.fill('#name', name);
  await page.click('[data-testid=pair-submit]');
}
