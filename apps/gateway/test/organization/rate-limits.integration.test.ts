import { afterEach, describe, expect, it } from 'vitest';
import type { Harness } from '../helpers.js';
import { startOrgHarness } from './org-harness.js';

// The listing account's Organizations bucket, small on both sides: the walk (ListRoots, then
// ListOrganizationalUnitsForParent and ListAccountsForParent for every parent, every page) waits
// for it instead of being throttled and retried.
describe('organization discovery under the rate limiter', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a walk longer than the bucket makes zero throttled calls; without the limiter the same walk is throttled', async () => {
    const spec = { burst: 4, refillPerSecond: 10 };
    h = await startOrgHarness({
      sandbox: { throttling: { organizations: spec } },
      config: { limits: { aws: { organizations: spec } } },
    });
    expect(h.gateway.accounts.status().state).toBe('ready');
    const calls = h.sandbox.admin.calls({ service: 'organizations' });
    expect(calls).toBeGreaterThan(spec.burst);
    expect(h.sandbox.admin.calls({ service: 'organizations', outcome: 'throttled' })).toBe(0);
    await h.close();

    // The control: no client-side bucket, a sandbox bucket that barely refills.
    h = await startOrgHarness({
      sandbox: { throttling: { organizations: { burst: 4, refillPerSecond: 0.5 } } },
      config: { limits: { aws: { organizations: false } } },
      wait: false,
    });
    const until = Date.now() + 20_000;
    while (
      h.sandbox.admin.calls({ service: 'organizations', outcome: 'throttled' }) === 0 &&
      Date.now() < until
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(h.sandbox.admin.calls({ service: 'organizations', outcome: 'throttled' })).toBeGreaterThan(0);
  }, 60_000);
});
