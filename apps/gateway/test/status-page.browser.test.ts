import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsSkipped, CHROMIUM, launchChromium, serveOnLoopback } from './browser.js';
import { gql, type Harness, startHarness } from './helpers.js';

const screenshot = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results', 'status-page.png');

if (browserTestsSkipped) {
  console.warn(
    `[status-page.browser.test] SKIPPED: ${CHROMIUM} not found (install Debian's chromium to run it)`,
  );
}

describe.skipIf(browserTestsSkipped)('/status in Chromium', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveOnLoopback>> | undefined;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    h = await startHarness();
    server = await serveOnLoopback(h.gateway);
    base = server.base;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.close();
  });

  it('shows a healthy account, a failing one and an unused one at a glance', async () => {
    await gql(
      h.gateway,
      '{ account(account: "prod") { instances(region: "us-east-1") { nodes { id volumes { id } } } } }',
    );
    h.sandbox.admin.setFault({ service: 'ec2', error: 'throttle' });
    try {
      await gql(
        h.gateway,
        '{ account(account: "audit") { instances(region: "us-east-1") { nodes { id } } } }',
      );
    } finally {
      h.sandbox.admin.clearFaults();
    }
    const page = await browser.newPage({ viewport: { width: 1400, height: 500 } });
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(base)) outside.push(request.url());
    });
    const response = await page.goto(`${base}/status`);
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.locator('tbody tr').count()).toBe(3);
    const prod = page.locator('tr[data-account="prod"]');
    expect(await prod.locator('td').nth(0).textContent()).toBe('fresh');
    expect(Number(await prod.locator('td').nth(4).textContent())).toBeGreaterThanOrEqual(2);
    expect(await page.locator('tr[data-account="audit"] td').nth(5).textContent()).toContain(
      'RequestLimitExceeded',
    );
    expect(await page.locator('tr[data-account="audit"]').getAttribute('class')).toBe('bad');
    expect(await page.locator('tr[data-account="staging"] td').nth(0).textContent()).toBe('no session yet');
    // The whole table fits a 1400 px window: nothing cut on the right.
    const width = await page.evaluate(
      () => document.querySelector('table')?.getBoundingClientRect().right ?? 0,
    );
    expect(width).toBeLessThanOrEqual(1400);
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(outside).toEqual([]);
    await page.close();
  });
});
