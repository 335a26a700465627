import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { gql, type Harness, startHarness } from './helpers.js';

// Credentials expire again and again while queries keep coming. Only `Date` is faked, and it
// is shared by the sandbox (expiry, signature checks), the SDK (signing) and the session
// cache, so a 15-minute credential lifetime passes in one jump without clock skew. Timers
// and I/O stay real.
const MINUTE = 60_000;
const QUERY =
  '{ accounts { alias instances(first: 100) { nodes { id } } buckets { nodes { name tags { key } } } } }';

describe('queries across credential expiry (e2e)', () => {
  let h: Harness;
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    h = await startHarness({
      durationSeconds: 900,
      // No answer cache: every query must sign AWS calls with the account's current credentials
      // (and answers served from memory would never yield to the timers that end a round).
      config: { cache: { enabled: false } },
      deps: { clientDefaults: { maxAttempts: 3 }, refresh: { proactiveRefresh: false } },
    });
  });
  afterAll(async () => {
    await h?.close();
    vi.useRealTimers();
  });

  it('zero failed queries and one AssumeRole per account per credential lifetime', async () => {
    const accounts = 3;
    let ok = 0;
    const failures: unknown[] = [];
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Three workers query back to back for `ms`, then finish their in-flight query. The clock
    // only jumps between rounds: a request signed before a 16-minute jump and checked after it
    // would be refused for clock skew (over 15 minutes), which no real clock does mid-request.
    const round = async (ms: number) => {
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const r = await gql<{ accounts: Array<{ instances: { nodes: unknown[] } | null }> }>(
            h.gateway,
            QUERY,
          );
          const complete = r.body.data?.accounts.every((a) => a.instances?.nodes.length === 10);
          if (r.status !== 200 || r.body.errors || !complete) failures.push(r.body.errors ?? r.body);
          else ok++;
        }
      };
      const workers = [worker(), worker(), worker()];
      await pause(ms);
      stop = true;
      await Promise.all(workers);
    };
    await round(300);
    // Alternate: into the advisory window (4 of 15 minutes left) and past expiry (the first
    // callers wait for the one refresh).
    const jumps = [11, 16, 11, 16, 11, 16];
    for (const minutes of jumps) {
      vi.setSystemTime(Date.now() + minutes * MINUTE);
      await round(400);
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(jumps.length * 3);
    const lifetimes = 1 + jumps.length;
    expect(h.sandbox.admin.calls({ operation: 'AssumeRole' })).toBe(accounts * lifetimes);
    for (const account of ['111111111111', '222222222222', '333333333333']) {
      expect(
        h.sandbox.admin.calls({
          operation: 'AssumeRole',
          roleArn: `arn:aws:iam::${account}:role/RolegraphReader`,
        }),
      ).toBe(lifetimes);
    }
  }, 60_000);
});

describe('several real credential lifetimes in seconds (aws.sandbox.allowShortSessions)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      sandbox: { allowShortSessions: true },
      durationSeconds: 2,
      // No answer cache: every query must use the credentials of the moment.
      config: { aws: { sandbox: { allowShortSessions: true } }, cache: { enabled: false } },
      deps: { clientDefaults: { maxAttempts: 3 } },
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('2 s credentials, real clock: queries for 7 s never fail, about one AssumeRole per account per lifetime', async () => {
    const failures: unknown[] = [];
    let ok = 0;
    const started = performance.now();
    while (performance.now() - started < 7_000) {
      const r = await gql<{ accounts: Array<{ instances: { nodes: unknown[] } | null }> }>(h.gateway, QUERY);
      const complete = r.body.data?.accounts.every((a) => a.instances?.nodes.length === 10);
      if (r.status !== 200 || r.body.errors || !complete) failures.push(r.body.errors ?? r.body);
      else ok++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    // A 2 s lifetime is shorter than every refresh window, so credentials are used until they
    // expire and the next query refreshes: a 7 s run crosses at least 3 lifetimes per account.
    const perAccount = h.sandbox.admin.calls({
      operation: 'AssumeRole',
      roleArn: 'arn:aws:iam::111111111111:role/RolegraphReader',
    });
    expect(perAccount).toBeGreaterThanOrEqual(3);
    expect(perAccount).toBeLessThanOrEqual(8);
  }, 30_000);
});
