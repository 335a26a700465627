import { type FaultKind, seededRandom } from '@rolegraph/sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import { type GraphQLResponse, gql, type Harness, startHarness } from '../helpers.js';
import { FAN_OUT_QUERY, type FanOutData, isComplete } from './support.js';

// EC2 and S3 failing a share of calls (throttling or 503), with the gateway's own retry policy
// (`deps.clientDefaults` left empty: no maxAttempts override). The sandbox's dice are seeded.
const QUERIES = 12;
const WORKERS = 3;
/** Service calls of one warm FAN_OUT_QUERY without faults: 6 + 6 + 6 EC2, 3 + 15 S3. */
const WARM_EC2 = 18;
const WARM_S3 = 18;
/** The gateway's attempts per AWS call (createAwsRetryStrategy's default). */
const ATTEMPTS = 8;

describe('EC2 and S3 throttling and 503 bursts', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function start(error: FaultKind, probability: number, seed: number): Promise<Harness> {
    const harness = await startHarness({
      sandbox: {
        random: seededRandom(seed),
        faults: [
          { service: 'ec2', error, probability },
          { service: 's3', error, probability },
        ],
      },
      deps: { clientDefaults: {} },
      // Every query must meet the faults: no answer cache, so no answer from memory, no sharing.
      config: { cache: { enabled: false } },
    });
    h = harness;
    return harness;
  }

  // A call fails only when all 8 attempts fail: 0.3^8, about 1 call in 15 000. The 12 queries
  // make 432 calls, so about 1 run in 35 has one call that exhausts its retries. The requests
  // race for the sandbox's (seeded) dice, so which calls fail is not fixed from run to run.
  // Hence: at most one query may lose a field, and then only with a typed, retryable error.
  it.each(['throttle', 'unavailable'] as const)(
    '%s on 30 percent of EC2 and S3 calls: queries succeed through retries (a failure needs 8 in a row)',
    async (error) => {
      const harness = await start(error, 0.3, 7);
      const responses: GraphQLResponse<FanOutData>[] = [];
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          while (next++ < QUERIES) responses.push(await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY));
        }),
      );
      const elapsed = performance.now() - started;
      expect(responses).toHaveLength(QUERIES);
      const incomplete = responses.filter((r) => !isComplete(r));
      expect(incomplete.length).toBeLessThanOrEqual(1);
      for (const r of incomplete) {
        expect(r.status).toBe(200);
        for (const e of r.body.errors ?? []) {
          expect(['AWS_THROTTLED', 'AWS_UNAVAILABLE']).toContain(e.extensions?.code);
          expect(e.extensions?.retryable).toBe(true);
        }
      }
      // The faults really fired, and were retried: more calls than a fault-free run needs.
      const ec2 = harness.sandbox.admin.calls({ service: 'ec2' });
      const s3 = harness.sandbox.admin.calls({ service: 's3' });
      const retries = ec2 + s3 - QUERIES * (WARM_EC2 + WARM_S3);
      expect(retries).toBeGreaterThan(0.2 * QUERIES * (WARM_EC2 + WARM_S3));
      console.info(
        `30% ${error}: ${QUERIES - incomplete.length} of ${QUERIES} fan-out queries complete, ${ec2 + s3} EC2+S3 calls (${retries} retries) in ${Math.round(elapsed)} ms`,
      );
    },
  );

  it.each([
    ['throttle', 'AWS_THROTTLED', ['RequestLimitExceeded', 'SlowDown']],
    ['unavailable', 'AWS_UNAVAILABLE', ['Unavailable', 'ServiceUnavailable']],
  ] as const)(
    '%s on every EC2 and S3 call: typed, retryable %s errors after a bounded retry, never a hang',
    async (error, code, awsCodes) => {
      const harness = await start(error, 1, 11);
      const started = performance.now();
      const r = await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY);
      const elapsed = performance.now() - started;
      // 7 full-jitter waits capped at 0.2, 0.4, 0.8, 1.6, 2, 2, 2 s: at most 9 s per call.
      expect(elapsed).toBeLessThan(12_000);
      expect(r.status).toBe(200);
      expect(r.body.data?.accounts.map((a) => [a.alias, a.instances, a.buckets])).toEqual([
        ['prod', null, null],
        ['staging', null, null],
        ['audit', null, null],
      ]);
      const errors = r.body.errors ?? [];
      expect(errors).toHaveLength(6);
      for (const e of errors) {
        expect(e.extensions).toMatchObject({ code, retryable: true });
        expect(awsCodes).toContain(e.extensions?.awsCode);
        expect(e.message).toMatch(/^(DescribeInstances|ListBuckets) failed in account \d{12}/);
      }
      // Each call was retried, up to ATTEMPTS tries (the SDK's retry quota may stop one early),
      // then given up on; nothing else was started: regions are listed in order, so an account
      // whose first region fails is not listed further (3 DescribeInstances, not 6).
      const describes = harness.sandbox.admin.calls({ operation: 'DescribeInstances' });
      const lists = harness.sandbox.admin.calls({ operation: 'ListBuckets' });
      expect(describes).toBeGreaterThanOrEqual(3 * (ATTEMPTS - 1));
      expect(describes).toBeLessThanOrEqual(3 * ATTEMPTS);
      expect(lists).toBeGreaterThanOrEqual(3 * (ATTEMPTS - 1));
      expect(lists).toBeLessThanOrEqual(3 * ATTEMPTS);
      expect(
        harness.sandbox.admin.calls({ service: 'ec2' }) + harness.sandbox.admin.calls({ service: 's3' }),
      ).toBe(describes + lists);
      console.info(
        `100% ${error}: ${code} in ${Math.round(elapsed)} ms; ${describes} DescribeInstances tries for 3 calls, ${lists} ListBuckets tries for 3`,
      );

      // The burst ends: the same gateway answers in full.
      harness.sandbox.admin.clearFaults();
      expect(isComplete(await gql<FanOutData>(harness.gateway, FAN_OUT_QUERY))).toBe(true);
    },
  );
});
