import { generateFixture } from '@rolegraph/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from '../helpers.js';

// The sandbox's AWS-like buckets ON (STS 100 + 20/s per calling account, EC2 100 + 20/s per
// account, region and action), the gateway in sandbox mode so its limiter mirrors them, and the
// harness's single SDK attempt: one throttled answer would fail its field.
const ACCOUNTS = 100;
const REGIONS = ['us-east-1', 'eu-west-1'];
const QUERY = `{ accounts { alias instances(first: 10) { nodes { id region } } } }`;

interface Data {
  accounts: Array<{ alias: string; instances: { nodes: Array<{ id: string; region: string }> } | null }>;
}

describe(`rate limits over ${ACCOUNTS} accounts x ${REGIONS.length} regions, sandbox throttling on`, () => {
  let h: Harness;
  const calls = (filter: Record<string, string> = {}) => h.sandbox.admin.calls(filter);
  const throttled = () => h.sandbox.admin.calls({ outcome: 'throttled' });

  beforeAll(async () => {
    h = await startHarness({
      sandbox: {
        fixture: generateFixture({
          accounts: ACCOUNTS,
          regions: REGIONS,
          instancesPerRegion: 2,
          bucketsPerAccount: 0,
          seed: 13,
        }),
        throttling: true,
      },
      config: {
        aws: { sandbox: {} },
        // What reaches AWS is what is measured: no answer cache in front of it.
        cache: { enabled: false },
        server: { queryTimeoutMs: 120_000 },
        limits: { maxCost: 10_000_000, maxAwsCalls: 10_000 },
      },
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('cold then warm: every account answers, zero throttled calls, exactly the minimum of calls', async () => {
    for (const run of ['cold', 'warm']) {
      const r = await gql<Data>(h.gateway, QUERY);
      expect(r.body.errors, run).toBeUndefined();
      const accounts = r.body.data?.accounts ?? [];
      expect(accounts).toHaveLength(ACCOUNTS);
      expect(accounts.every((a) => a.instances?.nodes.length === 2 * REGIONS.length)).toBe(true);
      expect(throttled(), run).toBe(0);
    }
    // 100 AssumeRole from one source principal: more than its bucket's burst of 95 (100 less the
    // 5% reserve), so some of them waited for the refill instead of being throttled.
    expect(calls({ service: 'sts', operation: 'AssumeRole' })).toBe(ACCOUNTS);
    expect(calls({ service: 'ec2', operation: 'DescribeInstances' })).toBe(2 * ACCOUNTS * REGIONS.length);
    expect(h.gateway.limits.stats()).toMatchObject({ throttled: 0 });
    expect(h.gateway.limits.stats().waited).toBeGreaterThanOrEqual(ACCOUNTS - 95);
  }, 120_000);

  it("repeated queries beyond one account's EC2 bucket wait for it instead of being throttled", async () => {
    h.sandbox.admin.reset();
    const alias = (await gql<Data>(h.gateway, '{ accounts { alias } }')).body.data?.accounts[7]?.alias;
    if (!alias) throw new Error('no account');
    const one = `{ instances(account: "${alias}", region: "us-east-1", first: 5) { nodes { id } } }`;
    const QUERIES = 150;
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: QUERIES }, () => gql<Data>(h.gateway, one)));
    const elapsedMs = performance.now() - started;
    expect(results.filter((r) => r.body.errors !== undefined)).toEqual([]);
    expect(calls({ service: 'ec2', operation: 'DescribeInstances' })).toBe(QUERIES);
    expect(throttled()).toBe(0);
    // Over the bucket's 95 (100 less the reserve): the other 55 came at 20 per second at most.
    expect(elapsedMs).toBeGreaterThanOrEqual(((QUERIES - 95) / 20) * 1000 - 200);
  }, 120_000);

  it('a throttle that still arrives (another client shares the account) drains that bucket only', async () => {
    h.sandbox.admin.reset();
    const aliases = (await gql<Data>(h.gateway, '{ accounts { alias } }')).body.data?.accounts.map(
      (a) => a.alias,
    );
    const [hit, other] = [aliases?.[3], aliases?.[4]];
    if (!hit || !other) throw new Error('no accounts');
    const before = h.gateway.limits.stats().throttled;
    // One forced throttle of the first account's call, as if another tool had emptied its bucket.
    const accountId = (
      await gql<{ account: { accountId: string } }>(h.gateway, `{ account(account: "${hit}") { accountId } }`)
    ).body.data?.account.accountId;
    if (!accountId) throw new Error('no account id');
    h.sandbox.admin.setFault({
      service: 'ec2',
      account: accountId,
      region: 'us-east-1',
      error: 'throttle',
      times: 1,
    });
    try {
      const q = (name: string) =>
        `{ instances(account: "${name}", region: "us-east-1", first: 5) { nodes { id } } }`;
      const failed = await gql(h.gateway, q(hit));
      // The harness allows one attempt: the throttle reaches the caller as AWS_THROTTLED ...
      expect(failed.body.errors?.[0]?.extensions).toMatchObject({ code: 'AWS_THROTTLED', accountId });
      expect(h.gateway.limits.stats().throttled).toBe(before + 1);
      // ... the other account's bucket is untouched: its call goes at once and answers.
      const ok = await gql(h.gateway, q(other));
      expect(ok.body.errors).toBeUndefined();
      // ... and the throttled bucket answers again after its pause.
      const again = await gql(h.gateway, q(hit));
      expect(again.body.errors).toBeUndefined();
    } finally {
      h.sandbox.admin.clearFaults();
    }
  }, 60_000);
});
