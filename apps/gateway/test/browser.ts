import { existsSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium: the only browser these tests drive (no browser download here). */
export const CHROMIUM = '/usr/bin/chromium';
/** Under CI=true a missing Chromium fails the browser tests instead of skipping them. */
export const browserTestsSkipped = !existsSync(CHROMIUM) && process.env.CI !== 'true';

/**
 * Headless Chromium with the flags this offline machine needs: background networking off, or
 * Chromium keeps trying hosts it cannot reach.
 */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`CI=true but ${CHROMIUM} is missing: the browser tests must run in CI`);
  }
  return chromium.launch({
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
}

/** A handler on 127.0.0.1 and an ephemeral port: its base URL and how to stop it. */
export async function serveOnLoopback(
  handler: RequestListener,
): Promise<{ base: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
