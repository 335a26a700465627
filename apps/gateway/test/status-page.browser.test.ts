import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
const screenshot = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results', 'status-page.png');

if (!available && !inCi) {
  console.warn(
    `[status-page.browser.test] SKIPPED: ${CHROMIUM} not found (install Debian's chromium to run it)`,
  );
}

describe.skipIf(!available && !inCi)('/status in Chromium', () => {
  let h: Harness;
  let server: Server;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    if (!available) throw new Error(`CI=true but ${CHROMIUM} is missing: the browser test must run in CI`);
    h = await startHarness();
    server = createServer(h.gateway);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
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
