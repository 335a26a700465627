import { afterEach, describe, expect, it } from 'vitest';
import { gql, type Harness, startHarness } from '../helpers.js';
import { FAN_OUT_QUERY, isComplete, pause } from './support.js';

// Latency spikes beyond server.queryTimeoutMs: the answer is QUERY_TIMEOUT at the deadline, the
// request's AWS calls are aborted, and no AWS call starts after the deadline.
// The deadline leaves a warm fan-out query (36 calls) room to finish on a loaded 2-core machine.
const TIMEOUT_MS = 1_000;
const SPIKE_MS = 4_000;

describe('latency spikes beyond the query timeout', () => {
  let h: Harness | undefined;
  /** QUERY_TIMEOUT errors counted on /metrics so far. */
  const timeouts = async () => {
    const text =
      (await h?.gateway.metrics.registry.getSingleMetricAsString('rolegraph_gateway_graphql_errors_total')) ??
      '';
    return Number(/code="QUERY_TIMEOUT"} (\d+)/.exec(text)?.[1] ?? 0);
  };
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('ends the query with QUERY_TIMEOUT at the deadline (well before the spike ends) and starts no AWS call after it', async () => {
    // No answer cache: the timed query must really wait on the slow AWS calls.
    h = await startHarness({ config: { server: { queryTimeoutMs: TIMEOUT_MS }, cache: { enabled: false } } });
    // Warm: credentials cached and SDK clients built (a cold first query may itself take
    // longer than the deadline), so the spike below only hits EC2 and S3.
    let warm = false;
    for (let i = 0; i < 10 && !warm; i++) warm = isComplete(await gql(h.gateway, FAN_OUT_QUERY));
    expect(warm).toBe(true);
    h.sandbox.admin.reset();
    h.sandbox.admin.setLatency({ ec2: { fixedMs: SPIKE_MS }, s3: { fixedMs: SPIKE_MS } });
    const timeoutsBefore = await timeouts();

    const started = performance.now();
    const r = await gql(h.gateway, FAN_OUT_QUERY);
    const elapsed = performance.now() - started;
    const atDeadline = h.sandbox.admin.calls();

    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_500);
    expect(r.status).toBe(200);
    expect(r.body.data).toBeNull();
    expect(r.body.errors).toEqual([
      {
        message: `The query did not finish within ${TIMEOUT_MS} ms; its AWS calls were cancelled`,
        extensions: { code: 'QUERY_TIMEOUT', retryable: true, timeoutMs: TIMEOUT_MS },
      },
    ]);
    // The first wave (DescribeInstances of each account's first region, ListBuckets per account)
    // was in flight at the deadline; the rest needs its answers and never starts.
    expect(h.sandbox.admin.calls({ operation: 'DescribeInstances' })).toBe(3);
    expect(h.sandbox.admin.calls({ operation: 'ListBuckets' })).toBe(3);
    expect(atDeadline).toBe(6);
    // Were the calls in flight really cancelled? Their answers would arrive after SPIKE_MS and
    // unlock the second wave (security groups, volumes, tags); the counters stay flat instead.
    await pause(SPIKE_MS + 500);
    expect(h.sandbox.admin.calls()).toBe(atDeadline);
    expect(await timeouts()).toBe(timeoutsBefore + 1);

    // The spike passes: the same gateway answers in full again.
    h.sandbox.admin.setLatency({});
    expect(isComplete(await gql(h.gateway, FAN_OUT_QUERY))).toBe(true);
  });

  it('also bounds a query stuck on a slow STS (credentials not cached yet)', async () => {
    h = await startHarness({
      config: { server: { queryTimeoutMs: TIMEOUT_MS } },
      sandbox: { latency: { sts: { fixedMs: SPIKE_MS } } },
    });
    const started = performance.now();
    const r = await gql(h.gateway, '{ instances(account: "prod", region: "us-east-1") { nodes { id } } }');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 1_500);
    expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TIMEOUT']);
    expect(h.sandbox.admin.calls({ service: 'ec2' })).toBe(0);
    // The shared refresh is not the request's to cancel: it completes and the next query is fast.
    await pause(SPIKE_MS + 300);
    const again = await gql<{ instances: { nodes: unknown[] } }>(
      h.gateway,
      '{ instances(account: "prod", region: "us-east-1") { nodes { id } } }',
    );
    expect(again.body.errors).toBeUndefined();
    expect(again.body.data?.instances.nodes).toHaveLength(5);
    expect(h.sandbox.admin.calls({ operation: 'AssumeRole' })).toBe(1);
  });

  it('a query within the deadline is untouched, and the default deadline is 30 s', async () => {
    h = await startHarness();
    expect(h.gateway).toBeDefined();
    const { parseConfig } = await import('../../src/config/load-config.js');
    const minimal = {
      accounts: [{ alias: 'x', roleArn: 'arn:aws:iam::123456789012:role/Reader', regions: ['us-east-1'] }],
    };
    expect((await parseConfig(minimal)).server.queryTimeoutMs).toBe(30_000);
    h.sandbox.admin.setLatency({ ec2: { fixedMs: 50 }, s3: { fixedMs: 50 } });
    expect(isComplete(await gql(h.gateway, FAN_OUT_QUERY))).toBe(true);
  });
});
