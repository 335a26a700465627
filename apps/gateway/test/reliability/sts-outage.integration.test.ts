import type { CredentialEvent, SessionEvent } from '@rolegraph/credentials';
import { demoFixture, type FaultKind } from '@rolegraph/sandbox';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { demoAccounts } from '../../src/demo.js';
import { gql, type Harness, startHarness } from '../helpers.js';
import { FAN_OUT_QUERY, type FanOutData, isComplete } from './support.js';

// STS outages while queries run. Only `Date` is faked, and it is shared by the sandbox (expiry,
// signatures), the SDK signer and the session cache, so jumping the clock expires credentials
// everywhere at once; timers and I/O stay real.
const MINUTE = 60_000;
const PROD = '111111111111';
const STAGING = '222222222222';
const AUDIT = '333333333333';
const readerRole = (account: string) => `arn:aws:iam::${account}:role/RolegraphReader`;

describe('STS outages', () => {
  let h: Harness | undefined;
  let events: SessionEvent[] = [];
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  });
  afterAll(() => {
    vi.useRealTimers();
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    events = [];
  });

  async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
    // No answer cache: every query must use the credentials of the moment (a cached answer needs none).
    h = await startHarness({
      ...options,
      config: { cache: { enabled: false }, ...options.config },
      deps: { clientDefaults: {}, ...options.deps },
    });
    h.gateway.sessions.on((event) => events.push(event));
    return h;
  }
  const eventsOf = (account: string): CredentialEvent[] =>
    events.filter((e) => e.accountId === account).map((e) => e.event);
  // Staggered lifetimes: staging's credentials (15 min) expire during an outage of STS for every
  // role, prod's and audit's (60 min) do not. Answers the full query once before returning.
  async function startStaggered(): Promise<Harness> {
    const harness = await start({
      config: {
        accounts: demoAccounts({ fixture: demoFixture() }).map((a) => ({
          ...a,
          durationSeconds: a.accountId === STAGING ? 900 : 3600,
        })),
      },
    });
    expect(isComplete(await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY))).toBe(true);
    return harness;
  }
  const metric = async (name: string) => h?.gateway.metrics.registry.getSingleMetricAsString(name);

  it.each(['throttle', 'unavailable'] as const)(
    'STS %s for the whole advisory window: zero failed queries, refresh backs off, stale credentials served',
    async (error: FaultKind) => {
      const harness = await start({ durationSeconds: 900 }); // advisory window 5 min, mandatory 1 min
      const startedAt = Date.now();
      expect(isComplete(await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY))).toBe(true);
      expect(harness.sandbox.admin.calls({ operation: 'AssumeRole' })).toBe(3);
      harness.sandbox.admin.setFault({ service: 'sts', operation: 'AssumeRole', error });

      // Walk through the advisory window (10 to 14 minutes of 15) with queries at every step.
      const failures: unknown[] = [];
      let ok = 0;
      let afterFirstStep = 0;
      for (const [i, at] of [10.25, 11, 12, 13, 13.9].entries()) {
        vi.setSystemTime(startedAt + at * MINUTE);
        const results = await Promise.all(
          Array.from({ length: 3 }, () => gql<FanOutData>(harness.gateway, FAN_OUT_QUERY)),
        );
        for (const r of results) {
          if (isComplete(r)) ok++;
          else failures.push(r.body.errors ?? r.body);
        }
        if (i === 0) afterFirstStep = harness.sandbox.admin.calls({ operation: 'AssumeRole' });
      }
      expect(failures).toEqual([]);
      expect(ok).toBe(15);
      // One refresh per account tried STS (the STS client retries it), then backed off: no more
      // AssumeRole for the rest of the window.
      const refreshAttempts = afterFirstStep - 3;
      expect(refreshAttempts).toBe(3 * 3); // 3 accounts x the STS client's 3 attempts
      expect(harness.sandbox.admin.calls({ operation: 'AssumeRole' })).toBe(afterFirstStep);

      for (const account of [PROD, STAGING, AUDIT]) {
        const seen = eventsOf(account);
        const failed = seen.filter((e) => e.type === 'refresh-failed');
        expect(failed).toEqual([expect.objectContaining({ reason: 'advisory', recoverable: true })]);
        const backoffs = seen.filter((e) => e.type === 'backoff');
        expect(backoffs).toHaveLength(1);
        const backoffMs = backoffs[0]?.type === 'backoff' ? backoffs[0].backoffMs : 0;
        expect(backoffMs).toBeGreaterThanOrEqual(5 * MINUTE);
        expect(backoffMs).toBeLessThanOrEqual(10 * MINUTE);
        const stale = seen.filter((e) => e.type === 'served-stale');
        expect(stale[0]).toMatchObject({ cause: 'refresh-failed', expired: false });
        expect(stale.some((e) => e.type === 'served-stale' && e.cause === 'backoff' && !e.expired)).toBe(
          true,
        );
      }
      // The same story on /metrics and in the log.
      expect(await metric('rolegraph_gateway_credential_refreshes_total')).toContain(
        'reason="advisory",outcome="error"} 3',
      );
      expect(await metric('rolegraph_gateway_sts_calls_total')).toContain('outcome="error"} 3');
      const served = /rolegraph_gateway_credentials_served_stale_total (\d+)/.exec(
        (await metric('rolegraph_gateway_credentials_served_stale_total')) ?? '',
      );
      expect(Number(served?.[1])).toBeGreaterThanOrEqual(3);
      const refreshFailures = harness.logs.filter((l) => l.msg === 'credential refresh failed');
      expect(refreshFailures).toHaveLength(3);
      expect(refreshFailures[0]).toMatchObject({
        level: 'warn',
        reason: 'advisory',
        code: 'ASSUME_ROLE_FAILED',
      });
      expect(harness.logs.filter((l) => l.msg === 'graphql error')).toEqual([]);
      console.info(
        `STS ${String(error)} through the advisory window: ${ok} queries ok, ${refreshAttempts} AssumeRole tries then backoff, ${served?.[1]} stale serves`,
      );

      // STS returns; once every backoff is over the next query refreshes and answers in full.
      harness.sandbox.admin.clearFaults();
      vi.setSystemTime(startedAt + 20.5 * MINUTE);
      expect(isComplete(await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY))).toBe(true);
      expect(harness.sandbox.admin.calls({ operation: 'AssumeRole' })).toBe(afterFirstStep + 3);
      for (const account of [PROD, STAGING, AUDIT]) {
        expect(eventsOf(account).at(-1)).toMatchObject({ type: 'refresh-succeeded', reason: 'expired' });
      }
    },
  );

  it('STS down past expiry: only the expired account fails, with a typed retryable error; it recovers without a restart', async () => {
    const harness = await startStaggered();
    const startedAt = Date.now();
    harness.sandbox.admin.setFault({ service: 'sts', operation: 'AssumeRole', error: 'unavailable' });

    vi.setSystemTime(startedAt + 16 * MINUTE);
    const started = performance.now();
    const r = await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY);
    const elapsed = performance.now() - started;
    const [prod, staging, audit] = r.body.data?.accounts ?? [];
    expect(prod?.instances?.nodes).toHaveLength(10);
    expect(prod?.buckets?.nodes).toHaveLength(5);
    expect(audit?.instances?.nodes).toHaveLength(10);
    expect(audit?.buckets?.nodes).toHaveLength(5);
    expect(staging).toEqual({ alias: 'staging', instances: null, buckets: null });
    // Stale credentials are served through the outage; the services reject them as expired.
    // The code says so and that retrying later helps; which call failed, where, and AWS's code.
    expect(r.body.errors?.map((e) => [e.path, e.extensions])).toEqual([
      [
        ['accounts', 1, 'instances'],
        expect.objectContaining({
          code: 'AWS_CREDENTIALS_EXPIRED',
          retryable: true,
          account: 'staging',
          accountId: STAGING,
          awsCode: 'RequestExpired',
        }),
      ],
      [
        ['accounts', 1, 'buckets'],
        expect.objectContaining({
          code: 'AWS_CREDENTIALS_EXPIRED',
          retryable: true,
          account: 'staging',
          accountId: STAGING,
          awsCode: 'ExpiredToken',
        }),
      ],
    ]);
    expect(r.body.errors?.[0]?.message).toMatch(
      /^DescribeInstances failed in account 222222222222, region us-east-1: RequestExpired$/,
    );
    expect(elapsed).toBeLessThan(5_000);
    expect(eventsOf(STAGING).some((e) => e.type === 'served-stale' && e.expired)).toBe(true);
    expect(eventsOf(PROD).filter((e) => e.type === 'refresh-started')).toHaveLength(1); // the initial one
    expect(harness.sandbox.admin.calls({ operation: 'AssumeRole', roleArn: readerRole(PROD) })).toBe(1);
    expect(harness.sandbox.admin.calls({ operation: 'AssumeRole', roleArn: readerRole(STAGING) })).toBe(
      1 + 3,
    );

    // STS returns: once the backoff is over the account answers again, same gateway.
    harness.sandbox.admin.clearFaults();
    vi.setSystemTime(startedAt + 27 * MINUTE);
    expect(isComplete(await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY))).toBe(true);
    expect(eventsOf(STAGING).at(-1)).toMatchObject({ type: 'refresh-succeeded' });
    expect(harness.sandbox.admin.calls({ operation: 'AssumeRole', roleArn: readerRole(STAGING) })).toBe(
      1 + 3 + 1,
    );
    expect(eventsOf(PROD).some((e) => e.type === 'refresh-failed')).toBe(false);
  });

  it('STS down past one account’s expiry: it answers again within 60 s of STS returning, the others never fail', async () => {
    // The default recovery probe (one per source principal, every 20-40 s) on real timers; Date is
    // faked with shouldAdvanceTime, so the sandbox clock moves with real time after each jump.
    const harness = await startStaggered();
    const startedAt = Date.now();
    const stagingAssumes = () =>
      harness.sandbox.admin.calls({ operation: 'AssumeRole', roleArn: readerRole(STAGING) });
    harness.sandbox.admin.setFault({ service: 'sts', operation: 'AssumeRole', error: 'unavailable' });
    vi.setSystemTime(startedAt + 16 * MINUTE); // staging's 15 min credentials have expired

    const othersFailed: unknown[] = [];
    const query = async () => {
      const r = await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY);
      const [prod, staging, audit] = r.body.data?.accounts ?? [];
      for (const other of [prod, audit]) if (other?.instances?.nodes.length !== 10) othersFailed.push(other);
      return staging?.instances?.nodes.length === 10 && staging.buckets?.nodes.length === 5;
    };
    // The outage goes on for a while: staging fails, its refresh backs off 5-10 min.
    const outageStarted = performance.now();
    while (performance.now() - outageStarted < 5_000) {
      expect(await query()).toBe(false);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const outageMs = performance.now() - outageStarted;
    const failedRefreshes = eventsOf(STAGING).filter((e) => e.type === 'refresh-failed').length;
    const probesInOutage = eventsOf(STAGING).filter((e) => e.type === 'probe').length;
    expect(failedRefreshes).toBe(1 + probesInOutage); // the refresh that backed off, then one per probe
    expect(probesInOutage).toBeLessThanOrEqual(Math.ceil(outageMs / 20_000));
    // At most one per probe plus one per backoff, each tried 3 times by the STS client.
    expect(stagingAssumes()).toBe(1 + 3 * failedRefreshes);

    harness.sandbox.admin.clearFaults();
    const returnedAt = Date.now(); // the sandbox clock
    while (!(await query())) {
      expect(Date.now() - returnedAt).toBeLessThan(60_000);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const recoveredInMs = Date.now() - returnedAt;
    expect(recoveredInMs).toBeLessThan(60_000);
    expect(eventsOf(STAGING)).toContainEqual(
      expect.objectContaining({ type: 'refresh-succeeded', reason: 'probe' }),
    );
    expect(othersFailed).toEqual([]);
    expect(eventsOf(PROD).some((e) => e.type === 'refresh-failed')).toBe(false);
    console.info(
      `STS down past staging's expiry: ${probesInOutage} probes in ${Math.round(outageMs)} ms of outage, staging answered ${recoveredInMs} ms (sandbox clock) after STS returned`,
    );
  }, 90_000);

  it('STS down at a cold start: CREDENTIALS_UNAVAILABLE, retryable; the first query after STS returns answers', async () => {
    const harness = await start({
      sandbox: { faults: [{ service: 'sts', operation: 'AssumeRole', error: 'unavailable' }] },
    });
    const r = await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY);
    expect(r.body.data?.accounts.map((a) => [a.instances, a.buckets])).toEqual([
      [null, null],
      [null, null],
      [null, null],
    ]);
    expect(r.body.errors).toHaveLength(6);
    for (const e of r.body.errors ?? []) {
      expect(e.extensions).toMatchObject({
        code: 'CREDENTIALS_UNAVAILABLE',
        retryable: true,
        awsCode: 'ServiceUnavailable',
      });
    }
    // Nothing cached, so no backoff: STS is asked again as soon as it is back.
    harness.sandbox.admin.clearFaults();
    expect(isComplete(await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY))).toBe(true);
  });
});
