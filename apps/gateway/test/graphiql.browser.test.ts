import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsSkipped, CHROMIUM, launchChromium, serveOnLoopback } from './browser.js';
import { gql, type Harness, startHarness } from './helpers.js';

const results = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
const screenshot = join(results, 'graphiql.png');

if (browserTestsSkipped) {
  // Visible in the run output; in CI a missing Chromium fails below instead.
  console.warn(
    `[graphiql.browser.test] SKIPPED: ${CHROMIUM} not found (install Debian's chromium to run it)`,
  );
}

describe.skipIf(browserTestsSkipped)('GraphiQL in Chromium', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serveOnLoopback>> | undefined;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    h = await startHarness({ config: { server: { graphiql: true } } });
    server = await serveOnLoopback(h.gateway);
    url = `${server.base}/graphql`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await h?.close();
  });

  it('runs the preloaded one-account query and shows instance ids', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const outside: string[] = [];
    // Offline machine: GraphiQL must not need a CDN.
    page.on('request', (request) => {
      const target = request.url();
      const local = ['http://127.0.0.1', 'data:', 'blob:http://127.0.0.1'].some((p) => target.startsWith(p));
      if (!local) outside.push(target);
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.getByText('query OneAccount').first().waitFor({ timeout: 20_000 });
    const answered = page.waitForResponse(
      (r) =>
        r.url().startsWith(url) &&
        r.request().method() === 'POST' &&
        (r.request().postData() ?? '').includes('OneAccount'),
    );
    await page.locator('.graphiql-execute-button').click();
    await answered;
    // The editor renders only the lines in view: compare with the first instance the API returns.
    const api = await gql<{ instances: { nodes: Array<{ id: string }> } }>(
      h.gateway,
      '{ instances(account: "prod", first: 10) { nodes { id } } }',
    );
    const expectedId = api.body.data?.instances.nodes[0]?.id ?? 'missing';
    const result = page.locator('.result-window');
    await result
      .getByText(/"i-[0-9a-f]{17}"/)
      .first()
      .waitFor({ timeout: 20_000 });
    const text = await result.textContent();
    expect(text).toMatch(/"id":\s+"i-[0-9a-f]{17}"/);
    expect(text).toContain(expectedId);
    mkdirSync(dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: false });
    expect(existsSync(screenshot)).toBe(true);
    expect(outside).toEqual([]);
    await page.close();
  });

  it('shows every preloaded comment line whole in a 1400 px window', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url, { waitUntil: 'load' });
    await page.getByText('query OneAccount').first().waitFor({ timeout: 20_000 });
    const tabs = ['OneAccount', 'AllAccounts', 'AccountHealth'];
    await expect.poll(() => page.locator('.graphiql-tab-button').count(), { timeout: 10_000 }).toBe(3);
    for (const tab of tabs) {
      // The tabs are draggable: a synthetic click selects without starting a drag.
      await page.locator('.graphiql-tab-button', { hasText: tab }).dispatchEvent('click');
      const editorText = () => page.locator('.graphiql-query-editor .view-lines').textContent();
      await expect
        .poll(async () => (await editorText())?.replace(/\s+/g, ' '), { timeout: 10_000 })
        .toContain(`query ${tab}`);
      // Each comment line's text against the editor's visible right edge (the toolbar's left).
      const cut = await page.evaluate(() => {
        const editor = document.querySelector('.graphiql-query-editor');
        const toolbar = document.querySelector('.graphiql-toolbar');
        const limit = toolbar?.getBoundingClientRect().left ?? editor?.getBoundingClientRect().right ?? 0;
        const lines = [...(editor?.querySelectorAll('.view-line') ?? [])];
        const comments = lines.filter((l) => (l.textContent ?? '').trimStart().startsWith('#'));
        return {
          comments: comments.length,
          cut: comments
            .filter((l) => {
              const spans = [...l.querySelectorAll('span > span')];
              return spans.some((sp) => sp.getBoundingClientRect().right > limit);
            })
            .map((l) => l.textContent),
        };
      });
      expect(cut.comments, tab).toBeGreaterThanOrEqual(2);
      expect(cut.cut, tab).toEqual([]);
    }
    await page.screenshot({ path: join(results, 'graphiql-comments.png'), fullPage: false });
    await page.close();
  });

  it('builds a query by clicking in the Explorer, runs it and shows the data', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url, { waitUntil: 'load' });
    await page.getByText('query OneAccount').first().waitFor({ timeout: 20_000 });
    // A new, empty tab, then the Explorer from the sidebar (bundled by yoga's GraphiQL, offline).
    await page.locator('.graphiql-tab-add').click();
    await page.locator('.graphiql-sidebar button[aria-label="Show GraphiQL Explorer"]').click();
    const explorer = page.locator('.graphiql-explorer-root');
    await explorer.waitFor({ timeout: 10_000 });
    await explorer.locator('.graphiql-explorer-accounts > span[data-field-name="accounts"]').first().click();
    await explorer
      .locator('.graphiql-explorer-accounts .graphiql-explorer-alias span[data-field-name="alias"]')
      .first()
      .click();
    await explorer
      .locator('.graphiql-explorer-accounts .graphiql-explorer-accountId span[data-field-name="accountId"]')
      .first()
      .click();
    // The editor now holds the query the clicks built.
    const editor = page.locator('.graphiql-query-editor');
    await expect
      .poll(async () => (await editor.textContent())?.replace(/\s+/g, ' '), { timeout: 10_000 })
      .toMatch(/accounts \{ alias accountId \}/);
    const answered = page.waitForResponse(
      (r) =>
        r.url().startsWith(url) &&
        r.request().method() === 'POST' &&
        (r.request().postData() ?? '').includes('accountId'),
    );
    await page.locator('.graphiql-execute-button').click();
    const body = (await (await answered).json()) as {
      data?: { accounts?: Array<{ alias: string; accountId: string }> };
    };
    expect(body.data?.accounts).toEqual([
      { alias: 'prod', accountId: '111111111111' },
      { alias: 'staging', accountId: '222222222222' },
      { alias: 'audit', accountId: '333333333333' },
    ]);
    await page.locator('.result-window').getByText('"333333333333"').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(results, 'graphiql-explorer.png'), fullPage: false });
    await page.close();
  });
});
